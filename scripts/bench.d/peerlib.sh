# SPDX-License-Identifier: MIT
# peerlib.sh: idlocd peers in network namespaces on one bridge, for the
# measurements scripts/bench makes beside the VPN harness
# (first_connection.sh, peer_memory.sh; sourced, not run). It builds on the
# integration tests' libraries: tests/integration/lib.sh (namespaces named
# after this shell's PID, the cleanup trap that kills what runs in them and
# deletes them) and natlib.sh (idlocd configs, the CLI, waiting for a join).
# idlocd and idloc are taken from PATH, as in the harness.
# shellcheck shell=bash

PEERLIB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../tests/integration/lib.sh
source "$PEERLIB_ROOT/tests/integration/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../../tests/integration/natlib.sh
source "$PEERLIB_ROOT/tests/integration/natlib.sh"

IDLOCD=$(command -v idlocd) || { echo "idlocd is not on PATH" >&2; exit 1; }
IDLOC=$(command -v idloc) || { echo "idloc is not on PATH" >&2; exit 1; }
# natlib.sh's idlocd_conf takes the overlay's domain from here.
NAT_DOMAIN=bench.internal
# The daemons' resolver address ([dns] address, default).
PEER_RESOLVER=100.64.0.53
# Our own bridge's addresses: they exist only inside our namespaces.
PEER_NET=10.201.1
declare -A PEER_ADDR=()
declare -A PEER_PID=()

plog() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# peers_net NAME...: bridge "sw" and the named hosts on it, 10.201.1.1 up,
# each with its own daemon as resolver.
peers_net()
{
	local n i=1
	bridge_create sw
	for n in "$@"; do
		ns_create "$n"
		PEER_ADDR[$n]=$PEER_NET.$i
		bridge_attach sw "$n" "${PEER_ADDR[$n]}/24"
		ns_resolv_conf "$n" "$PEER_RESOLVER"
		i=$((i + 1))
	done
}

# peer_conf NAME BOOTSTRAP_NAME: NAME's config; no bootstrap when
# BOOTSTRAP_NAME is empty. No upstream DNS, system DNS untouched, no relay
# served.
peer_conf()
{
	local boot=""
	[[ -n $2 ]] && boot=${PEER_ADDR[$2]}:10500
	idlocd_conf "$1" "$boot" '[relay]\nserve = no'
}

# peer_start NAME LOG: NAME's daemon with a fresh identity (the state
# directory emptied first: no key, no cache of contacts), logging to
# $TEST_TMP/NAME/LOG.log at IDLOC_LOG_LEVEL (default notice). Not handed to
# lib.sh's list of PIDs (peer_stop waits for it; the cleanup's sweep of our
# namespaces ends it otherwise), so no stale PID outlives it there.
peer_start()
{
	local n=$1
	rm -rf "$TEST_TMP/$n/state"
	ip netns exec "$(ns "$n")" "$IDLOCD" -c "$TEST_TMP/$n/idloc.conf" \
		--log-level "${IDLOC_LOG_LEVEL:-notice}" >"$TEST_TMP/$n/$2.log" 2>&1 </dev/null &
	PEER_PID[$n]=$!
}

# peer_stop NAME...: one SIGTERM to each at once (each CLOSEs its
# associations and waits up to 3 s for the answers; a second signal would
# cut that short), then each reaped, killed after 10 s.
peer_stop()
{
	local n p k
	for n in "$@"; do
		kill -TERM "${PEER_PID[$n]}" 2>/dev/null || true
	done
	for n in "$@"; do
		p=${PEER_PID[$n]}
		for ((k = 0; k < 100; k++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		((k < 100)) || kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		unset "PEER_PID[$n]"
	done
}

# peer_ready NAME LOG SECONDS: NAME's daemon joined the overlay and its name
# is registered (the join's traffic is over).
peer_ready()
{
	idlocd_wait_joined "$1" "$3" &&
		wait_for_log "$TEST_TMP/$1/$2.log" "name '$1\.$NAT_DOMAIN' registered" "$3"
}

# peer_hit NAME: NAME's HIT, from its daemon.
peer_hit()
{
	idloc_ctl "$1" status --json | json_field hit
}

# peer_established NAME: how many peers NAME's daemon lists ESTABLISHED.
peer_established()
{
	idloc_ctl "$1" peers --json | python3 -c '
import json, sys
print(sum(p["state"] == "ESTABLISHED" for p in json.load(sys.stdin)))'
}

# underlay_rtt FROM TO: average round trip in ms of 5 pings between the two
# hosts' underlay addresses, once one has been answered (neighbours
# resolved, a switch started just now listening).
underlay_rtt()
{
	local k
	for ((k = 0; k < 20; k++)); do
		ns_exec "$1" ping -n -q -c 1 -W 1 "${PEER_ADDR[$2]}" >/dev/null && break
	done
	ns_exec "$1" ping -n -q -c 5 -i 0.2 "${PEER_ADDR[$2]}" |
		sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p'
}

# median VALUES...: "median min max".
median()
{
	printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}'
}
