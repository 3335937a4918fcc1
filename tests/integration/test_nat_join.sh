#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nat_join.sh: a peer behind a home router's NAT is a full overlay member
# and stays one while idle. venus, behind an endpoint-independent NAT whose
# UDP mappings expire after 30 s, joins through earth; it stores and serves
# records (pluto, on the internet, resolves it; it resolves pluto and earth);
# pluto reaches it with a base exchange routed through the overlay (a ping to
# its HIT sets up a pipe: routed I1..R2, then ICE across the NAT). Then nobody
# sends anything for two minutes: keepalives (every 15 s by default) must keep
# the router's mapping, so afterwards venus is still joined, still resolvable,
# and the same association carries pings in both directions at once.
#
#            inet (bridge br0, 10.77.100.0/24)
#     +-------------+-------------+
#   earth .1     pluto .20     home .11 (eim NAT, UDP timeout 30 s)
#                                 |  lan0 10.77.101.0/24
#                               venus .2
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
NAT_TIMEOUT=30
IDLE_S=${IDLOC_NAT_IDLE_S:-125}

require_root
require_cmd ping tcpdump tshark
nat_require
lib_init

EARTH=10.77.100.1
HOME_WAN=10.77.100.11
nat_internet
nat_public earth "$EARTH"
nat_public pluto 10.77.100.20
nat_router home "$HOME_WAN" 101 eim
nat_peer home venus 10.77.101.2
nat_udp_timeout home "$NAT_TIMEOUT"

idlocd_conf earth ""
idlocd_conf pluto "$EARTH:10500"
idlocd_conf venus "$EARTH:10500"

# venus joins and registers its name before pluto exists, so it has no
# reason to open an association to pluto itself (from behind its NAT that
# would work directly); pluto then meets venus only through the overlay.
idlocd_start earth
wait_for_udp_port earth 10500 10
idlocd_start venus
check "venus joined the overlay through earth" idlocd_wait_joined venus 60
check "venus registered its name" \
	wait_for_log "$TEST_TMP/venus/idlocd.log" "name 'venus.$NAT_DOMAIN' registered" 30
idlocd_start pluto
check "pluto joined the overlay" idlocd_wait_joined pluto 60

declare -A hit
for n in earth pluto venus; do
	hit[$n]=$(idloc_ctl "$n" status --json | json_field hit)
done

check "pluto (internet) resolves venus (behind the NAT)" retry 30 resolves pluto venus
check "venus resolves pluto" retry 30 resolves venus pluto
check "venus resolves earth" retry 30 resolves venus earth

# pluto cannot send venus an I1 (venus's router drops it); without an
# association yet (normally the case), the ping asks pluto's pipes for one, a base
# exchange routed hop by hop through the overlay. Depending on timing it ends
# as an ICE pipe (venus's checks open its NAT: a prflx path) or as a direct
# association that venus itself opened towards pluto's public address (the
# overlay's own `host` path); both reach venus at its router's address.
echo "before the ping pluto lists venus as: '$(peer_info pluto "${hit[venus]}")'"
check "pluto pings venus's HIT" ns_exec pluto ping -6 -c 3 -i 0.5 -w 30 "${hit[venus]}"
check "pluto lists venus ESTABLISHED" peer_path_is pluto "${hit[venus]}" 'srflx|prflx|host|relay'
if grep -q "pipe to ${hit[venus]} up" "$TEST_TMP/pluto/idlocd.log"; then
	echo "pluto reached venus through an ICE pipe"
else
	echo "pluto reached venus over a direct association venus opened"
fi
remote_is_router()
{
	local remote
	read -r _ _ remote _ < <(peer_info pluto "${hit[venus]}") || true
	[[ $remote == "$HOME_WAN":* ]]
}
check "pluto reaches venus at its router's address ($HOME_WAN)" remote_is_router
check "venus lists pluto ESTABLISHED" peer_path_is venus "${hit[pluto]}" 'srflx|prflx|host|relay'

read -r _ _ remote_before _ rx_before < <(peer_info pluto "${hit[venus]}")
read -r _ _ _ _ venus_rx_before < <(peer_info venus "${hit[pluto]}")

