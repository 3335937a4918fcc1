#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_turn_interop.sh: coturn's TURN client against idloc's TURN server.
#
# In a network namespace of its own (loopback only), turn_serve runs the server
# with one fixed user, on 127.0.0.1 and on [::1]. turnutils_uclient then makes
# two allocations that send to each other (-y) through the relay, once over
# channels and once with Send/Data indications, over IPv4 and over IPv6, and
# must get every message back; a wrong password must get no allocation; the
# server's counters must show the relayed bytes and the refusals.
#
# Needs root; exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
source "$here/../integration/lib.sh"

TURN_SERVE=${TURN_SERVE:?set TURN_SERVE to the turn_serve binary}
USER_NAME=alice
PASSWORD=turn-interop-secret
REALM=relay.test
MESSAGES=20
SIZE=200

require_root
require_cmd turnutils_uclient
lib_init
ns_create relay

# serve NAME LISTEN RELAY: starts turn_serve; SERVE_PID is its pid.
serve()
{
	local name=$1
	ns_spawn relay "$TEST_TMP/$name.log" "$TEST_TMP/$name.log" \
		"$TURN_SERVE" --listen "$2" --relay "$3" --realm "$REALM" \
		--user "$USER_NAME" --password "$PASSWORD" -v
	SERVE_PID=$SPAWNED_PID
	wait_for_log "$TEST_TMP/$name.log" '^ready ' 10
}

# uclient LOG ARGS...: turnutils_uclient with two peers relaying to each
# other (-y), no RTCP allocations (-c); its output goes to LOG.
uclient()
{
	local log=$1
	shift
	timeout 60 ip netns exec "$(ns relay)" turnutils_uclient -u "$USER_NAME" "$@" -y -c \
		-n "$MESSAGES" -l "$SIZE" >"$TEST_TMP/$log.log" 2>&1
}

# Every message sent came back, and none was lost.
delivered()
{
	local log=$TEST_TMP/$1.log total=$((2 * MESSAGES))
	grep -q "tot_send_msgs=$total, tot_recv_msgs=$total" "$log" &&
		grep -q 'Total lost packets 0 ' "$log"
}

# counter NAME FIELD: a counter from the "stats ..." line turn_serve prints on exit.
counter()
{
	sed -n "s/^stats .*\\b$2=\\([0-9]*\\).*/\\1/p" "$TEST_TMP/$1.log"
}

serve serve4 127.0.0.1:3478 127.0.0.1
check "IPv4: relayed over channels" uclient chan4 -w "$PASSWORD" -p 3478 127.0.0.1
check "IPv4: every message back over channels" delivered chan4
check "IPv4: relayed with Send and Data indications" \
	uclient send4 -w "$PASSWORD" -s -p 3478 127.0.0.1
check "IPv4: every message back with indications" delivered send4
if uclient bad -w wrong-password -p 3478 127.0.0.1; then
	fail "a wrong password is refused"
else
	check "a wrong password is refused" grep -q 'Cannot complete Allocation' "$TEST_TMP/bad.log"
fi
check "IPv4: the server stops cleanly" stop_pid "$SERVE_PID" 10
bytes=$(counter serve4 relayed_bytes)
refused=$(counter serve4 refused_auth)
# Each message crosses the server twice: to the other relay, then to its client.
check "IPv4: the server relayed every byte ($bytes)" \
	test "${bytes:-0}" -ge $((2 * 2 * 2 * MESSAGES * SIZE))
check "IPv4: the server counted the refusals ($refused)" test "${refused:-0}" -ge 1

serve serve6 '[::1]:3478' ::1
check "IPv6: relayed over channels" uclient chan6 -w "$PASSWORD" -x -p 3478 ::1
check "IPv6: every message back" delivered chan6
check "IPv6: the server stops cleanly" stop_pid "$SERVE_PID" 10
bytes=$(counter serve6 relayed_bytes)
check "IPv6: the server relayed every byte ($bytes)" \
	test "${bytes:-0}" -ge $((2 * 2 * MESSAGES * SIZE))

finish
