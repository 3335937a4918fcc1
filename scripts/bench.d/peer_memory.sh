#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# peer_memory.sh: issue 7's memory targets: idlocd's idle RSS, what it is
# made of, and what each additional established peer costs. One bridge:
# earth (the bootstrap), sun (the daemon measured) and PEERS more hosts.
#
#   0. earth and sun start, join and register; earth pings sun's HIT once
#      (so sun's data path code is in memory); sun idles SETTLE_S seconds.
#      Measured: sun's established peers (earth), VmRSS, and its split from
#      /proc/PID/smaps: anonymous memory (heap, stacks, the libraries'
#      relocated data), idlocd's own file pages, the shared libraries'
#      pages (each library's), and PSS from smaps_rollup.
#   1..ROUNDS. PEERS more daemons start, join and register, and each pings
#      sun's HIT once (ICMPv6 through its TUN: a base exchange with sun if
#      the overlay had not made one). After SETTLE_S seconds idle, sun's
#      established peers, VmRSS and anonymous memory again.
#   Each step also notes whether sun has loaded idloc-glib.so (libnice and
#   its libraries, loaded when the first pipe is needed) by then.
#   The cost of a peer is a step's VmRSS growth over the peers it added:
#   associations, ESP SAs, the data path's and the overlay's state for it,
#   the records it stored, and in the first round also code and data of
#   the libraries the new work touched for the first time (the second
#   round shows the cost without that). The anonymous part is the state.
#
# Usage: peer_memory.sh [CSV_PATH]     (as root; idlocd, idloc on PATH)
#   PEERS=9 ROUNDS=2 SETTLE_S=3 IDLOC_LOG_LEVEL (default notice)
# The CSV has one "key,value" row per measurement; a summary goes to stdout.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=peerlib.sh
source "$here/peerlib.sh"

PEERS=${PEERS:-9}
ROUNDS=${ROUNDS:-2}
SETTLE_S=${SETTLE_S:-3}
csv=${1:-}

require_root
require_cmd ip python3 ping
lib_init

# memsplit PID: "key value" lines (KiB) of PID's memory: rss, anon, binary,
# libs (of which libs_dirty: pages the process wrote, its own copy), pss,
# and lib_<name> for each library with at least 64 KiB resident.
memsplit()
{
	python3 - "$1" <<-'EOF'
		import os, sys
		pid = sys.argv[1]
		exe = os.readlink(f"/proc/{pid}/exe")
		total = {"anon": 0, "binary": 0, "libs": 0, "libs_dirty": 0}
		libs = {}
		path = None
		with open(f"/proc/{pid}/smaps") as f:
		    for line in f:
		        head = line.split()
		        if "-" in head[0] and not head[0].endswith(":"):
		            path = head[5] if len(head) > 5 else ""
		        elif head[0] == "Rss:":
		            kib = int(head[1])
		            if path == exe:
		                total["binary"] += kib
		            elif path.startswith("/"):
		                total["libs"] += kib
		                name = os.path.basename(path)
		                libs[name] = libs.get(name, 0) + kib
		            else:
		                total["anon"] += kib
		        elif head[0] == "Private_Dirty:" and path.startswith("/") and path != exe:
		            total["libs_dirty"] += int(head[1])
		with open(f"/proc/{pid}/smaps_rollup") as f:
		    for line in f:
		        head = line.split()
		        if head[0] == "Pss:":
		            total["pss"] = int(head[1])
		with open(f"/proc/{pid}/status") as f:
		    for line in f:
		        if line.startswith("VmRSS:"):
		            total["rss"] = int(line.split()[1])
		for k, v in total.items():
		    print(k, v)
		for name, kib in sorted(libs.items(), key=lambda x: -x[1]):
		    if kib >= 64:
		        print("lib_" + name, kib)
	EOF
}

# field KEY LINES: the value of KEY in memsplit's output.
field()
{
	awk -v k="$1" '$1 == k {print $2}' <<<"$2"
}