# Idle: no test traffic for IDLE_S seconds, four times the router's timeout.
# The router's WAN is captured meanwhile.
ns_spawn home "$TEST_TMP/tcpdump.log" "$TEST_TMP/tcpdump.log" \
	tcpdump -i eth0 -n -U -s 128 -w "$TEST_TMP/wan.pcap" udp
capture_pid=$SPAWNED_PID
sleep 1
echo "idle for ${IDLE_S}s (router's UDP timeout ${NAT_TIMEOUT}s)"
idle_start=$(date +%s.%N)
sleep "$IDLE_S"
idle_end=$(date +%s.%N)
capture_stop "$capture_pid" "$TEST_TMP/wan.pcap"

read -r _ _ remote_after tx_after rx_after < <(peer_info pluto "${hit[venus]}")
read -r _ _ _ _ venus_rx_after < <(peer_info venus "${hit[pluto]}")
check "after ${IDLE_S}s idle pluto still has the same path to venus ($remote_before)" \
	test "$remote_after" = "$remote_before"
check "pluto received keepalives from venus while idle (rx $rx_before -> $rx_after)" \
	test "$rx_after" -gt "$rx_before"
check "venus received pluto's keepalives through its NAT while idle (rx $venus_rx_before -> $venus_rx_after)" \
	test "$venus_rx_after" -gt "$venus_rx_before"

# max_gap FILTER: the longest silence (whole seconds) between the router's WAN
# packets matching the display FILTER during the idle period, its start and
# end included. Longer than the router's timeout, and the mapping was lost.
max_gap()
{
	tshark -r "$TEST_TMP/wan.pcap" -T fields -e frame.time_epoch -Y "$1" 2>/dev/null | python3 -c '
import sys
start, end = float(sys.argv[1]), float(sys.argv[2])
t = [float(l) for l in sys.stdin if l.strip() and start <= float(l) <= end]
t = [start] + t + [end]
print(int(max(b - a for a, b in zip(t, t[1:]))))' "$idle_start" "$idle_end"
}
# What venus itself sends on each mapping must keep it: a peer behind a NAT
# cannot count on the far side's keepalives (only its own interval is known).
pipe_port=${remote_before##*:}
gap_pipe=$(max_gap "ip.src == $HOME_WAN && udp.srcport == $pipe_port && ip.dst == 10.77.100.20")
gap_earth=$(max_gap "ip.src == $HOME_WAN && udp.srcport == 10500 && ip.dst == $EARTH")
check "venus sent on the pipe's mapping ($HOME_WAN:$pipe_port) at least every ${NAT_TIMEOUT}s (longest silence ${gap_pipe}s)" \
	test "$gap_pipe" -lt "$NAT_TIMEOUT"
check "and on the overlay link's mapping to earth (longest silence ${gap_earth}s)" \
	test "$gap_earth" -lt "$NAT_TIMEOUT"

check "venus is still joined" idlocd_joined venus
check "pluto still resolves venus" resolves pluto venus
check "venus still resolves pluto" resolves venus pluto
# Inbound first: pluto's packets cross the NAT only if the mapping survived.
check "the idle association carries pluto -> venus at once (3 of 3 replies)" \
	ns_exec pluto ping -6 -c 3 -i 0.5 -W 2 "${hit[venus]}"
check "and venus -> pluto" ns_exec venus ping -6 -c 3 -i 0.5 -W 2 "${hit[pluto]}"
check "and earth -> venus over the overlay link" ns_exec earth ping -6 -c 3 -i 0.5 -W 2 "${hit[venus]}"
same_assoc()
{
	local remote tx rx
	read -r _ _ remote tx rx < <(peer_info pluto "${hit[venus]}") || true
	echo "pluto's association with venus: remote $remote, tx $tx_after -> $tx, rx $rx_after -> $rx" >&2
	[[ $remote == "$remote_before" && $rx -gt $rx_after && $tx -gt $tx_after ]]
}
check "it is the same association (path and counters carried on)" same_assoc

finish
