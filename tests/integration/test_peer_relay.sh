#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_peer_relay.sh: two peers behind symmetric NATs meet through a PEER
# relay found in the overlay, with no relay configured by hand. pluto, a
# public peer with `[relay] serve = yes`, runs idlocd's TURN server and
# publishes a relay record; venus and mars (no `[ice] turn`) find it through
# the overlay, open a base exchange with it, and use it with credentials
# derived from that association. venus fetches a page from mars by name;
# both list each other ESTABLISHED on a relay path through pluto; the relay
# saw only ESP (no TCP, never the page's marker on the internet); a client
# that is not an overlay peer gets no allocation from pluto.
#
#                 inet (bridge br0, 10.77.100.0/24)
#     +-------------+-------------+-------------+
#   earth .1    pluto .4 (relay)  vhome .11     mhome .12   (symmetric NATs)
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
NAT_DOMAIN=relay.internal
RESOLVER=100.64.0.53
MARKER=idloc-peer-relay-marker-5d2a
PAGE_KB=256
RELAY_PORT=3478

require_root
require_cmd turnutils_uclient curl tcpdump tshark
nat_require
lib_init

PLUTO=10.77.100.4
nat_two_homes symmetric
nat_public pluto "$PLUTO"

idlocd_conf earth "" "[relay]\nserve = no"
idlocd_conf pluto "$EARTH:10500" "[relay]\nserve = yes\nport = $RELAY_PORT"
idlocd_conf venus "$EARTH:10500" "[relay]\nserve = no"
idlocd_conf mars "$EARTH:10500" "[relay]\nserve = no"

nat_capture_start

idlocd_start earth
wait_for_udp_port earth 10500 10
idlocd_start pluto
check "pluto joined the overlay" idlocd_wait_joined pluto 60
check "pluto relays on its address" \
	wait_for_log "$TEST_TMP/pluto/idlocd.log" "relaying for overlay peers on $PLUTO:$RELAY_PORT" 10
# As in test_nat_turn.sh: mars settles before venus starts, so the two meet
# through a pipe rather than by chance on their daemon ports.
idlocd_start mars
check "mars joined the overlay" idlocd_wait_joined mars 60
check "mars registered its name" \
	wait_for_log "$TEST_TMP/mars/idlocd.log" "name 'mars.$NAT_DOMAIN' registered" 30
check "mars found pluto's relay in the overlay and uses it" \
	wait_for_log "$TEST_TMP/mars/idlocd.log" "using relay .* at $PLUTO:$RELAY_PORT" 60
idlocd_start venus
check "venus joined the overlay" idlocd_wait_joined venus 60
check "venus found pluto's relay in the overlay and uses it" \
	wait_for_log "$TEST_TMP/venus/idlocd.log" "using relay .* at $PLUTO:$RELAY_PORT" 60
mars_hit=$(idloc_ctl mars status --json | json_field hit)
check "idloc status on pluto: relay.serving is $PLUTO:$RELAY_PORT" \
	test "$(idloc_ctl pluto status --json | json_field relay.serving)" = "$PLUTO:$RELAY_PORT"
check "idloc status on venus: relay.using is $PLUTO:$RELAY_PORT" \
	test "$(idloc_ctl venus status --json | json_field relay.using)" = "$PLUTO:$RELAY_PORT"
check "idloc status on venus says so" \
	bash -c "ip netns exec $(ns venus) $IDLOC -s $TEST_TMP/venus/ctl.sock status | grep -q 'using $PLUTO:$RELAY_PORT'"
check "venus resolves mars" retry 30 resolves venus mars

check "web server on mars is up" page_serve mars "$PAGE_KB" "$MARKER"
check "venus curls http://mars.$NAT_DOMAIN/ (${PAGE_KB} kB, intact) through two symmetric NATs" \
	retry 60 page_intact venus "http://mars.$NAT_DOMAIN/"
check "venus lists mars ESTABLISHED on a relay path" peer_path_is venus "$mars_hit" relay
check "the path goes through pluto ($PLUTO)" peer_remote_is venus "$mars_hit" "$PLUTO"
check "mars lists venus ESTABLISHED on a relay path" \
	peer_path_is mars "$(idloc_ctl venus status --json | json_field hit)" relay

# A client that is not an overlay peer (no HIP association with pluto, so no
# key) gets no allocation, whatever credentials it tries.
stranger()
{
	ns_exec earth timeout 10 turnutils_uclient -y -c -n 2 -m 1 -l 100 \
		-u "$(printf '%032x' 1)" -w wrongpassword0123456789abcdef01 \
		-p "$RELAY_PORT" "$PLUTO" >"$TEST_TMP/stranger.log" 2>&1 || true
	grep -q "Cannot complete Allocation" "$TEST_TMP/stranger.log"
}
check "pluto refuses a TURN client that is not an overlay peer" stranger

nat_capture_stop
# (To pluto's TURN port, or straight to the peer's relayed port on pluto:
# TURN permissions are per IP address.)
via_pluto()
{
	test "$(nat_capture_count "ip.addr == $1 && ip.addr == $PLUTO && udp")" -gt $((PAGE_KB / 2))
}
check "the page went between venus's router and pluto" via_pluto "$VHOME"
check "and between pluto and mars's router" via_pluto "$MHOME"
check "no data went between the two routers directly" \
	test "$(nat_capture_count "ip.addr == $VHOME && ip.addr == $MHOME && frame.len > 400")" -eq 0
check "no TCP on the internet" test "$(nat_capture_count tcp)" -eq 0
check "the page's marker never appears on the internet (the relay saw only ESP)" \
	bash -c "! grep -aq '$MARKER' '$TEST_TMP/internet.pcap'"

finish
