#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli.sh: the idloc command line against a real idlocd that `idloc up`
# starts itself: the config it writes, status, log and log -f, a restart for a
# new name, netcheck through a NAT against STUN servers of the test's own,
# down, and "not running" afterwards; then the bash completion.
#
#   netns idloc-<pid>-a         netns idloc-<pid>-r          netns idloc-<pid>-s
#   +--------------------+      +---------------------+      +----------------------+
#   | idloc up -> idlocd |      | router: forwards,   |      | STUN responder       |
#   | 10.77.1.2/24       |------| MASQUERADE on v-s   |------| 10.77.2.2:3478, 3479 |
#   | default via .1.1   |      | 10.77.1.1 10.77.2.1 |      | 10.77.2.3:3478       |
#   +--------------------+      +---------------------+      +----------------------+
#
# Nothing leaves the namespaces: the daemon has no bootstrap peer (a new
# overlay), [dns] upstream = none and configure = none, and the STUN and TURN
# servers are addresses in namespace s (10.77.2.9 is nobody: a silent relay).
# Needs root; exits 77 (skip) otherwise. IDLOCD and IDLOC name the binaries.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

: "${IDLOCD:?set IDLOCD to the idlocd binary}"
: "${IDLOC:?set IDLOC to the idloc binary}"
export IDLOCD
require_root
require_cmd python3 ss
lib_init

COMPLETION=$(cd "$(dirname "$0")/../../packaging/bash-completion" && pwd)/idloc
DIR=$TEST_TMP/a
CONF=$DIR/idloc.conf
STATE=$DIR/state
SOCK=$DIR/idloc.sock
mkdir -p "$DIR"

# A minimal RFC 5389 STUN server: Binding requests get the source address
# back as XOR-MAPPED-ADDRESS. Listens on every ADDR:PORT given.
STUN_PY='
import select, socket, struct, sys
socks = []
for spec in sys.argv[1:]:
    host, port = spec.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        data, (ip, port) = s.recvfrom(2048)
        if len(data) < 20 or data[:2] != b"\x00\x01" or data[4:8] != b"\x21\x12\xa4\x42":
            continue
        xip = bytes(a ^ b for a, b in zip(socket.inet_aton(ip), data[4:8]))
        attr = struct.pack("!HHBBH", 0x0020, 8, 0, 1, port ^ 0x2112) + xip
        s.sendto(struct.pack("!HHI", 0x0101, len(attr), 0x2112A442) + data[8:20] + attr,
                 (ip, port))
'

idloc_a()
{
	ns_exec a "$IDLOC" "$@"
}

