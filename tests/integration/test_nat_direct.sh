#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nat_direct.sh: two peers behind two different home routers (both
# endpoint-independent NATs with address-and-port-dependent filtering) reach
# each other directly. Neither can send the other an I1; their base exchange
# is routed through the overlay, and ICE pairs the server-reflexive addresses
# coturn's STUN port tells them (`[ice] stun`). venus fetches a page from a
# plain web server on mars by name; `idloc peers` on venus shows mars
# ESTABLISHED on a srflx or prflx path to mars's router; a capture on the
# internet holds no TCP, no plaintext, and nothing through the TURN relay.
#
#                 inet (bridge br0, 10.77.100.0/24)
#     +-------------+-------------+-------------+
#   earth .1    turn .3 (coturn)  vhome .11     mhome .12   (eim NATs)
#                                   |             |
#                               venus 10.77.101.2   mars 10.77.102.2
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
NAT_DOMAIN=nat.internal
RESOLVER=100.64.0.53
MARKER=idloc-nat-direct-marker-4b1e
FLAVOUR=eim
WANT_PATH='srflx|prflx'

require_root
require_cmd turnserver curl tcpdump tshark
nat_require
lib_init

TURN=10.77.100.3
nat_two_homes "$FLAVOUR"
nat_public turn "$TURN"
coturn_start turn "$TURN"

ice="[ice]\nstun = $TURN:$COTURN_PORT"
idlocd_conf earth ""
idlocd_conf venus "$EARTH:10500" "$ice"
idlocd_conf mars "$EARTH:10500" "$ice"

# Everything on the internet from here on is captured.
nat_capture_start

# mars is settled before venus starts. Two peers that learn each other's
# router address from earth at the same moment can open a direct association
# on their daemon ports (both I1s punch the hole); this test is about the
# way the peers meet otherwise: a pipe (routed base exchange, then ICE).
idlocd_start earth
wait_for_udp_port earth 10500 10
idlocd_start mars
check "mars joined the overlay" idlocd_wait_joined mars 60
check "mars registered its name" \
	wait_for_log "$TEST_TMP/mars/idlocd.log" "name 'mars.$NAT_DOMAIN' registered" 30
idlocd_start venus
venus_pid=$SPAWNED_PID
check "venus joined the overlay" idlocd_wait_joined venus 60
mars_hit=$(idloc_ctl mars status --json | json_field hit)
check "venus resolves mars" retry 30 resolves venus mars

check "web server on mars is up" page_serve mars 16 "$MARKER"
check "venus curls http://mars.$NAT_DOMAIN/ (intact) through both NATs" \
	retry 60 page_intact venus "http://mars.$NAT_DOMAIN/"
check "venus lists mars ESTABLISHED on a $WANT_PATH path" peer_path_is venus "$mars_hit" "$WANT_PATH"
check "the path goes straight to mars's router ($MHOME), not through the relay" \
	peer_remote_is venus "$mars_hit" "$MHOME"
check "mars lists venus ESTABLISHED on a $WANT_PATH path" \
	peer_path_is mars "$(idloc_ctl venus status --json | json_field hit)" "$WANT_PATH"

nat_capture_stop
check "the capture holds traffic between the two routers" \
	test "$(nat_capture_count "ip.addr == $VHOME && ip.addr == $MHOME && udp")" -gt 10
check "no TCP on the internet" test "$(nat_capture_count tcp)" -eq 0
check "the page's marker never appears on the internet" \
	bash -c "! grep -aq '$MARKER' '$TEST_TMP/internet.pcap'"
check "nothing went through coturn's relay ports" \
	test "$(nat_capture_count "(ip.src == $TURN && udp.srcport >= 49152 && udp.srcport <= 49252) || (ip.dst == $TURN && udp.dstport >= 49152 && udp.dstport <= 49252)")" -eq 0
# Usually the two meet through a pipe, whose ICE agents ask coturn's STUN
# port for their reflexive addresses. Sometimes they meet on their daemon
# ports instead (each router lets the other's I1 in because its own host had
# just sent there; docs/nat.md): no ICE, so no STUN, and the path is prflx
# (the peer announced its own addresses, and this is not one of them).
read -r _ venus_path_type venus_remote _ < <(peer_info venus "$mars_hit") || true
if [[ $venus_remote == *:10500 ]]; then
	echo "venus and mars met on their daemon ports ($venus_path_type): no STUN needed"
	check "the daemon-port path is reported as prflx" test "$venus_path_type" = prflx
else
	check "venus loaded its GLib module for the pipe" maps_has "$venus_pid" idloc-glib.so
	check "venus and mars asked coturn's STUN port for their reflexive addresses" \
		test "$(nat_capture_count "ip.dst == $TURN && udp.dstport == $COTURN_PORT && ip.src == $VHOME")" -gt 0 -a \
		"$(nat_capture_count "ip.dst == $TURN && udp.dstport == $COTURN_PORT && ip.src == $MHOME")" -gt 0
fi

finish