# measure STEP: sun's established peers, VmRSS and anonymous KiB after
# SETTLE_S s idle, into peers_STEP, rss_STEP, anon_STEP of the CSV (row);
# the whole split of the first step too.
declare -A got=()
measure()
{
	local mem k v
	sleep "$SETTLE_S"
	got[peers_$1]=$(peer_established sun)
	mem=$(memsplit "${PEER_PID[sun]}")
	got[rss_$1]=$(field rss "$mem")
	got[anon_$1]=$(field anon "$mem")
	# Whether idlocd has loaded its GLib module (ICE for pipes) by now: the
	# step that loads it pays for its libraries once.
	got[module_$1]=0
	if grep -q '/idloc-glib.so$' "/proc/${PEER_PID[sun]}/maps"; then
		got[module_$1]=1
	fi
	plog "sun idle with ${got[peers_$1]} established peer(s): VmRSS ${got[rss_$1]} KiB," \
		"anonymous ${got[anon_$1]} KiB"
	if (($1 == 0)); then
		while read -r k v; do
			[[ $k == rss ]] || got[$k]=$v
		done <<<"$mem"
	fi
}

# per FROM TO: KiB of VmRSS and of anonymous memory per established peer
# added between two steps, into per_rss_TO and per_anon_TO.
per()
{
	local p0=${got[peers_$1]} p1=${got[peers_$2]}
	if ((p1 <= p0)); then
		echo "peer_memory: sun has $p1 established peers at step $2, $p0 before" >&2
		exit 1
	fi
	got[per_rss_$2]=$(awk -v a="${got[rss_$1]}" -v b="${got[rss_$2]}" -v n=$((p1 - p0)) \
		'BEGIN {printf "%.1f", (b - a) / n}')
	got[per_anon_$2]=$(awk -v a="${got[anon_$1]}" -v b="${got[anon_$2]}" -v n=$((p1 - p0)) \
		'BEGIN {printf "%.1f", (b - a) / n}')
	printf 'idle RSS of idlocd: %s KiB with %s peer(s), %s KiB with %s: %s KiB per added peer (anonymous: %s)\n' \
		"${got[rss_$1]}" "$p0" "${got[rss_$2]}" "$p1" "${got[per_rss_$2]}" "${got[per_anon_$2]}"
}

all=()
for ((i = 1; i <= ROUNDS * PEERS; i++)); do
	all+=("p$i")
done
peers_net earth sun "${all[@]}"
peer_conf earth ""
for n in sun "${all[@]}"; do
	peer_conf "$n" earth
done

peer_start earth run
wait_for_udp_port earth 10500 10
peer_start sun run
peer_ready earth run 60
peer_ready sun run 60
# Earth's ping runs sun's data path once, so its code is in memory before
# the first step.
sun_hit=$(peer_hit sun)
ns_exec earth ping -6 -n -q -c 1 -W 10 "$sun_hit" >/dev/null
measure 0
for ((r = 1; r <= ROUNDS; r++)); do
	round=("${all[@]:$(((r - 1) * PEERS)):$PEERS}")
	for n in "${round[@]}"; do
		peer_start "$n" run
	done
	for n in "${round[@]}"; do
		peer_ready "$n" run 60
		ns_exec "$n" ping -6 -n -q -c 1 -W 10 "$sun_hit" >/dev/null
	done
	measure "$r"
	per $((r - 1)) "$r"
done
printf 'with %s peer(s): anonymous %s KiB, idlocd %s KiB, libraries %s KiB (%s KiB of it written); PSS %s KiB\n' \
	"${got[peers_0]}" "${got[anon]}" "${got[binary]}" "${got[libs]}" "${got[libs_dirty]}" "${got[pss]}"
for k in "${!got[@]}"; do
	if [[ $k == lib_* ]]; then
		echo "${got[$k]} ${k#lib_}"
	fi
done | sort -rn | awk 'NR <= 12 {printf "  %s %s KiB\n", $2, $1}'

peer_stop "${all[@]}" sun earth
if [[ -n $csv ]]; then
	{
		echo "key,value"
		for k in "${!got[@]}"; do
			echo "$k,${got[$k]}"
		done | sort
	} >"$csv"
	plog "CSV written to $csv"
fi
