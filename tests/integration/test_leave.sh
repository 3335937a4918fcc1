#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_leave.sh: a clean leave. earth (bootstrap), venus and mars on one
# internet; venus and mars have an association (pings between LSIs). Then:
#   idloc leave on mars: exits 0; venus drops the association at once (a
#   CLOSE, not a timeout); mars's routes into its TUN are unreachable ones (a
#   packet to an LSI or a HIT cannot leave in plaintext through another
#   route); no keepalive or other ESP leaves mars afterwards (keepalive
#   interval 1 s in this test); a new base exchange towards mars is refused.
#   idloc join: routes back, mars reachable again.
#   SIGTERM: CLOSE to every peer (venus drops it at once), exit status 0.
#
#        inet (bridge br0, 10.77.100.0/24)
#     +------------+------------+
#   earth .1    venus .21     mars .22
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
NAT_DOMAIN=leave.internal

require_root
require_cmd tcpdump tshark ping
lib_init

EARTH=10.77.100.1
VENUS=10.77.100.21
MARS=10.77.100.22
nat_internet
nat_public earth "$EARTH"
nat_public venus "$VENUS"
nat_public mars "$MARS"
fast="[peer]\nkeepalive-interval = 1"
idlocd_conf earth "" "$fast"
idlocd_conf venus "$EARTH:10500" "$fast"
idlocd_conf mars "$EARTH:10500" "$fast"
# idlocd_conf writes one [peer] section; a second one adds to it.

idlocd_start earth
wait_for_udp_port earth 10500 10
idlocd_start mars
mars_pid=$SPAWNED_PID
check "mars joined" idlocd_wait_joined mars 60
idlocd_start venus
check "venus joined" idlocd_wait_joined venus 60
mars_hit=$(idloc_ctl mars status --json | json_field hit)
mars_lsi=$(idloc_ctl mars status --json | json_field lsi)
venus_hit=$(idloc_ctl venus status --json | json_field hit)
venus_lsi=$(idloc_ctl venus status --json | json_field lsi)
check "venus resolves mars" retry 30 resolves venus mars
# The HIT: venus starts a base exchange with it (an LSI is known to venus
# only once mars is, from DNS or an association).
check "venus pings mars's HIT" retry 30 ns_exec venus ping -6 -c 1 -W 2 "$mars_hit"
check "venus pings mars's LSI" ns_exec venus ping -c 1 -W 2 "$mars_lsi"

established()
{
	local state
	read -r state _ < <(peer_info "$1" "$2") || true
	[[ $state == ESTABLISHED ]]
}
check "venus has mars ESTABLISHED" established venus "$mars_hit"

# Everything mars sends from here on.
ns_spawn mars "$TEST_TMP/tcpdump.log" "$TEST_TMP/tcpdump.log" \
	tcpdump -i eth0 -n -U -s 0 -w "$TEST_TMP/mars.pcap" udp
capture_pid=$SPAWNED_PID
sleep 1

check "idloc leave on mars exits 0" idloc_ctl mars leave
left_at=$(date +%s.%N)
gone()
{
	! established "$1" "$2"
}
check "venus drops mars within 2 s (CLOSE, not a timeout)" retry 2 gone venus "$mars_hit"
check "earth drops mars too" retry 2 gone earth "$mars_hit"
check "venus logged mars's CLOSE" \
	grep -q "association with $mars_hit.* closed" "$TEST_TMP/venus/idlocd.log"
check "mars says it is not joined" \
	bash -c "[[ \$(ip netns exec $(ns mars) $IDLOC -s $TEST_TMP/mars/ctl.sock status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"overlay\"][\"joined\"])') == False ]]"
# (The kernel's own route to the HIT address itself, /128, stays.)
check "no route into mars's TUN is left" \
	test -z "$(ip -n "$(ns mars)" route show dev idloc0; ip -n "$(ns mars)" -6 route show dev idloc0 | grep '^2001:20::/28')"
check "mars's LSI prefix is unreachable, not routed elsewhere" \
	bash -c "ip -n $(ns mars) route get $venus_lsi 2>&1 | grep -q 'unreachable\|No route'"
check "mars's HIT prefix is unreachable" \
	bash -c "ip -n $(ns mars) -6 route get $venus_hit 2>&1 | grep -q 'unreachable\|No route'"
check "a ping from mars to venus's LSI fails locally" \
	bash -c "! ip netns exec $(ns mars) ping -c 1 -W 1 $venus_lsi"
check "a ping from venus to mars's LSI gets no answer (mars refuses a new exchange)" \
	bash -c "! ip netns exec $(ns venus) ping -c 1 -W 3 $mars_lsi"
sleep 4 # four keepalive intervals
capture_stop "$capture_pid" "$TEST_TMP/mars.pcap"
esp_after()
{
	# ESP from mars after the leave (+0.5 s for the CLOSE's ack and the
	# packets already in flight); HIP (zero marker) may still go out.
	tshark -r "$TEST_TMP/mars.pcap" -d udp.port==10500,esp \
		-Y "ip.src == $MARS && esp && frame.time_epoch > $left_at + 0.5" 2>/dev/null | wc -l
}
check "mars sent no ESP (no keepalives) after leaving" test "$(esp_after)" -eq 0
check "mars logged that it left" grep -q "left the overlay" "$TEST_TMP/mars/idlocd.log"

check "idloc join on mars exits 0" idloc_ctl mars join
check "mars joined again" idlocd_wait_joined mars 60
check "mars's routes go through its TUN again" \
	bash -c "ip -n $(ns mars) route get $venus_lsi | grep -q 'dev idloc0'"
check "venus reaches mars again" retry 30 ns_exec venus ping -6 -c 1 -W 2 "$mars_hit"

rc=0
stop_pid "$mars_pid" 10 || rc=$? # SIGTERM, then up to 10 s (124: it had to be killed)
check "mars exits 0 within 10 s of SIGTERM" test "$rc" -eq 0
check "venus drops mars within 2 s of mars's exit" retry 2 gone venus "$mars_hit"
check "mars's TUN is gone" bash -c "! ip -n $(ns mars) link show idloc0 2>/dev/null"

finish
