#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_nat_topology.sh: the NAT topologies of natlib.sh, checked with plain
# tools before any idlocd runs through them. A UDP probe classifies each NAT
# flavour (RFC 4787 mapping and filtering), shows that conntrack's UDP timeout
# is per router and that traffic every few seconds keeps a mapping past it,
# tries direct UDP between every pair of flavours (hole punching with the
# addresses a rendezvous server saw, answering peer-reflexive sources as ICE
# does), and has coturn answer STUN and allocate a TURN relay from behind NATs.
#
#                        inet (bridge br0, 10.77.100.0/24)
#   +-------+-------+-------+------+------+------+------+------+------+
#  srv     turn   pluto    re1    re2    rf1    rf2    rs1    rs2    (routers .11-.16)
#  .5,.6    .3     .20      |      |      |      |      |      |
#  probe   coturn  peer    he1    he2    hf1    hf2    hs1    hs2   (10.77.1NN.2)
#                           (+he1b .3: a second host behind re1)
#
# Needs root; exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR source=natlib.sh
source "$here/natlib.sh"

require_root
require_cmd turnserver turnutils_stunclient turnutils_uclient turnutils_peer timeout
nat_require
lib_init

SRV=10.77.100.5
SRV2=10.77.100.6
TURN=10.77.100.3
declare -A flavour=([e1]=eim [e2]=port-restricted [f1]=full-cone [f2]=full-cone
	[s1]=symmetric [s2]=symmetric)
declare -A wan=([e1]=11 [e2]=12 [f1]=13 [f2]=14 [s1]=15 [s2]=16)

nat_internet
nat_public srv "$SRV"
ip -n "$(ns srv)" addr add "$SRV2/24" dev eth0
nat_public turn "$TURN"
nat_public pluto 10.77.100.20
for r in e1 e2 f1 f2 s1 s2; do
	nat_router "r$r" "10.77.100.${wan[$r]}" "1${wan[$r]}" "${flavour[$r]}"
	nat_peer "r$r" "h$r" "10.77.1${wan[$r]}.2"
done
nat_peer re1 he1b 10.77.111.3
nat_probe_server srv "$SRV:7000" "$SRV:7001" "$SRV2:7000"
wait_for_udp_port srv 7000 10

json_get()
{
	python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(str(v).lower() if isinstance(v, bool) else v)' "$1"
}

# classify HOST PORT: the probe's verdict as "MAPPING FILTERING PRESERVED".
classify()
{
	local out
	out=$(nat_probe "$1" classify "$2" "$SRV:7000" "$SRV:7001" "$SRV2:7000")
	echo "$1 from port $2: $out" >&2
	printf '%s %s %s\n' "$(json_get mapping <<<"$out")" "$(json_get filtering <<<"$out")" \
		"$(json_get port_preserved <<<"$out")"
}

expect_class()
{
	local host=$1 port=$2 want=$3 got
	got=$(classify "$host" "$port")
	[[ $got == "$want" ]] || {
		echo "$host: got '$got', want '$want'" >&2
		return 1
	}
}

EIM="endpoint-independent address-and-port-dependent true"
check "eim: endpoint-independent mapping, port kept, address+port-dependent filtering" \
	expect_class he1 5000 "$EIM"
check "port-restricted is the same NAT as eim" expect_class he2 5000 "$EIM"
check "full-cone: endpoint-independent mapping and filtering, port kept" \
	expect_class hf1 5000 "endpoint-independent endpoint-independent true"
check "symmetric: a new random port per destination, address+port-dependent filtering" \
	expect_class hs1 5000 "address-and-port-dependent address-and-port-dependent false"
# A second host behind the same router, same source port, same destinations:
# the port is taken, so it gets another one (still the same for every
# destination here, because the first host holds the port towards all three).
second_host()
{
	local got
	got=$(classify he1b 5000)
	[[ $got == "endpoint-independent address-and-port-dependent false" ]]
}
check "eim: a second host's clashing source port is remapped" second_host

# Timeouts: per network namespace, and what keeps a mapping alive.
nat_udp_timeout re1 3
check "the UDP timeout is per router (host keeps its own)" \
	test "$(sysctl -n net.netfilter.nf_conntrack_udp_timeout)" != 3
check "... and so does another router" \
	test "$(ns_exec re2 sysctl -n net.netfilter.nf_conntrack_udp_timeout)" != 3
