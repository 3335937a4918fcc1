#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_mobility.sh: make-before-break and break-before-make on a direct
# association (RFC 8046 readdressing). venus streams TCP to earth's LSI;
# meanwhile venus gains a new address and loses the old one, then loses its
# only link for a second and comes back with yet another address. venus's daemon announces its locators
# in a HIP UPDATE, earth checks the new address with an echo and follows, and
# the TCP stream finishes without the application seeing an error. A ping
# running alongside measures the interruption.
#
#          sw (bridge br0, 10.77.6.0/24)
#     +-----------+
#   earth .2    venus .1 -> .11
#
# Needs root; exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

IDLOCD=${IDLOCD:?set IDLOCD to the idlocd binary}
IDLOC=${IDLOC:?set IDLOC to the idloc binary}

require_root
require_cmd ip python3 ping
lib_init

conf()
{
	local n=$1 boot=$2
	mkdir -p "$TEST_TMP/$n"
	{
		printf '[overlay]\ndomain = mob.internal\n'
		[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
		printf '[peer]\nname = %s\nstate-dir = %s/%s/state\ncontrol = %s/%s/ctl.sock\n' \
			"$n" "$TEST_TMP" "$n" "$TEST_TMP" "$n"
		printf '[dns]\nupstream = none\nconfigure = none\n'
	} >"$TEST_TMP/$n/idloc.conf"
}

ctl()
{
	local n=$1
	shift
	ns_exec "$n" "$IDLOC" -s "$TEST_TMP/$n/ctl.sock" "$@"
}

field()
{
	ctl "$1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"
}

bridge_create sw
ns_create earth
ns_create venus
bridge_attach sw earth 10.77.6.2/24
bridge_attach sw venus 10.77.6.1/24
# The new address is a secondary in the same subnet: it must survive the
# removal of the primary.
ns_exec venus sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
conf earth ""
conf venus 10.77.6.2:10500
ns_spawn earth "$TEST_TMP/earth/idlocd.log" "$TEST_TMP/earth/idlocd.log" \
	"$IDLOCD" -c "$TEST_TMP/earth/idloc.conf"
wait_for_udp_port earth 10500 10
ns_spawn venus "$TEST_TMP/venus/idlocd.log" "$TEST_TMP/venus/idlocd.log" \
	"$IDLOCD" -c "$TEST_TMP/venus/idloc.conf"
wait_for_log "$TEST_TMP/earth/idlocd.log" "association with .* at 10.77.6.1:10500 established" 20
earth_lsi=$(field earth lsi)
venus_hit=$(field venus hit)

# stream ROUND: a TCP stream from venus to earth's LSI, spread over 8 s, with
# a ping from earth to venus's HIT alongside; run_move then moves venus.
stream()
{
	local round=$1
	tcp_sink earth "$earth_lsi" 9000 "$TEST_TMP/earth/received$round"
	sleep 0.5
	tcp_source venus "$earth_lsi" 9000 400 "$TEST_TMP/venus/source$round.log"
	source_pid=$SPAWNED_PID
	ns_spawn earth "$TEST_TMP/earth/ping$round.log" "$TEST_TMP/earth/ping$round.log" \
		ping -6 -i 0.1 -c 80 -W 1 "$venus_hit"
	ping_pid=$SPAWNED_PID
}

# verify ROUND ADDRESS WHAT
verify()
{
	local round=$1 addr=$2 what=$3 rc=0 lost
	wait "$source_pid" || rc=$?
	check "$what: the TCP stream finished without an error (exit $rc)" test "$rc" -eq 0
	wait "$ping_pid" || true
	wait_for_file "$TEST_TMP/earth/received$round" || true
	check "$what: earth received every byte" \
		test "$(cat "$TEST_TMP/earth/received$round" 2>/dev/null)" = 400000
	check "$what: earth followed venus to $addr" \
		wait_for_log "$TEST_TMP/earth/idlocd.log" "moved to $addr:10500 \\(address verified\\)" 5
	lost=$(ping_lost "$TEST_TMP/earth/ping$round.log")
	echo "$what: interruption about $((lost * 100)) ms ($lost of 80 pings at 100 ms lost)"
	check "$what: the ping across the move lost at most 3 s" test "$lost" -ge 0 -a "$lost" -le 30
}

# An interactive session (what ssh looks like to the network) across both
# moves: a line every 200 ms, each echoed back by earth before the next.
ns_spawn earth "$TEST_TMP/earth/echo.log" "$TEST_TMP/earth/echo.log" socat \
	"TCP-LISTEN:9100,bind=$earth_lsi,reuseaddr" EXEC:cat
sleep 0.5
echo_session venus "$earth_lsi" 9100 30 "$TEST_TMP/venus/session.log"
session_pid=$SPAWNED_PID

stream 1
sleep 2
ip -n "$(ns venus)" addr add 10.77.6.11/24 dev eth0
ip -n "$(ns venus)" addr del 10.77.6.1/24 dev eth0
verify 1 10.77.6.11 "make-before-break"

stream 2
sleep 2
ip -n "$(ns venus)" link set eth0 down
sleep 1
ip -n "$(ns venus)" addr flush dev eth0
ip -n "$(ns venus)" addr add 10.77.6.21/24 dev eth0
ip -n "$(ns venus)" link set eth0 up
verify 2 10.77.6.21 "break-before-make"
rc=0
wait "$session_pid" || rc=$?
check "the interactive session survived both moves (exit $rc: $(tail -1 "$TEST_TMP/venus/session.log"))" \
	test "$rc" -eq 0

finish
