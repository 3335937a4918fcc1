#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_bex_two_peers.sh: two idlocd peers in network namespaces run a HIP base
# exchange, carry ICMPv6 and UDP through ESP both ways, close, and tshark checks
# what crossed the wire (every HIP packet type, decrypted ESP, no bad ICV).
#
#   netns idloc-<pid>-a                          netns idloc-<pid>-b
#   +--------------------------+                 +--------------------------+
#   | idlocd A (no bootstrap)  |                 | idlocd B                 |
#   |   TUN idl-a: HIT_A/128   |                 |   TUN idl-b: HIT_B/128   |
#   |   2001:20::/28 -> idl-a  |                 |   2001:20::/28 -> idl-b  |
#   |   socat UDP6-RECV :7777  |                 |   bootstrap 10.77.0.1    |
#   |                          |   veth pair     |                          |
#   |   v-b 10.77.0.1/24 ------+-----------------+------ v-a 10.77.0.2/24   |
#   |   dumpcap on v-b         |  UDP 10500:     |                          |
#   +--------------------------+  HIP and ESP    +--------------------------+
#
# Needs root; exits 77 (skip) otherwise. IDLOCD names the daemon binary.
# IDLOC_KEEP_CAPTURE=DIR copies the capture and the ESP key logs there.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

: "${IDLOCD:?set IDLOCD to the idlocd binary}"
require_root
require_cmd tshark dumpcap socat ping ss python3
lib_init

HIP_PORT=10500
UDP_PORT=7777
MARKER="idloc-esp-check-$$-$RANDOM"
CAP=$TEST_TMP/cap.pcapng

# write_config NAME TUN [BOOTSTRAP]
write_config()
{
	local name=$1 tun=$2 bootstrap=${3:-}
	mkdir -p "$TEST_TMP/$name/state"
	chmod 700 "$TEST_TMP/$name/state"
	{
		echo "[overlay]"
		echo "domain = test.internal"
		if [[ -n $bootstrap ]]; then
			echo "bootstrap = $bootstrap"
		fi
		echo "[peer]"
		echo "name = $name"
		echo "port = $HIP_PORT"
		echo "state-dir = $TEST_TMP/$name/state"
		echo "control = $TEST_TMP/$name/control.sock"
		echo "[tun]"
		echo "device = $tun"
		echo "mtu = 1400"
		echo "[dns]"
		echo "upstream = none"
		echo "configure = none"
		echo "[hip]"
		echo "puzzle-difficulty = 10"
		echo "[debug]"
		echo "key-log = $TEST_TMP/$name/esp-keys"
	} >"$TEST_TMP/$name.conf"
}

# print_hit NAME: loads or creates NAME's identity and prints its HIT.
print_hit()
{
	ns_exec "$1" "$IDLOCD" -c "$TEST_TMP/$1.conf" --print-hit 2>"$TEST_TMP/$1/print-hit.log"
}

# start_daemon NAME: runs idlocd in NAME's namespace, log in $TEST_TMP/NAME.log.
start_daemon()
{
	ns_spawn "$1" "$TEST_TMP/$1.log" "$TEST_TMP/$1.log" \
		"$IDLOCD" -c "$TEST_TMP/$1.conf" -f --log-level info
}

is_hit()
{
	[[ $1 =~ ^2001:(0*)2[0-9a-f]: ]]
}

ns_create a
ns_create b
veth_link a b 10.77.0.1/24 10.77.0.2/24

write_config a idl-a
write_config b idl-b "10.77.0.1:$HIP_PORT"

HIT_A=$(print_hit a)
HIT_B=$(print_hit b)
check "A's HIT '$HIT_A' is an ORCHIDv2" is_hit "$HIT_A"
check "B's HIT '$HIT_B' is an ORCHIDv2" is_hit "$HIT_B"
check "A and B have different HITs" test "$HIT_A" != "$HIT_B"
check "--print-hit is stable (identity reloaded from state-dir)" \
	test "$(print_hit a)" = "$HIT_A"
HEX_A=$(ipv6_hex "$HIT_A")
HEX_B=$(ipv6_hex "$HIT_B")
HEX_NULL=$(printf '0%.0s' {1..32})

ns_spawn a "$TEST_TMP/dumpcap.log" "$TEST_TMP/dumpcap.log" \
	dumpcap -i "$(veth_if a b)" -f "udp port $HIP_PORT" -w "$CAP"
