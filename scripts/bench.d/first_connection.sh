#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# first_connection.sh: issue 7's first-connection target: the time from
# resolving a never-contacted peer's name to the first byte of its HTTP
# answer, in the three-peer topology of tests/integration/
# test_datapath_e2e.sh: earth (the bootstrap), venus and mars on one bridge,
# each namespace's resolver its own idlocd, a plain web server on mars.
#
# For each delay in DELAYS (ms every frame between two hosts waits, so a
# round trip takes twice that more), TRIALS times: three fresh daemons (new
# identities, empty state directories; earth, then mars, then venus, each
# once the one before registered its name) start and join: not timed. Then
# venus runs `curl -4 http://mars.<domain>/`; curl's clock starts before it
# asks venus's daemon for mars's address, and its time_starttransfer (the
# first byte of the answer) is the trial's time. Venus's daemon has never
# resolved mars, nor sent it anything of the user's; whether the overlay
# had already opened an association between them (its links are HIP
# associations) is recorded per trial, as is the path the page took.
#
# Usage: first_connection.sh [CSV_PATH]     (as root; idlocd, idloc on PATH)
#   TRIALS=7         fresh sets of daemons per delay
#   DELAYS="0 20"    added delays, ms: tc netem on each host's uplink, or
#                    where the kernel has no netem delay_switch.py between
#                    the hosts instead of the bridge; the underlay's
#                    measured round trip is in the output.
#   IDLOC_LOG_LEVEL  the daemons' (default notice)
# The CSV has a row per trial: delay and what made it, the underlay's round
# trip, curl's times (name lookup, TCP connected, first byte; ms), the
# association before and the path after. A summary per delay goes to stdout.
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=peerlib.sh
source "$here/peerlib.sh"

TRIALS=${TRIALS:-7}
DELAYS=${DELAYS:-0 20}
csv=${1:-}

require_root
require_cmd ip tc curl python3 ping
lib_init

# One trial: prints "lookup_ms connect_ms first_byte_ms assoc_before path".
trial()
{
	local tag=$1 mars_hit before times after n
	for n in earth mars venus; do
		rm -f "$TEST_TMP/$n/$tag.log"
	done
	peer_start earth "$tag"
	wait_for_udp_port earth 10500 10 >&2
	peer_start mars "$tag"
	peer_ready mars "$tag" 60 >&2
	peer_start venus "$tag"
	peer_ready venus "$tag" 60 >&2
	mars_hit=$(peer_hit mars)
	before=$(peer_info venus "$mars_hit" | cut -d' ' -f1-2 | tr ' ' /)
	times=$(ns_exec venus curl -4 -sS --noproxy '*' --max-time 30 -o /dev/null \
		-w '%{time_namelookup} %{time_connect} %{time_starttransfer}' \
		"http://mars.$NAT_DOMAIN/")
	after=$(peer_info venus "$mars_hit" | cut -d' ' -f2-3 | tr ' ' /)
	peer_stop venus mars earth
	awk -v t="$times" -v b="${before:-none}" -v a="${after:-none}" 'BEGIN {
		split(t, x, " ")
		printf "%.1f %.1f %.1f %s %s\n", x[1] * 1000, x[2] * 1000, x[3] * 1000, b, a
	}'
}

# use_delay MS: every frame between two hosts waits MS: netem on each
# host's uplink where the kernel has it, else the hosts' ports leave the
# bridge for delay_switch.py. Sets delay_by (none, netem or switch).
switch_pid=""
delay_by=none
use_delay()
{
	local n
	if [[ -n $switch_pid ]]; then
		stop_pid "$switch_pid" 5 >/dev/null || true
		switch_pid=""
	fi
	for n in earth venus mars; do
		ns_exec "$n" tc qdisc del dev eth0 root 2>/dev/null || true
		ip -n "$(ns sw)" link set "p-$n" master br0
	done
	delay_by=none
	(($1 > 0)) || return 0
	delay_by=netem
	for n in earth venus mars; do
		ns_exec "$n" tc qdisc add dev eth0 root netem delay "${1}ms" 2>/dev/null || delay_by=switch
	done
	[[ $delay_by == switch ]] || return 0
	for n in earth venus mars; do
		ns_exec "$n" tc qdisc del dev eth0 root 2>/dev/null || true
		ip -n "$(ns sw)" link set "p-$n" nomaster
	done
	ns_spawn sw "$TEST_TMP/switch-$1.log" "$TEST_TMP/switch-$1.log" \
		python3 "$here/delay_switch.py" "$1" p-earth p-venus p-mars
	switch_pid=$SPAWNED_PID
}

peers_net earth venus mars
for n in earth venus mars; do
	peer_conf "$n" earth
done
peer_conf earth ""
mkdir -p "$TEST_TMP/www"
echo "first connection" >"$TEST_TMP/www/index.html"
ns_spawn mars "$TEST_TMP/mars/http.log" "$TEST_TMP/mars/http.log" \
	python3 -m http.server 80 --bind 0.0.0.0 --directory "$TEST_TMP/www"

rows=("delay_ms,delay_by,trial,underlay_rtt_ms,lookup_ms,connect_ms,first_byte_ms,assoc_before,path_after")
for delay in $DELAYS; do
	use_delay "$delay"
	rtt=$(underlay_rtt venus mars)
	firsts=()
	for ((k = 1; k <= TRIALS; k++)); do
		out=$(trial "d$delay-t$k")
		read -r lookup connect first before after <<<"$out"
		plog "delay $delay ms, trial $k: lookup $lookup ms, connected $connect ms," \
			"first byte $first ms; before: $before, path: $after"
		firsts+=("$first")
		rows+=("$delay,$delay_by,$k,$rtt,$lookup,$connect,$first,$before,$after")
	done
	read -r med lo hi < <(median "${firsts[@]}")
	printf 'first connection, %s ms added (%s; underlay round trip %s ms): median %s ms, min %s, max %s (%s trials)\n' \
		"$delay" "$delay_by" "$rtt" "$med" "$lo" "$hi" "$TRIALS"
done
if [[ -n $csv ]]; then
	printf '%s\n' "${rows[@]}" >"$csv"
	plog "CSV written to $csv"
fi
