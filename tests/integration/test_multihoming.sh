#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_multihoming.sh: a peer with two uplinks (RFC 8047 style failover).
# venus reaches earth through two "providers" (two links to router r, a
# default route on each, the first preferred). With a TCP stream and a ping
# running over the association, venus's preferred uplink fails (link down):
# venus announces the locator it has left in an UPDATE, earth verifies the
# new address with an echo and follows. Checked: traffic resumes within 3 s,
# the stream finishes without an error, and the association is the same one
# (no new base exchange: one "established" for venus in earth's log, the
# same SPIs).
#
#   venus up1 10.77.11.1 ---- .254 r .254 ---- 10.77.13.2 earth
#         up2 10.77.12.1 ---- .254
#
# Needs root; exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR source=natlib.sh
source "$here/natlib.sh"

IDLOCD=${IDLOCD:?set IDLOCD to the idlocd binary}
IDLOC=${IDLOC:?set IDLOC to the idloc binary}
NAT_DOMAIN=mh.internal

require_root
require_cmd ip python3 ping
lib_init

ns_create venus
ns_create r
ns_create earth
link()
{
	local a=$1 aif=$2 aaddr=$3 b=$4 bif=$5 baddr=$6
	ip -n "$(ns "$a")" link add "$aif" type veth peer name "$bif" netns "$(ns "$b")"
	ip -n "$(ns "$a")" addr add "$aaddr" dev "$aif"
	ip -n "$(ns "$b")" addr add "$baddr" dev "$bif"
	ip -n "$(ns "$a")" link set "$aif" up
	ip -n "$(ns "$b")" link set "$bif" up
}
link venus up1 10.77.11.1/24 r v1 10.77.11.254/24
link venus up2 10.77.12.1/24 r v2 10.77.12.254/24
link earth eth0 10.77.13.2/24 r e0 10.77.13.254/24
ns_exec r sysctl -qw net.ipv4.ip_forward=1
ip -n "$(ns venus)" route add default via 10.77.11.254 metric 100
ip -n "$(ns venus)" route add default via 10.77.12.254 metric 200
ip -n "$(ns earth)" route add default via 10.77.13.254

idlocd_conf earth ""
idlocd_conf venus "10.77.13.2:10500"
idlocd_start earth
wait_for_udp_port earth 10500 10
idlocd_start venus
check "venus and earth associated over venus's first uplink" \
	wait_for_log "$TEST_TMP/earth/idlocd.log" "association with .* at 10.77.11.1:10500 established" 30
earth_lsi=$(idloc_ctl earth status --json | json_field lsi)
venus_hit=$(idloc_ctl venus status --json | json_field hit)
spi_line()
{
	grep -o "association with $venus_hit at [0-9.:]* established (ESP SPI in 0x[0-9a-f]* out 0x[0-9a-f]*)" \
		"$TEST_TMP/earth/idlocd.log" | grep -o 'SPI.*'
}
spis=$(spi_line)

tcp_sink earth "$earth_lsi" 9000 "$TEST_TMP/earth/received"
sleep 0.5
tcp_source venus "$earth_lsi" 9000 400 "$TEST_TMP/venus/source.log"
source_pid=$SPAWNED_PID
ns_spawn earth "$TEST_TMP/earth/ping.log" "$TEST_TMP/earth/ping.log" \
	ping -6 -i 0.1 -c 80 -W 1 "$venus_hit"
ping_pid=$SPAWNED_PID

check "venus advertised both uplinks to earth (2 locators)" \
	wait_for_log "$TEST_TMP/venus/idlocd.log" "2 locator\\(s\\) announced to" 5
sleep 2
ip -n "$(ns venus)" link set up1 down

rc=0
wait "$source_pid" || rc=$?
check "the TCP stream finished without an error (exit $rc)" test "$rc" -eq 0
wait "$ping_pid" || true
wait_for_file "$TEST_TMP/earth/received" || true
check "earth received every byte" test "$(cat "$TEST_TMP/earth/received" 2>/dev/null)" = 400000
check "earth follows venus to its second uplink (address verified)" \
	wait_for_log "$TEST_TMP/earth/idlocd.log" "moved to 10.77.12.1:10500 \\(address verified\\)" 5
lost=$(ping_lost "$TEST_TMP/earth/ping.log")
echo "failover: interruption about $((lost * 100)) ms ($lost of 80 pings at 100 ms lost)"
check "traffic failed over within 3 s" test "$lost" -ge 0 -a "$lost" -le 30
check "no new base exchange: venus was established once, with the same SPIs" \
	test "$(grep -c "association with $venus_hit at .* established" "$TEST_TMP/earth/idlocd.log")" -eq 1 -a \
	"$(spi_line)" = "$spis"

finish