PID_DUMPCAP=$SPAWNED_PID
wait_for_log "$TEST_TMP/dumpcap.log" "Capturing on" 10
sleep 0.5

start_daemon a
PID_A=$SPAWNED_PID
wait_for_udp_port a "$HIP_PORT" 10
start_daemon b
PID_B=$SPAWNED_PID

check "A established an association with B" \
	wait_for_log "$TEST_TMP/a.log" "HIP association with $HIT_B at .* established" 20
check "B established an association with A" \
	wait_for_log "$TEST_TMP/b.log" "HIP association with $HIT_A at .* established" 20
if [[ $TEST_FAILED -ne 0 ]]; then
	finish || true
	exit 1
fi

# SPIs as 0x%08x, one a line, sorted and unique.
normalize_spis()
{
	local spi
	while read -r spi; do
		if [[ $spi =~ ^0x[0-9a-fA-F]{1,8}$ ]]; then
			printf '0x%08x\n' "$((spi))"
		fi
	done | sort -u
}

# SPIs the daemons announce, to compare with what crossed the wire.
logged_spis()
{
	grep -Eo 'ESP SPI in 0x[0-9a-fA-F]+ out 0x[0-9a-fA-F]+' "$@" |
		grep -Eo '0x[0-9a-fA-F]+' | normalize_spis
}

check "B pings A's HIT through ESP" \
	ns_exec b ping -6 -c 3 -i 0.3 -W 2 "$HIT_A"
check "A pings B's HIT through ESP" \
	ns_exec a ping -6 -c 3 -i 0.3 -W 2 "$HIT_B"
# idlocd loads its GLib module (ICE, systemd-resolved) only when it needs
# a pipe or resolved: a direct association needs neither.
for side in A B; do
	pid_var=PID_$side
	check "$side carries traffic without loading idloc-glib.so" \
		test "$(maps_has "${!pid_var}" idloc-glib.so && echo loaded)" = ""
done

ns_spawn a "$TEST_TMP/udp-received" "$TEST_TMP/socat.log" socat -u "UDP6-RECV:$UDP_PORT" -
PID_SOCAT=$SPAWNED_PID
wait_for_udp_port a "$UDP_PORT" 10
udp_arrived()
{
	local try
	for try in 1 2 3; do
		echo "$MARKER" | ns_exec b socat -u - "UDP6-SENDTO:[$HIT_A]:$UDP_PORT"
		if wait_for_log "$TEST_TMP/udp-received" "$MARKER" 3 2>/dev/null; then
			return 0
		fi
		echo "datagram $try not received yet"
	done
	return 1
}
check "UDP datagram '$MARKER' from B reaches A's HIT" udp_arrived
stop_pid "$PID_SOCAT" 5 || true

rc=0
stop_pid "$PID_B" 10 || rc=$?
check "B exits with status 0 on SIGTERM (got $rc)" test "$rc" -eq 0
check "B logs 'stopped'" wait_for_log "$TEST_TMP/b.log" "stopped" 1
check "A sees the association with B closed" \
	wait_for_log "$TEST_TMP/a.log" "HIP association with $HIT_B closed" 5

rc=0
stop_pid "$PID_A" 10 || rc=$?
check "A exits with status 0 on SIGTERM (got $rc)" test "$rc" -eq 0

sleep 0.5
rc=0
stop_pid "$PID_DUMPCAP" 10 || rc=$?
check "capture stopped cleanly (status $rc)" test "$rc" -eq 0

cat "$TEST_TMP"/a/esp-keys "$TEST_TMP"/b/esp-keys 2>/dev/null | sort -u >"$TEST_TMP/esp_sa.uat"
if [[ -n ${IDLOC_KEEP_CAPTURE:-} ]]; then
	mkdir -p "$IDLOC_KEEP_CAPTURE"
	cp "$CAP" "$IDLOC_KEEP_CAPTURE/bex_two_peers.pcapng"
	cp "$TEST_TMP/esp_sa.uat" "$IDLOC_KEEP_CAPTURE/bex_two_peers.esp_sa"
	echo "capture kept in $IDLOC_KEEP_CAPTURE"
fi

