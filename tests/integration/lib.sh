# SPDX-License-Identifier: MIT
# lib.sh: network-namespace helpers for idloc's integration tests (sourced, not run).
#
# Everything a test builds lives inside namespaces it created itself: names carry the
# shell's pid, links are created directly inside the namespaces (the host never sees
# them) and addresses come from 10.77.<n>.0/24 inside those namespaces only. One
# cleanup trap kills what the test started (by pid), deletes the namespaces (which
# deletes their veths and TUNs) and the scratch directory, whether the test passes,
# fails or is interrupted.
# shellcheck shell=bash

IDLOC_NS_PREFIX="idloc-$$"
TEST_TMP=""
TEST_PASSED=0
TEST_FAILED=0
declare -a _lib_namespaces=()
declare -a _lib_pids=()
declare -a _lib_netns_etc=()

# Skips (exit 77, which meson reports as SKIP) unless we can build namespaces and TUNs.
require_root()
{
	if [[ $(id -u) -ne 0 ]]; then
		echo "SKIP: needs root (network namespaces, TUN)"
		exit 77
	fi
	if [[ ! -c /dev/net/tun ]]; then
		echo "SKIP: no /dev/net/tun"
		exit 77
	fi
	if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
		echo "SKIP: no 'ip netns'"
		exit 77
	fi
	if ! ip netns add "$IDLOC_NS_PREFIX-probe" 2>/dev/null; then
		echo "SKIP: cannot create network namespaces here"
		exit 77
	fi
	ip netns del "$IDLOC_NS_PREFIX-probe"
}

# Skips unless every named command exists.
require_cmd()
{
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null; then
			echo "SKIP: '$c' is not installed (scripts/setup installs it)"
			exit 77
		fi
	done
}