# Three holds at once (one port each): an answer WAIT s after the request,
# with traffic every KEEP s meanwhile (0: none). Margins stay at 2 s or
# more: conntrack expires entries on its own schedule, and a test that races
# it would fail under load.
declare -A hold_pid
for spec in "5101 1 0" "5102 5 0" "5103 7 1"; do
	read -r p wait keep <<<"$spec"
	nat_probe he1 hold "$p" "$SRV:7000" "$wait" "$keep" >"$TEST_TMP/hold-$p" &
	hold_pid[$p]=$!
done
for p in "${!hold_pid[@]}"; do
	wait "${hold_pid[$p]}"
done
# received PORT WANT: whether that hold's answer got in is WANT.
received()
{
	[[ $(json_get received <"$TEST_TMP/hold-$1") == "$2" ]]
}
check "timeout 3 s: an answer after 1 s gets in" received 5101 true
check "timeout 3 s: an answer after 5 s is dropped (mapping gone)" received 5102 false
check "timeout 3 s: traffic every 1 s keeps the mapping for 7 s" received 5103 true
nat_udp_timeout re1 30

# punch A B PORT: "true" when both ends of A <-> B reach each other directly.
punch()
{
	local a=$1 b=$2 port=$3 pid_a out_a out_b
	# The rendezvous names carry the port: every run registers afresh.
	nat_probe "h$a" punch "$port" "$SRV:7000" "$a-$port" "$b-$port" >"$TEST_TMP/punch-$a" &
	pid_a=$!
	out_b=$(nat_probe "h$b" punch "$port" "$SRV:7000" "$b-$port" "$a-$port")
	wait "$pid_a"
	out_a=$(cat "$TEST_TMP/punch-$a")
	echo "punch $a(${flavour[$a]}) <-> $b(${flavour[$b]}): $out_a $out_b" >&2
	if [[ $(json_get direct <<<"$out_a") == true && $(json_get direct <<<"$out_b") == true ]]; then
		echo true
	else
		echo false
	fi
}

expect_punch()
{
	[[ $(punch "$1" "$2" "$3") == "$4" ]]
}

port=6000
while read -r a b want; do
	port=$((port + 1))
	check "direct UDP ${flavour[$a]} <-> ${flavour[$b]}: $want" expect_punch "$a" "$b" "$port" "$want"
done <<-EOF
	e1 e2 true
	e1 f1 true
	e1 s1 false
	f1 f2 true
	f1 s1 true
	s1 s2 false
EOF

# coturn: STUN from behind NATs, and a TURN relay.
coturn_start turn "$TURN"
reflexive()
{
	local host=$1 want=$2 out
	out=$(ns_exec "$host" timeout 10 turnutils_stunclient -p "$COTURN_PORT" "$TURN" 2>&1) || return 1
	echo "$host: $out" >&2
	grep -Eq "reflexive addr: ${want//./\\.}:[0-9]+" <<<"$out"
}
check "coturn's STUN answer from behind eim is the router's address" reflexive he1 10.77.100.11
check "coturn's STUN answer from behind symmetric is the router's address" reflexive hs1 10.77.100.15
check "coturn listens on its internet address only" \
	test "$(ns_exec turn ss -Hlun | awk '{print $4}' | sort -u)" = "$TURN:$COTURN_PORT"

ns_spawn pluto "$TEST_TMP/turnpeer.log" "$TEST_TMP/turnpeer.log" turnutils_peer -L 10.77.100.20 -p 3480
wait_for_udp_port pluto 3480 10
# relay_works USER PASSWORD SECONDS: uclient allocates a relay from behind the
# symmetric NAT and echoes 10 messages off turnutils_peer on pluto through it.
relay_works()
{
	local out
	out=$(ns_exec hs1 timeout "$3" turnutils_uclient -u "$1" -w "$2" -e 10.77.100.20 -r 3480 \
		-n 10 -c "$TURN" 2>&1) || true
	echo "$out" | tail -4 >&2
	grep -q 'tot_send_msgs=10, tot_recv_msgs=10' <<<"$out"
}
check "TURN from behind symmetric: 10 messages relayed to a peer and back" \
	relay_works "$COTURN_USER" "$COTURN_PASS" 30
relay_refused()
{
	! relay_works "$@"
}
check "TURN with a wrong password is refused" relay_refused "$COTURN_USER" wrong 5
check "coturn logged the allocation" grep -q "ALLOCATE processed, success" "$COTURN_LOG"
check "coturn logged the refusal" grep -q "error 401" "$COTURN_LOG"
check "coturn stops on SIGTERM" coturn_stop

finish
