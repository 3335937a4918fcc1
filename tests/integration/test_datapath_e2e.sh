#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_datapath_e2e.sh: the product's main job with stock programs. Three
# peers on one LAN, earth the bootstrap; each namespace's resolver is its own
# idlocd (/etc/netns/NAME/resolv.conf). From venus: getent finds mars's LSI
# and HIT; curl fetches a page from a plain web server on mars over IPv4 (LSI)
# and IPv6 (HIT); ping works both ways; 100 MB arrive intact; a capture on the
# underlay holds no plaintext of the transfer (no TCP, no ICMP echo, not the
# page's marker), only HIP, ESP and ICE's STUN; after venus's daemon
# restarts, curl works again.
#
#          sw (bridge br0, 10.77.2.0/24)
#     +-----------+-----------+
#   earth .1    venus .2    mars .3
#
# Needs root; exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

IDLOCD=${IDLOCD:?set IDLOCD to the idlocd binary}
IDLOC=${IDLOC:?set IDLOC to the idloc binary}
DOMAIN=e2e.internal
RESOLVER=100.64.0.53
MARKER=idloc-plaintext-marker-7f3a9c
BIG_MB=${IDLOC_E2E_MB:-100}

require_root
require_cmd ip python3 curl getent ping tcpdump tshark sha256sum
lib_init

declare -A addr=([earth]=10.77.2.1 [venus]=10.77.2.2 [mars]=10.77.2.3)
declare -A pid