# json_check FILE PYTHON-EXPRESSION: the expression over the JSON in d.
json_check()
{
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

# ---- the namespaces ----
ns_create a
ns_create r
ns_create s
veth_link a r 10.77.1.2/24 10.77.1.1/24
veth_link r s 10.77.2.1/24 10.77.2.2/24
ip -n "$(ns s)" addr add 10.77.2.3/24 dev "$(veth_if s r)"
ip -n "$(ns a)" route add default via 10.77.1.1
ns_exec r sysctl -qw net.ipv4.ip_forward=1
NAT=0
if command -v iptables >/dev/null &&
	ns_exec r iptables -t nat -A POSTROUTING -o "$(veth_if r s)" -j MASQUERADE 2>/dev/null; then
	NAT=1
else
	echo "note: no NAT here (iptables cannot masquerade): netcheck sees no NAT"
	ip -n "$(ns s)" route add 10.77.1.0/24 via 10.77.2.1
fi
ns_spawn s "$TEST_TMP/stun.log" "$TEST_TMP/stun.log" \
	python3 -c "$STUN_PY" 10.77.2.2:3478 10.77.2.3:3478 10.77.2.2:3479
wait_for_log "$TEST_TMP/stun.log" '^ready' 10

# ---- idloc up: a config of the user's, completed by idloc ----
cat >"$CONF" <<EOF
# Written by test_cli.sh; idloc up adds the overlay and the name.
[peer]
# where this test keeps its state
state-dir = $STATE
control = $SOCK ; not the default
[tun]
device = idlcli
[dns]
upstream = none
configure = none
[ice]
stun = 10.77.2.2:3478
stun = 10.77.2.3:3478
turn = turn://user:secretpw@10.77.2.2:3479
turn = turn://user:secretpw@10.77.2.9:3478
EOF

rc=0
idloc_a up --overlay x.internal --name a -c "$CONF" >"$TEST_TMP/up.out" 2>"$TEST_TMP/up.err" || rc=$?
check "idloc up exits 0" test "$rc" -eq 0
check "idloc up prints the joined status" grep -q '^joined      yes$' "$TEST_TMP/up.out"
check "idloc up prints the fqdn" grep -q '^fqdn        a\.x\.internal$' "$TEST_TMP/up.out"
check "the config keeps the user's comments" grep -q '^# where this test keeps its state$' "$CONF"
check "the config keeps inline comments" grep -q "^control = $SOCK ; not the default\$" "$CONF"
check "the config has the overlay" grep -q '^domain = x\.internal$' "$CONF"
check "the config has the name" grep -q '^name = a$' "$CONF"
check "the daemon's log is in the state directory" test -s "$STATE/idlocd.log"
config_ok()
{
	ns_exec a "$IDLOCD" -c "$CONF" --check >/dev/null
}
check "idlocd accepts the written config" config_ok

# ---- status and log ----
rc=0
idloc_a -c "$CONF" status >"$TEST_TMP/status.out" 2>&1 || rc=$?
check "status exits 0" test "$rc" -eq 0
check "status says joined" grep -q '^joined      yes$' "$TEST_TMP/status.out"
idloc_a -c "$CONF" status --json >"$TEST_TMP/status.json"
check "status --json: joined, name a" \
	json_check "$TEST_TMP/status.json" 'd["overlay"]["joined"] and d["name"] == "a"'

idloc_a -c "$CONF" log -n 5 >"$TEST_TMP/log5.out"
n=$(wc -l <"$TEST_TMP/log5.out")
check "log -n 5 prints 1 to 5 lines" test "$n" -ge 1 -a "$n" -le 5
check "log lines read 'date time level message'" \
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} [a-z]+ +[^ ]' \
	"$TEST_TMP/log5.out"
check "the log holds the daemon's start" \
	sh -c "'$IDLOC' -s '$SOCK' log -n 500 | grep -q 'idlocd .* starting'"
idloc_a -c "$CONF" log -n 3 --json >"$TEST_TMP/log3.json"
check "log --json is a list of line objects" \
	json_check "$TEST_TMP/log3.json" 'len(d) == 3 and all("msg" in l and "time_ms" in l for l in d)'

# ---- log -f sees what a later command makes the daemon log ----
ns_spawn a "$TEST_TMP/follow.out" "$TEST_TMP/follow.err" "$IDLOC" -c "$CONF" log -f -n 0
FOLLOW=$SPAWNED_PID
for ((i = 0; i < 50; i++)); do
	# The follower is connected once the socket has a connection.
	if [[ $(ns_exec a ss -Hx | grep -c "$SOCK") -ge 1 ]]; then
		break
	fi
	sleep 0.1
done
sleep 0.3
# A new name: idloc stops the daemon (which tells the follower) and starts it again.
rc=0
idloc_a up --name b -c "$CONF" >"$TEST_TMP/up2.out" 2>"$TEST_TMP/up2.err" || rc=$?
check "idloc up --name b exits 0" test "$rc" -eq 0
check "the restarted daemon is b" grep -q '^fqdn        b\.x\.internal$' "$TEST_TMP/up2.out"
check "the name changed in place" test "$(grep -c '^name = ' "$CONF")" -eq 1
check "the old log is kept" test -s "$STATE/idlocd.log.1"
rc=0
wait "$FOLLOW" || rc=$?
check "log -f ends with the daemon, exit 0" test "$rc" -eq 0
check "log -f streamed the shutdown request" grep -q 'control: shutdown asked by uid 0' "$TEST_TMP/follow.out"
check "log -f streamed the daemon's stop" grep -Eq ' notice +shutting down$' "$TEST_TMP/follow.out"
check "log -f says why it ended" grep -qx 'idloc: log: the daemon is shutting down' "$TEST_TMP/follow.err"

# ---- netcheck ----
rc=0
idloc_a -c "$CONF" netcheck --json >"$TEST_TMP/nc.json" 2>"$TEST_TMP/nc.err" || rc=$?
check "netcheck --json exits 0" test "$rc" -eq 0
check "netcheck: both STUN servers answered" \
	json_check "$TEST_TMP/nc.json" 'all(s["mapped"] for s in d["stun"]) and len(d["stun"]) == 2'