# Creates the scratch directory and installs the cleanup trap; call first.
lib_init()
{
	TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/idloc-test.XXXXXX")
	trap lib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# Full name of the namespace with short name $1.
ns()
{
	printf '%s-%s\n' "$IDLOC_NS_PREFIX" "$1"
}

# Runs a command inside namespace $1 (in the foreground: see ns_spawn for background).
ns_exec()
{
	local n=$1
	shift
	ip netns exec "$(ns "$n")" "$@"
}

# ns_spawn NAME OUT ERR COMMAND...: starts COMMAND in namespace NAME in the background
# with stdout to OUT and stderr to ERR (the same file is fine), registers it for
# cleanup and sets SPAWNED_PID. The pid is the command's own (ip execs it), so
# signals reach it directly.
ns_spawn()
{
	local n=$1 out=$2 err=$3
	shift 3
	if [[ $out == "$err" ]]; then
		ip netns exec "$(ns "$n")" "$@" >"$out" 2>&1 &
	else
		ip netns exec "$(ns "$n")" "$@" >"$out" 2>"$err" &
	fi
	SPAWNED_PID=$!
	register_pid "$SPAWNED_PID"
}

# maps_has PID FILE: process PID has a file named FILE mapped (a library or
# module it loaded).
maps_has()
{
	grep -q "/$2\$" "/proc/$1/maps"
}

# Creates namespace $1 with its loopback up.
ns_create()
{
	local full
	full=$(ns "$1")
	ip netns add "$full"
	_lib_namespaces+=("$full")
	ip -n "$full" link set lo up
}

# Name of the veth end inside namespace $1 that leads to namespace $2.
veth_if()
{
	printf 'v-%s\n' "$2"
}

# Links namespaces $1 and $2 with a veth pair and gives the ends addresses $3 and $4
# (CIDR, e.g. 10.77.0.1/24). The pair is created inside the namespaces directly.
veth_link()
{
	local a=$1 b=$2 ipa=$3 ipb=$4
	local ifa ifb
	ifa=$(veth_if "$a" "$b")
	ifb=$(veth_if "$b" "$a")
	ip -n "$(ns "$a")" link add "$ifa" type veth peer name "$ifb" netns "$(ns "$b")"
	ip -n "$(ns "$a")" addr add "$ipa" dev "$ifa"
	ip -n "$(ns "$b")" addr add "$ipb" dev "$ifb"
	ip -n "$(ns "$a")" link set "$ifa" up
	ip -n "$(ns "$b")" link set "$ifb" up
}

# Points the resolver of namespace $1 at address $2: `ip netns exec` bind-mounts
# /etc/netns/<namespace>/resolv.conf over /etc/resolv.conf. The directory is
# the test's own (its name carries the pid) and goes with the cleanup.
ns_resolv_conf()
{
	local dir
	dir=/etc/netns/$(ns "$1")
	mkdir -p "$dir"
	_lib_netns_etc+=("$dir")
	printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$2" >"$dir/resolv.conf"
}

# Remembers a pid for the cleanup trap.
register_pid()
{
	_lib_pids+=("$1")
}

# Sends SIGTERM to pid $1 and waits up to $2 seconds (default 10) for it to exit.
# Returns its exit status (124 if it had to be killed).
stop_pid()
{
	local pid=$1 timeout=${2:-10} i rc=0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 124
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

lib_cleanup()
{
	local rc=$? pid n
	trap - EXIT INT TERM
	set +e
	for pid in "${_lib_pids[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			stop_pid "$pid" 3 >/dev/null 2>&1
		fi
	done
	# Anything still inside our namespaces was started by this test.
	for n in "${_lib_namespaces[@]}"; do
		for pid in $(ip netns pids "$n" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	for n in "${_lib_netns_etc[@]}"; do
		rm -rf "$n"
	done
	if [[ -n $TEST_TMP && -d $TEST_TMP ]]; then
		if [[ $rc -ne 0 && $rc -ne 77 ]]; then
			dump_logs
		fi
		# IDLOC_KEEP_LOGS=DIR keeps every log of the run for a closer look.
		if [[ -n ${IDLOC_KEEP_LOGS:-} ]]; then
			mkdir -p "$IDLOC_KEEP_LOGS"
			(cd "$TEST_TMP" && find . -name '*.log' -exec cp --parents {} "$IDLOC_KEEP_LOGS" \;)
		fi
		rm -rf "$TEST_TMP"
	fi
	exit "$rc"
}

# Prints every *.log in the scratch directory, to diagnose a failure.
dump_logs()
{
	local f
	for f in "$TEST_TMP"/*.log "$TEST_TMP"/*/*.log; do
		[[ -f $f ]] || continue
		echo "----- ${f#"$TEST_TMP"/} (last 60 lines) -----"
		tail -n 60 "$f"
	done
}

# Waits until file $1 has a line matching extended regex $2, for at most $3 seconds.
wait_for_log()
{
	local file=$1 regex=$2 timeout=$3 i
	for ((i = 0; i < timeout * 10; i++)); do
		if [[ -f $file ]] && grep -Eq -- "$regex" "$file"; then
			return 0
		fi
		sleep 0.1
	done
	echo "timeout (${timeout}s) waiting for /$regex/ in $file" >&2
	return 1
}

# Waits until a UDP socket is bound to port $2 in namespace $1 (at most $3 seconds).
wait_for_udp_port()
{
	local n=$1 port=$2 timeout=$3 i
	for ((i = 0; i < timeout * 10; i++)); do
		if [[ -n $(ns_exec "$n" ss -Hlun "sport = :$port") ]]; then
			return 0
		fi
		sleep 0.1
	done
	echo "timeout (${timeout}s) waiting for UDP port $port in $(ns "$n")" >&2
	return 1
}

pass()
{
	TEST_PASSED=$((TEST_PASSED + 1))
	echo "PASS: $*"
}

fail()
{
	TEST_FAILED=$((TEST_FAILED + 1))
	echo "FAIL: $*"
}

# check DESCRIPTION COMMAND...: runs the command and records PASS or FAIL.
check()
{
	local what=$1
	shift
	if "$@"; then
		pass "$what"
	else
		fail "$what"
	fi
}

# Prints the totals and returns non-zero if any check failed.
finish()
{
	echo "$TEST_PASSED checks passed, $TEST_FAILED checks failed"
	[[ $TEST_FAILED -eq 0 ]]
}

# 32 lowercase hex digits of an IPv6 address (how tshark prints a HIT field).
ipv6_hex()
{
	python3 -c 'import ipaddress, sys; print(ipaddress.IPv6Address(sys.argv[1]).packed.hex())' "$1"
}

# Creates namespace $1 holding a bridge "br0": the shared segment of a LAN.
bridge_create()
{
	ns_create "$1"
	ip -n "$(ns "$1")" link add br0 type bridge
	ip -n "$(ns "$1")" link set br0 up
}

# Plugs namespace $2 into the bridge of namespace $1 with address $3 (CIDR) on
# its end, named "eth0".
bridge_attach()
{
	local sw=$1 host=$2 addr=$3 port
	port="p-$host"
	ip -n "$(ns "$host")" link add eth0 type veth peer name "$port" netns "$(ns "$sw")"
	ip -n "$(ns "$sw")" link set "$port" master br0
	ip -n "$(ns "$sw")" link set "$port" up
	ip -n "$(ns "$host")" addr add "$addr" dev eth0
	ip -n "$(ns "$host")" link set eth0 up
}

# ---- traffic across moves (mobility, multi-homing, NAT moves) ----

# tcp_sink NS ADDR PORT FILE: a TCP server in NS on ADDR:PORT that counts
# what one client sends and writes the count to FILE when it closes.
tcp_sink()
{
	ns_spawn "$1" "$4.log" "$4.log" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); c, _ = s.accept(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    n += len(b)
open(sys.argv[3], "w").write(str(n))' "$2" "$3" "$4"
}

# tcp_source NS ADDR PORT KB LOG: sends KB kilobytes (1000 bytes every 20 ms,
# a stream that outlasts a move) to ADDR:PORT from NS; SPAWNED_PID is the
# sender, whose exit status says whether the application saw an error.
tcp_source()
{
	ns_spawn "$1" "$5" "$5" python3 -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
for _ in range(int(sys.argv[3])):
    c.sendall(b"x" * 1000); time.sleep(0.02)
c.close()' "$2" "$3" "$4"
}

# echo_session NS ADDR PORT SECONDS LOG: an interactive session (what ssh
# looks like to the network) from NS: a line every 200 ms, each echoed back by
# the server (`socat TCP-LISTEN:PORT EXEC:cat`) before the next; SPAWNED_PID
# exits non-zero on a mismatch or a 30 s stall.
echo_session()
{
	ns_spawn "$1" "$5" "$5" python3 -c '
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
f = c.makefile("rwb")
end = time.time() + float(sys.argv[3])
n = 0
while time.time() < end:
    line = b"line %d\n" % n
    f.write(line); f.flush()
    if f.readline() != line:
        sys.exit("echo mismatch at line %d" % n)
    n += 1; time.sleep(0.2)
print("session: %d lines echoed" % n)' "$2" "$3" "$4"
}

# ping_lost LOG: how many of a ping run's packets got no answer (-1 if the
# summary line is missing).
ping_lost()
{
	python3 -c 'import re, sys
t = open(sys.argv[1]).read()
m = re.search(r"(\d+) packets transmitted, (\d+) received", t)
print(int(m[1]) - int(m[2]) if m else -1)' "$1"
}

# wait_for_file FILE: up to 5 s for FILE to be non-empty.
wait_for_file()
{
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.1
	done
	return 1
}

# capture_stop PID FILE: stops a `tcpdump -w FILE` once it has written what
# the kernel handed it. On SIGTERM tcpdump drops what is still queued for it
# (on a loaded machine that was most of a test's traffic), so wait until
# FILE stops growing for half a second (10 s at most) first.
capture_stop()
{
	local pid=$1 file=$2 size last=-1 i
	for ((i = 0; i < 20; i++)); do
		size=$(stat -c %s "$file" 2>/dev/null || echo 0)
		[[ $size == "$last" ]] && break
		last=$size
		sleep 0.5
	done
	stop_pid "$pid" 5 || true
}
