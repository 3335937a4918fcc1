#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nat_turn.sh: two peers behind symmetric NATs (MASQUERADE --random-fully:
# a new port per destination, so the address a server sees is useless to
# anyone else) cannot reach each other directly; both are given the same
# coturn server in `[ice] turn` and meet through a relay. venus fetches a
# page from a plain web server on mars by name; `idloc peers` on venus shows
# mars ESTABLISHED on a relay path; coturn logged the allocations; the relay
# carried the traffic and saw only ESP: the capture on the internet holds no
# TCP and never the page's marker.
#
#                 inet (bridge br0, 10.77.100.0/24)
#     +-------------+-------------+-------------+
#   earth .1    turn .3 (coturn)  vhome .11     mhome .12   (symmetric NATs)
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
MARKER=idloc-nat-turn-marker-93c0
PAGE_KB=256

require_root
require_cmd turnserver curl tcpdump tshark
nat_require
lib_init

TURN=10.77.100.3
nat_two_homes symmetric
nat_public turn "$TURN"
coturn_start turn "$TURN"

ice="[ice]\nturn = turn://$COTURN_USER:$COTURN_PASS@$TURN:$COTURN_PORT"
idlocd_conf earth ""
idlocd_conf venus "$EARTH:10500" "$ice"
idlocd_conf mars "$EARTH:10500" "$ice"

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
check "venus joined the overlay" idlocd_wait_joined venus 60
mars_hit=$(idloc_ctl mars status --json | json_field hit)
check "venus resolves mars" retry 30 resolves venus mars

check "web server on mars is up" page_serve mars "$PAGE_KB" "$MARKER"
check "venus curls http://mars.$NAT_DOMAIN/ (${PAGE_KB} kB, intact) through two symmetric NATs" \
	retry 60 page_intact venus "http://mars.$NAT_DOMAIN/"
check "venus lists mars ESTABLISHED on a relay path" peer_path_is venus "$mars_hit" relay
check "the path goes through coturn ($TURN)" peer_remote_is venus "$mars_hit" "$TURN"
check "mars lists venus ESTABLISHED on a relay path" \
	peer_path_is mars "$(idloc_ctl venus status --json | json_field hit)" relay

nat_capture_stop
# Both peers' relayed candidates live on the same coturn, so the hop between
# the two allocations stays inside its host; on the internet the page is
# ChannelData (or Send/Data indications) between each router and coturn's port.
via_turn()
{
	test "$(nat_capture_count "ip.addr == $1 && ip.addr == $TURN && udp.port == $COTURN_PORT")" \
		-gt $((PAGE_KB / 2))
}
check "the page went between venus's router and coturn (more than $((PAGE_KB / 2)) packets)" \
	via_turn "$VHOME"
check "and between coturn and mars's router" via_turn "$MHOME"
# (ICE checks between the routers' reflexive addresses are small and fail.)
check "no data went between the two routers directly" \
	test "$(nat_capture_count "ip.addr == $VHOME && ip.addr == $MHOME && frame.len > 400")" -eq 0
allocations()
{
	test "$(grep -c "ALLOCATE processed, success" "$COTURN_LOG")" -ge 2
}
check "coturn logged successful allocations (venus's and mars's)" allocations
# allocated_from ADDR: a successful Allocate response went to ADDR (method
# 0x003, class success response).
allocated_from()
{
	test "$(nat_capture_count "ip.dst == $1 && ip.src == $TURN && stun.type == 0x0103")" -gt 0
}
check "venus's router got an allocation" allocated_from "$VHOME"
check "mars's router got an allocation" allocated_from "$MHOME"
check "no TCP on the internet" test "$(nat_capture_count tcp)" -eq 0
check "the page's marker never appears on the internet (the relay saw only ESP)" \
	bash -c "! grep -aq '$MARKER' '$TEST_TMP/internet.pcap'"

finish
