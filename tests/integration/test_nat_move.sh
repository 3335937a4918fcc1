#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nat_move.sh: a host behind a NAT moves behind a different NAT while a
# TCP stream and an interactive session run over its pipe. venus (behind
# home1) has a pipe to mars (behind mhome); venus gains a link into home2's
# LAN, its default route moves there, and its first link goes down (a laptop
# moving from one Wi-Fi to another). The pipe's ICE path hung on the old
# address: venus sets the pipe up again with a new base exchange through the
# overlay (new keys, new candidates; docs/hip.md "Pipes that move"). Checked:
# the stream and the session finish without an error, the new path goes to
# mars's router and mars sees venus behind home2; the interruption is
# measured with a ping.
#
#                 inet (bridge br0, 10.77.100.0/24)
#     +------------+------------+------------+-------------+
#   earth .1   stun .3     home1 .11     home2 .13      mhome .12   (eim NATs)
#                            |             |              |
#                  venus 10.77.101.2 -> 10.77.103.2     mars 10.77.102.2
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
NAT_DOMAIN=move.internal

require_root
require_cmd turnserver socat ping python3
nat_require
lib_init

EARTH=10.77.100.1
STUN=10.77.100.3
HOME1=10.77.100.11
MHOME=10.77.100.12
HOME2=10.77.100.13
nat_internet
nat_public earth "$EARTH"
nat_public stun "$STUN"
nat_router home1 "$HOME1" 101 eim
nat_router mhome "$MHOME" 102 eim
nat_router home2 "$HOME2" 103 eim
nat_peer home1 venus 10.77.101.2
nat_peer mhome mars 10.77.102.2
coturn_start stun "$STUN"

ice="[ice]\nstun = $STUN:$COTURN_PORT"
idlocd_conf earth ""
idlocd_conf venus "$EARTH:10500" "$ice"
idlocd_conf mars "$EARTH:10500" "$ice"
idlocd_start earth
wait_for_udp_port earth 10500 10
idlocd_start mars
check "mars joined the overlay" idlocd_wait_joined mars 60
check "mars registered its name" \
	wait_for_log "$TEST_TMP/mars/idlocd.log" "name 'mars.$NAT_DOMAIN' registered" 30
idlocd_start venus
check "venus joined the overlay" idlocd_wait_joined venus 60
mars_hit=$(idloc_ctl mars status --json | json_field hit)
venus_hit=$(idloc_ctl venus status --json | json_field hit)
mars_lsi=$(idloc_ctl mars status --json | json_field lsi)
check "venus reaches mars's HIT through a pipe" \
	retry 60 ns_exec venus ping -6 -c 1 -W 2 "$mars_hit"
# Usually a pipe (srflx); sometimes the two meet on their daemon ports (each
# router let the other's I1 in because its own host had just sent there): a
# direct association, listed "host". Both must survive the move.
check "venus lists mars ESTABLISHED (srflx, prflx, or host on the daemon ports)" \
	peer_path_is venus "$mars_hit" 'srflx|prflx|host'

tcp_sink mars "$mars_lsi" 9000 "$TEST_TMP/mars/received"
ns_spawn mars "$TEST_TMP/mars/echo.log" "$TEST_TMP/mars/echo.log" socat \
	"TCP-LISTEN:9100,bind=$mars_lsi,reuseaddr" EXEC:cat
sleep 0.5
tcp_source venus "$mars_lsi" 9000 600 "$TEST_TMP/venus/source.log"
source_pid=$SPAWNED_PID
echo_session venus "$mars_lsi" 9100 14 "$TEST_TMP/venus/session.log"
session_pid=$SPAWNED_PID
ns_spawn venus "$TEST_TMP/venus/ping.log" "$TEST_TMP/venus/ping.log" \
	ping -6 -i 0.1 -c 120 -W 1 "$mars_hit"
ping_pid=$SPAWNED_PID

sleep 3
# The move: a link into home2's LAN, the default route there, the old link down.
nat_peer_link home2 venus 10.77.103.2 eth1
ip -n "$(ns venus)" route replace default via 10.77.103.1 dev eth1
ip -n "$(ns venus)" link set eth0 down

rc=0
wait "$source_pid" || rc=$?
check "the TCP stream finished without an error (exit $rc)" test "$rc" -eq 0
rc=0
wait "$session_pid" || rc=$?
check "the interactive session survived the move (exit $rc: $(tail -1 "$TEST_TMP/venus/session.log"))" \
	test "$rc" -eq 0
wait "$ping_pid" || true
wait_for_file "$TEST_TMP/mars/received" || true
check "mars received every byte" test "$(cat "$TEST_TMP/mars/received" 2>/dev/null)" = 600000
lost=$(ping_lost "$TEST_TMP/venus/ping.log")
echo "move behind another NAT: interruption about $((lost * 100)) ms ($lost of 120 pings at 100 ms lost)"
# A pipe is set up again at once; a direct association first tries an
# RFC 8046 readdress, which mars's NAT filters, then goes through the overlay.
check "venus set the association with mars up again after the move" \
	grep -Eq "pipe to $mars_hit: our addresses changed, setting it up again|$mars_hit did not confirm our new address" \
	"$TEST_TMP/venus/idlocd.log"
check "venus's path goes to mars's router" peer_remote_is venus "$mars_hit" "$MHOME"
check "mars sees venus behind home2 now" retry 10 peer_remote_is mars "$venus_hit" "$HOME2"
check "venus still reaches mars" ns_exec venus ping -6 -c 1 -W 2 "$mars_hit"

finish