# ---- pass 1: HIP control packets (tshark's native HIP-over-UDP dissector) ----
tshark -r "$CAP" -Y hip -T fields -e hip.packet_type -e hip.hit_sndr -e hip.hit_rcvr \
	2>>"$TEST_TMP/tshark.log" | tr -d ':' | tr 'A-F' 'a-f' >"$TEST_TMP/hip.txt"
echo "HIP packets on the wire (type sender receiver):"
sed 's/^/  /' "$TEST_TMP/hip.txt"

# hip_seen TYPE SENDER RECEIVER...: a packet of TYPE from SENDER to one of RECEIVERs.
hip_seen()
{
	local type=$1 sndr=$2 r
	shift 2
	for r in "$@"; do
		if grep -Eq "^$type	$sndr	$r\$" "$TEST_TMP/hip.txt"; then
			return 0
		fi
	done
	return 1
}
check "I1 from B (to A or, opportunistic, the null HIT)" hip_seen 1 "$HEX_B" "$HEX_A" "$HEX_NULL"
check "R1 from A to B" hip_seen 2 "$HEX_A" "$HEX_B"
check "I2 from B to A" hip_seen 3 "$HEX_B" "$HEX_A"
check "R2 from A to B" hip_seen 4 "$HEX_A" "$HEX_B"
check "CLOSE from B to A" hip_seen 18 "$HEX_B" "$HEX_A"
check "CLOSE_ACK from A to B" hip_seen 19 "$HEX_A" "$HEX_B"

# ---- pass 2: ESP, decrypted with the keys the daemons logged ----
esp_opts=(-d "udp.port==$HIP_PORT,udpencap"
	-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE)
while IFS= read -r line; do
	esp_opts+=(-o "uat:esp_sa:$line")
done <"$TEST_TMP/esp_sa.uat"
check "key logs hold at least 2 SAs ($(wc -l <"$TEST_TMP/esp_sa.uat"))" \
	test "$(wc -l <"$TEST_TMP/esp_sa.uat")" -ge 2

# esp_count FILTER: number of ESP packets matching a display filter.
esp_count()
{
	tshark -r "$CAP" "${esp_opts[@]}" -Y "esp && ($1)" 2>>"$TEST_TMP/tshark.log" | wc -l
}
# at_least N FILTER
at_least()
{
	local n
	n=$(esp_count "$2")
	echo "  $n ESP packets match '$2'"
	[[ $n -ge $1 ]]
}

n_esp=$(esp_count "esp.spi")
n_good=$(esp_count "esp.icv_good == 1")
echo "  $n_esp ESP packets, $n_good with a good ICV"
check "ESP packets crossed the wire" test "$n_esp" -ge 12
check "every ESP packet has a good ICV (decrypted with the logged keys)" test "$n_good" -eq "$n_esp"
n_bad=$(esp_count "esp.icv_bad == 1")
check "no ESP packet has a bad ICV ($n_bad)" test "$n_bad" -eq 0
check "decrypted echo requests B->A" at_least 3 "ip.src == 10.77.0.2 && icmpv6.type == 128"
check "decrypted echo replies A->B" at_least 3 "ip.src == 10.77.0.1 && icmpv6.type == 129"
check "decrypted echo requests A->B" at_least 3 "ip.src == 10.77.0.1 && icmpv6.type == 128"
check "decrypted echo replies B->A" at_least 3 "ip.src == 10.77.0.2 && icmpv6.type == 129"
check "marker in the decrypted UDP payload" at_least 1 "udp.dstport == $UDP_PORT && data.data contains \"$MARKER\""
n_clear=$(tshark -r "$CAP" -Y "frame contains \"$MARKER\"" 2>>"$TEST_TMP/tshark.log" | wc -l)
check "marker never crosses the wire in clear ($n_clear packets)" test "$n_clear" -eq 0

tshark -r "$CAP" "${esp_opts[@]}" -Y esp -T fields -e esp.spi 2>>"$TEST_TMP/tshark.log" |
	normalize_spis >"$TEST_TMP/wire-spis"
logged_spis "$TEST_TMP/a.log" "$TEST_TMP/b.log" >"$TEST_TMP/log-spis"
check "SPIs on the wire ($(tr '\n' ' ' <"$TEST_TMP/wire-spis")) are the logged ones" \
	test -z "$(comm -23 "$TEST_TMP/wire-spis" "$TEST_TMP/log-spis")" -a -s "$TEST_TMP/wire-spis"

finish