check "netcheck: the relay that answers is reachable, the other not" \
	json_check "$TEST_TMP/nc.json" \
	'[r["reachable"] for r in d["relays"]] == [True, False] and d["relays"][1]["error"] == "no answer"'
check "netcheck: local addresses" \
	json_check "$TEST_TMP/nc.json" '{"interface": "v-r", "address": "10.77.1.2"} in d["local"]'
check "netcheck never shows TURN credentials" sh -c "! grep -q secretpw '$TEST_TMP/nc.json'"
if [[ $NAT -eq 1 ]]; then
	check "netcheck: the reflexive address is the router's" \
		json_check "$TEST_TMP/nc.json" 'd["reflexive"][0].startswith("10.77.2.1:") and len(d["reflexive"]) == 1'
	check "netcheck: MASQUERADE maps endpoint-independently" \
		json_check "$TEST_TMP/nc.json" 'd["nat"]["mapping"] == "endpoint-independent"'
	# A new random port per destination: a symmetric NAT.
	ns_exec r iptables -t nat -F POSTROUTING
	if ns_exec r iptables -t nat -A POSTROUTING -o "$(veth_if r s)" -j MASQUERADE --random-fully 2>/dev/null; then
		idloc_a -c "$CONF" netcheck --json >"$TEST_TMP/nc2.json"
		check "netcheck: --random-fully maps per destination" \
			json_check "$TEST_TMP/nc2.json" 'd["nat"]["mapping"] == "endpoint-dependent" and len(d["reflexive"]) == 2'
	fi
else
	check "netcheck: no NAT on the path" \
		json_check "$TEST_TMP/nc.json" 'd["nat"]["mapping"] == "none"'
fi
idloc_a -c "$CONF" netcheck >"$TEST_TMP/nc.out"
check "netcheck prints the verdict and the tables" \
	sh -c "grep -q '^NAT  ' '$TEST_TMP/nc.out' && grep -q '^STUN SERVER ' '$TEST_TMP/nc.out' && grep -q '^RELAY ' '$TEST_TMP/nc.out'"

# ---- down, and the daemon is gone ----
rc=0
idloc_a -c "$CONF" down >"$TEST_TMP/down.out" 2>&1 || rc=$?
check "idloc down exits 0" test "$rc" -eq 0
check "no process is left in the namespace" test -z "$(ip netns pids "$(ns a)")"
check "the control socket is gone" test ! -e "$SOCK"
rc=0
idloc_a -c "$CONF" status >"$TEST_TMP/gone.out" 2>"$TEST_TMP/gone.err" || rc=$?
check "status without a daemon exits 1" test "$rc" -eq 1
check "status without a daemon says so in one line" test "$(cat "$TEST_TMP/gone.err")" = \
	"idlocd is not running (nothing answers on $SOCK): start it with 'idloc up' or 'systemctl start idlocd'"
rc=0
idloc_a -c "$CONF" down >"$TEST_TMP/down2.out" 2>&1 || rc=$?
check "down without a daemon is not an error" test "$rc" -eq 0
check "down without a daemon says so" grep -qx 'idlocd is not running' "$TEST_TMP/down2.out"
rc=0
"$IDLOC" frob >/dev/null 2>&1 || rc=$?
check "an unknown command exits 2" test "$rc" -eq 2

# ---- bash completion ----
# complete WORDS...: what the completion offers for the last word.
complete_words()
{
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _idloc; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$COMPLETION" "$@"
}
check "completion: 'st' is status" test "$(complete_words idloc st)" = status
check "completion: every command" test "$(complete_words idloc '' | wc -l)" -eq 12
check "completion: log --f is --follow" test "$(complete_words idloc -c /x log --f)" = --follow
check "completion: up --ov is --overlay" test "$(complete_words idloc up --ov)" = --overlay
offers()
{
	local want=$1
	shift
	complete_words "$@" | grep -qx -- "$want"
}
check "completion: ping's -W" offers -W idloc ping mars -
check "completion: up's --no-bootstrap" offers --no-bootstrap idloc up --overlay x ''
check "completion: -c takes a file" test "$(complete_words idloc -c "$DIR/idloc.co")" = "$CONF"
check "completion: help names commands" test "$(complete_words idloc help ne)" = netcheck

finish
