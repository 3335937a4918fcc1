#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_overlay_20.sh: twenty idlocd instances form one overlay through a single
# bootstrap address; every one resolves every other's name with `idloc
# resolve`; a third are killed with SIGKILL and the survivors' names still
# resolve; a killed peer restarted with its old state directory rejoins from
# its routing-table cache although its bootstrap address is dead.
#
#            sw (bridge br0, 10.77.1.0/24)
#     +--------+--------+---- ... ----+
#    p1       p2       p3            p20
#  .1 (bootstrap) .2   .3            .20
#
# Needs root; exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"

IDLOCD=${IDLOCD:?set IDLOCD to the idlocd binary}
IDLOC=${IDLOC:?set IDLOC to the idloc binary}
N=${IDLOC_OVERLAY_NODES:-20}
DOMAIN=test.internal
IDLE_S=8

require_root
require_cmd ip python3
lib_init

declare -a hit pid

conf()
{
	local i=$1 boot=$2
	mkdir -p "$TEST_TMP/p$i"
	{
		printf '[overlay]\ndomain = %s\n' "$DOMAIN"
		[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
		printf '[peer]\nname = p%s\nstate-dir = %s/p%s/state\ncontrol = %s/p%s/ctl.sock\n' \
			"$i" "$TEST_TMP" "$i" "$TEST_TMP" "$i"
		printf '[tun]\ndevice = idl%s\n' "$i"
		# Nothing leaves the test's namespaces: no upstream DNS.
		printf '[dns]\nupstream = none\nconfigure = none\n'
		# Pipes close soon when idle, so the test sees one close and reopen.
		printf '[hip]\nidle-timeout = %s\n' "$IDLE_S"
	} >"$TEST_TMP/p$i/idloc.conf"
}

# start I [LOGNAME]
start()
{
	local i=$1 log=$TEST_TMP/p$1/${2:-idlocd}.log
	ns_spawn "p$i" "$log" "$log" "$IDLOCD" -c "$TEST_TMP/p$i/idloc.conf" \
		--log-level "${IDLOC_LOG_LEVEL:-info}"
	pid[i]=$SPAWNED_PID
}

ctl()
{
	local i=$1
	shift
	ns_exec "p$i" "$IDLOC" -s "$TEST_TMP/p$i/ctl.sock" "$@"
}

joined()
{
	ctl "$1" status --json 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["overlay"]["joined"] else 1)' 2>/dev/null
}

wait_joined()
{
	local i=$1 t=$2 k
	for ((k = 0; k < t * 5; k++)); do
		joined "$i" && return 0
		sleep 0.2
	done
	return 1
}

# resolves_to I J TIMEOUT: node I resolves p<J> to J's HIT within TIMEOUT seconds.
resolves_to()
{
	local i=$1 j=$2 t=$3 k out
	for ((k = 0; k < t; k++)); do
		if out=$(ctl "$i" resolve "p$j" --json 2>/dev/null) &&
			[[ $(python3 -c 'import json,sys; print(json.load(sys.stdin)["hit"])' <<<"$out") == "${hit[j]}" ]]; then
			return 0
		fi
		sleep 1
	done
	echo "p$i cannot resolve p$j" >&2
	return 1
}

# all_resolve "NODES..." TIMEOUT: every listed node resolves every other listed
# node. A few resolvers run at once: twenty daemons (sanitizer builds in CI)
# and a swarm of CLI processes would otherwise starve two cores, and the test
# would measure the scheduler rather than the overlay.
all_resolve()
{
	local t=$2 i j bad=0 running=0
	local -a nodes
	read -r -a nodes <<<"$1"
	for i in "${nodes[@]}"; do
		(
			for j in "${nodes[@]}"; do
				[[ $i == "$j" ]] && continue
				resolves_to "$i" "$j" "$t" || exit 1
			done
		) &
		running=$((running + 1))
		if ((running >= ${IDLOC_TEST_PARALLEL:-3})); then
			wait -n || bad=1
			running=$((running - 1))
		fi
	done
	while ((running > 0)); do
		wait -n || bad=1
		running=$((running - 1))
	done
	return "$bad"
}