conf()
{
	local n=$1 boot=$2
	mkdir -p "$TEST_TMP/$n"
	{
		printf '[overlay]\ndomain = %s\n' "$DOMAIN"
		[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
		printf '[peer]\nname = %s\nstate-dir = %s/%s/state\ncontrol = %s/%s/ctl.sock\n' \
			"$n" "$TEST_TMP" "$n" "$TEST_TMP" "$n"
		# Nothing leaves the test's namespaces: no upstream DNS.
		printf '[dns]\nupstream = none\nconfigure = none\n'
	} >"$TEST_TMP/$n/idloc.conf"
}

start()
{
	local n=$1 log=$TEST_TMP/$1/${2:-idlocd}.log
	ns_spawn "$n" "$log" "$log" "$IDLOCD" -c "$TEST_TMP/$n/idloc.conf" \
		--log-level "${IDLOC_LOG_LEVEL:-info}"
	pid[$n]=$SPAWNED_PID
}

ctl()
{
	local n=$1
	shift
	ns_exec "$n" "$IDLOC" -s "$TEST_TMP/$n/ctl.sock" "$@"
}

json_field()
{
	python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

wait_joined()
{
	local n=$1 t=$2 k
	for ((k = 0; k < t * 5; k++)); do
		if [[ $(ctl "$n" status --json 2>/dev/null | json_field overlay.joined 2>/dev/null) == True ]]; then
			return 0
		fi
		sleep 0.2
	done
	echo "$n did not join" >&2
	return 1
}

# retry SECONDS COMMAND...: until the command succeeds.
retry()
{
	local t=$1 k
	shift
	for ((k = 0; k < t; k++)); do
		"$@" && return 0
		sleep 1
	done
	"$@"
}

resolves()
{
	ctl "$1" resolve "$2" >/dev/null 2>&1
}

getent_has()
{
	local n=$1 db=$2 name=$3 want=$4
	ns_exec "$n" getent "$db" "$name" | awk '{print $1}' | grep -qx -- "$want"
}

curl_marker()
{
	local n=$1 family=$2 url=$3
	ns_exec "$n" curl "$family" -sS --max-time 15 "$url" | grep -q "$MARKER"
}

peer_state()
{
	local n=$1 hit=$2
	ctl "$n" peers --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["hit"] == sys.argv[1]:
        print(p["state"], p["path"]["type"], p["name"], p["lsi"])' "$hit"
}

bridge_create sw
for n in earth venus mars; do
	ns_create "$n"
	bridge_attach sw "$n" "${addr[$n]}/24"
	ns_resolv_conf "$n" "$RESOLVER"
done
conf earth ""
conf venus "${addr[earth]}:10500"
conf mars "${addr[earth]}:10500"

start earth
wait_for_udp_port earth 10500 10
start mars
start venus
for n in earth venus mars; do
	wait_joined "$n" 60
done
pass "three peers joined the overlay"

mars_hit=$(ctl mars status --json | json_field hit)
mars_lsi=$(ctl mars status --json | json_field lsi)
venus_hit=$(ctl venus status --json | json_field hit)
venus_lsi=$(ctl venus status --json | json_field lsi)
check "venus resolves mars in the overlay" retry 30 resolves venus mars
check "mars resolves venus in the overlay" retry 30 resolves mars venus

# A plain web server on mars, on both families.
mkdir -p "$TEST_TMP/www"
for _ in $(seq 200); do echo "$MARKER"; done >"$TEST_TMP/www/index.html"
head -c "${BIG_MB}M" /dev/urandom >"$TEST_TMP/www/big.bin"
ns_spawn mars "$TEST_TMP/mars/http.log" "$TEST_TMP/mars/http.log" \
	python3 -m http.server 80 --bind :: --directory "$TEST_TMP/www"
check "web server on mars is up" retry 10 bash -c "[[ -n \$(ip netns exec $(ns mars) ss -Hltn 'sport = :80') ]]"

check "getent: mars's A record is its LSI $mars_lsi" \
	getent_has venus ahostsv4 "mars.$DOMAIN" "$mars_lsi"
check "getent: mars's AAAA record is its HIT $mars_hit" \
	getent_has venus ahostsv6 "mars.$DOMAIN" "$mars_hit"
check "getent: a name nobody registered is not found" \
	bash -c "! ip netns exec $(ns venus) getent hosts nobody.$DOMAIN"

# Everything from here on is captured on mars's underlay interface.
ns_spawn mars "$TEST_TMP/mars/tcpdump.log" "$TEST_TMP/mars/tcpdump.log" \
	tcpdump -i eth0 -n -U -s 0 -w "$TEST_TMP/underlay.pcap"
capture_pid=$SPAWNED_PID
sleep 1

check "curl http://mars.$DOMAIN/ over IPv4 (LSI)" retry 20 curl_marker venus -4 "http://mars.$DOMAIN/"
check "curl -6 http://mars.$DOMAIN/ over IPv6 (HIT)" retry 10 curl_marker venus -6 "http://mars.$DOMAIN/"
check "ping venus -> mars (LSI)" ns_exec venus ping -4 -c 3 -W 3 "mars.$DOMAIN"
check "ping mars -> venus (LSI)" ns_exec mars ping -4 -c 3 -W 3 "venus.$DOMAIN"
check "ping venus -> mars (HIT)" ns_exec venus ping -6 -c 3 -W 3 "mars.$DOMAIN"
check "ping mars -> venus (HIT)" ns_exec mars ping -6 -c 3 -W 3 "venus.$DOMAIN"

unreachable()
{
	{ ns_exec venus ping -4 -c 1 -W 3 "$1" 2>&1 || true; } | grep -q 'Destination Host Unreachable'
}
check "an LSI nobody owns answers ICMP host unreachable" unreachable 100.64.0.77

want=$(sha256sum <"$TEST_TMP/www/big.bin" | cut -d' ' -f1)
ns_exec venus curl -4 -sS --max-time 300 -o "$TEST_TMP/venus/big.bin" "http://mars.$DOMAIN/big.bin" || true
got=$(sha256sum <"$TEST_TMP/venus/big.bin" 2>/dev/null | cut -d' ' -f1 || true)
check "$BIG_MB MB over the LSI arrive intact" test "$want" = "$got"

check "idloc ping mars measures the round trip through the association" ctl venus ping mars -c 2
rtt_known()
{
	ctl venus peers --json | python3 -c '
import json, sys
sys.exit(0 if any(p["hit"] == sys.argv[1] and p["rtt_ms"] is not None for p in json.load(sys.stdin)) else 1)' "$mars_hit"
}
check "idloc peers shows mars's rtt_ms" rtt_known

read -r state ptype pname plsi < <(peer_state venus "$mars_hit")
check "venus lists mars ESTABLISHED (state $state)" test "$state" = ESTABLISHED
check "venus shows mars's path type (${ptype})" bash -c "[[ $ptype =~ ^(host|srflx|prflx|relay)$ ]]"
check "venus knows mars's name and LSI ($pname, $plsi)" \
	test "$pname $plsi" = "mars.$DOMAIN $mars_lsi"

capture_stop "$capture_pid" "$TEST_TMP/underlay.pcap"
sleep 0.5
check "the capture holds traffic" test "$(tshark -r "$TEST_TMP/underlay.pcap" 2>/dev/null | wc -l)" -gt 100
check "no plaintext on the underlay: no TCP, no ICMP echo" \
	test "$(tshark -r "$TEST_TMP/underlay.pcap" -Y 'tcp || icmp.type == 8 || icmp.type == 0 || icmpv6.type == 128 || icmpv6.type == 129' 2>/dev/null | wc -l)" -eq 0
check "no plaintext on the underlay: the page's marker never appears" \
	bash -c "! grep -aq '$MARKER' '$TEST_TMP/underlay.pcap'"

# venus restarts: it rejoins, resolves and sets up its pipes again.
stop_pid "${pid[venus]}" 15 || true
start venus idlocd-restarted
wait_joined venus 60
check "after venus restarts, curl works again" retry 45 curl_marker venus -4 "http://mars.$DOMAIN/"
check "and over IPv6" retry 10 curl_marker venus -6 "http://mars.$DOMAIN/"
check "venus's LSI is the same after the restart" \
	test "$(ctl venus status --json | json_field lsi)" = "$venus_lsi"
: "$venus_hit"

finish