bridge_create sw
for ((i = 1; i <= N; i++)); do
	ns_create "p$i"
	bridge_attach sw "p$i" "10.77.1.$i/24"
	if ((i == 1)); then conf 1 ""; else conf "$i" "10.77.1.1:10500"; fi
	hit[i]=$(ns_exec "p$i" "$IDLOCD" -c "$TEST_TMP/p$i/idloc.conf" --print-hit)
done

start 1
wait_for_udp_port p1 10500 10
for ((i = 2; i <= N; i++)); do
	start "$i"
	sleep 0.1
done

ok=1
for ((i = 1; i <= N; i++)); do
	wait_joined "$i" 60 || { echo "p$i did not join" >&2; ok=0; }
done
check "all $N instances joined the overlay" test "$ok" = 1
check "p1 reports neighbours" test "$(ctl 1 status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["overlay"]["neighbors"])')" -gt 0

everyone=$(seq 1 "$N" | tr '\n' ' ')
check "every instance resolves every other instance's name" all_resolve "$everyone" 30

# unassociated: prints "I J" for two instances with no HIP association yet.
unassociated()
{
	local i j listed
	for ((i = 2; i <= N; i++)); do
		listed=$(ctl "$i" peers --json | python3 -c 'import json,sys; print(" ".join(p["hit"] for p in json.load(sys.stdin)))')
		for ((j = N; j >= 2; j--)); do
			if [[ $i != "$j" && " $listed " != *" ${hit[j]} "* ]]; then
				echo "$i $j"
				return 0
			fi
		done
	done
	return 1
}

# pipe_up I J: I lists J ESTABLISHED with an ICE path.
pipe_up()
{
	ctl "$1" peers --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["hit"] == sys.argv[1] and p["state"] == "ESTABLISHED" and p["path"]["type"] in ("host", "srflx", "prflx", "relay"):
        sys.exit(0)
sys.exit(1)' "${hit[$2]}"
}

pipe_closed()
{
	! pipe_up "$@"
}

# A packet to a HIT we have no association with: the base exchange is routed
# hop by hop through the overlay (ICE candidates inside I2/R2), ICE finds the
# path, and the ping goes through the new pipe.
if read -r pi pj < <(unassociated); then
	check "p$pi pings p$pj's HIT through a pipe set up over the overlay" \
		ns_exec "p$pi" ping -6 -c 3 -i 0.5 -w 20 "${hit[pj]}"
	check "p$pi lists p$pj ESTABLISHED with an ICE path" pipe_up "$pi" "$pj"
	check "p$pj lists p$pi ESTABLISHED with an ICE path" pipe_up "$pj" "$pi"
	# Idle for longer than idle-timeout: closed; the next packet reopens it.
	sleep $((IDLE_S * 2 + 2))
	check "the idle pipe p$pi -> p$pj was closed" pipe_closed "$pi" "$pj"
	check "the next packet reopens it" ns_exec "p$pi" ping -6 -c 2 -i 0.5 -w 20 "${hit[pj]}"
	check "idloc ping p$pj from p$pi measures the round trip" ctl "$pi" ping "p$pj" -c 2
else
	echo "every pair is associated already: no pipe to test"
fi

check "an unregistered name is 'not found' (exit 1), quickly" \
	bash -c "! timeout 20 ip netns exec $(ns p2) $IDLOC -s $TEST_TMP/p2/ctl.sock resolve nobody-has-this-name"

# Kill the last third without warning.
killed=$((N / 3))
for ((i = N - killed + 1; i <= N; i++)); do
	kill -KILL "${pid[i]}"
	wait "${pid[i]}" 2>/dev/null || true
done
survivors=$(seq 1 $((N - killed)) | tr '\n' ' ')
check "after SIGKILL of $killed instances every survivor's name still resolves" \
	all_resolve "$survivors" 60

# The first killed peer comes back with its state directory, but its only
# bootstrap address is now dead: it must rejoin from its cache.
back=$((N - killed + 1))
sed -i 's/^bootstrap = .*/bootstrap = 10.77.1.250:10500/' "$TEST_TMP/p$back/idloc.conf"
check "p$back kept a routing-table cache" test -s "$TEST_TMP/p$back/state/overlay.cache"
start "$back" idlocd-restarted
check "p$back rejoins from its cache without a bootstrap peer" wait_joined "$back" 60
check "p$back resolves survivors and is resolved again" all_resolve "1 2 $back" 60

finish
