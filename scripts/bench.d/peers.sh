#!/usr/bin/env bash
# peers.sh: benchmark userspace VPNs side by side between two network
# namespaces on this machine, one invocation, one table.
#
# Origin: the shared peer VPN harness (../shared/bench/peers.sh, the script
# that produced the table of idloc issue 7), copied into the repository so a
# fresh clone can run it. Changes here, each marked "idloc:": the system
# column is 12 wide (idloc-relay), and shellcheck directives for the word
# splitting it does on purpose. idloc's own systems are in peers.d/idloc.sh;
# scripts/bench drives the whole run.
#
# Usage:  peers.sh [CSV_PATH]            (as root)
#   SYSTEMS="veth wireguard"  run only these, in this order (default: all registered)
#   DURATION=10               seconds per iperf3 run
#   PINGS=200 PING_INTERVAL=0.01
#   FIRST_TRIALS=3            bring-ups per system for the first-reply median
#   KEEP_WORK=1               keep the temp dir (configs, keys, daemon logs)
#
# For every system, one after another, the harness makes fresh namespaces
# pb-a and pb-b joined by a veth (10.201.0.1/30 <-> 10.201.0.2/30, IPv4 only),
# calls setup_<name> to bring the tunnel up, and measures through the tunnel
# addresses:
#   first  ms from launching the B-side daemon (the A side already up and
#          listening) until the first ping reply B->A, pinging every 2 ms:
#          process start, TUN setup and handshake. Median of FIRST_TRIALS
#          bring-ups from scratch. "post-up" is the part after setup_<name>
#          returned (B's tunnel configured): the handshake plus about 3 ms to
#          start ping.
#   rtt    PINGS pings A->B at PING_INTERVAL: min/avg/p50 (CSV: p99, max, loss)
#   tcp1   iperf3 A->B, 1 stream, DURATION s, sender Gbit/s. The daemons'
#          user+sys CPU seconds (both sides, from /proc/PID/stat) during it.
#   tcp4   iperf3 A->B, 4 parallel streams
#   rss    VmRSS of the daemons when idle, before any traffic (CSV: VmHWM at
#          the end too)
# Then it kills what it started (by PID) and deletes the namespaces.
#
# Adding a system, such as our own VPN: write, here or in peers.d/<name>.sh
# next to this file (sourced automatically),
#   register <name> "<commands it needs>"
#   setup_<name>     Start each daemon with `spawn <ns> <tag> cmd...`: the A
#                    side first, wait until it is ready, then the B side (the
#                    first-reply clock starts at the LAST spawn). Bring the
#                    tunnel up and set TUN_A_ADDR and TUN_B_ADDR; optionally
#                    SYS_VERSION, SYS_CIPHER, SYS_NOTE. On failure set
#                    FAIL_REASON and return non-zero.
#   teardown_<name>  Extra cleanup (optional). Runs after the harness has
#                    killed the spawned PIDs and before it deletes the
#                    namespaces.
#   info_<name>      Called after the measurements (optional). It may refine
#                    SYS_CIPHER or SYS_NOTE from the daemon logs.
# Tunnel subnets in use: .16/28 wireguard, .32/28 nebula, .48/28 tinc,
# .64/28 openvpn. (idloc: .96/28 is the idloc-relay row's third namespace
# and its links.) Free: 10.201.0.80/28, then 10.201.0.112/28 up to
# 10.201.0.240/28. Stay inside 10.201.0.0/24. (idloc: its tunnel addresses
# are LSIs from its default prefix 100.64.0.0/10, the addresses its users
# see; they exist only inside the namespaces.)

set -uo pipefail
export LC_ALL=C

NS_A=pb-a NS_B=pb-b
VETH_A=pb-veth-a VETH_B=pb-veth-b
UNDER_A=10.201.0.1 UNDER_B=10.201.0.2 UNDER_PREFIX=30
DURATION=${DURATION:-10}
PINGS=${PINGS:-200}
PING_INTERVAL=${PING_INTERVAL:-0.01}
SETTLE_S=${SETTLE_S:-2}
FIRST_TIMEOUT_S=${FIRST_TIMEOUT_S:-20}
FIRST_TRIALS=${FIRST_TRIALS:-3}
IPERF_PORT=5201
CSV_OUT=${1:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ALL_SYSTEMS=()
declare -A SYS_NEEDS=()
# command -> Debian package, for the install step
declare -A PKG_OF=(
  [iperf3]=iperf3 [ip]=iproute2 [ss]=iproute2 [ping]=iputils-ping
  [timeout]=coreutils [getconf]=libc-bin
  [wireguard-go]=wireguard-go [wg]=wireguard-tools
  [nebula]=nebula [nebula-cert]=nebula [yggdrasil]=yggdrasil
  [tincd]=tinc [openvpn]=openvpn [openssl]=openssl
)
CORE_CMDS="ip ss ping iperf3 timeout getconf"

register() { ALL_SYSTEMS+=("$1"); SYS_NEEDS[$1]=${2:-}; }

# ---------------------------------------------------------------- helpers ---

log()    { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
# A sleep without a fork: read with a timeout on a FIFO that never gets data.
nap()    { read -r -t "${1:-0.002}" -u "$NAP_FD" _ || :; }
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }
nsx()    { ip netns exec "$@"; }
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }

# Run a setup step, quietly; on failure remember what failed.
must() {
  "$@" >>"$WORK/$CURRENT-setup.log" 2>&1 && return 0
  FAIL_REASON="failed: $*"
  return 1
}

pid_alive() {
  local s
  read -r s 2>/dev/null <"/proc/$1/stat" || return 1
  s=${s##*) }
  [[ ${s:0:1} != Z ]]
}

daemons_alive() {
  local p
  for p in "${DAEMON_PIDS[@]}"; do pid_alive "$p" || return 1; done
}

# spawn NS TAG CMD...: start a tunnel daemon in namespace NS, in the
# background, logging to $WORK/<system>-<tag>.log. `ip netns exec` execs in
# place, so $! is the daemon's own PID.
spawn() {
  local ns=$1 tag=$2; shift 2
  T_JOIN_US=$(now_us)
  ip netns exec "$ns" "$@" >"$WORK/$CURRENT-$tag.log" 2>&1 </dev/null &
  DAEMON_PIDS+=("$!")
  DAEMON_SIDES+=("$ns")
  DAEMON_TAGS+=("$tag")
}

# Same for helpers that are not part of the tunnel (the iperf3 server).
spawn_aux() {
  local ns=$1 tag=$2; shift 2
  ip netns exec "$ns" "$@" >"$WORK/$CURRENT-$tag.log" 2>&1 </dev/null &
  AUX_PIDS+=("$!")
}

# wait_for SECONDS WHAT CMD...: poll CMD every 2 ms (plus the cost of CMD).
wait_for() {
  local deadline=$(( ${EPOCHREALTIME/./} + $1 * 1000000 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! daemons_alive; then FAIL_REASON="a daemon exited while waiting for $what"; return 1; fi
    if (( ${EPOCHREALTIME/./} > deadline )); then FAIL_REASON="timed out waiting for $what"; return 1; fi
    nap 0.002
  done
}

# fresh_dir: an empty $WORK/<system> for keys and configs (setup runs once
# per first-reply trial).
fresh_dir() { rm -rf "${WORK:?}/$CURRENT"; mkdir -p "$WORK/$CURRENT" && echo "$WORK/$CURRENT"; }

# has_addr NS ADDR: ADDR is configured in NS (also the "inet A peer B/32" form)
has_addr()   { ip -n "$1" -o addr show | awk -v a="$2" '{split($4, x, "/"); if (x[1] == a) f = 1} END {exit !f}'; }
port_bound() { nsx "$1" ss -Hln"${2:0:1}" "sport = :$3" | grep -q .; }

# The namespaces run IPv4 only. Yggdrasil's addresses are IPv6 (200::/7) by
# design, so its setup turns IPv6 back on inside the namespaces, but never on
# the veth.
ns_enable_ipv6() {
  local ns veth
  for ns in "$NS_A" "$NS_B"; do
    [[ $ns == "$NS_A" ]] && veth=$VETH_A || veth=$VETH_B
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
      && nsx "$ns" sysctl -qw "net/ipv6/conf/$veth/disable_ipv6=1" || return 1
  done
}

# ---------------------------------------------------------------- systems ---

register veth "ip"
setup_veth() {
  TUN_A_ADDR=$UNDER_A TUN_B_ADDR=$UNDER_B
  SYS_VERSION="kernel $(uname -r)"
  SYS_CIPHER="none"
  SYS_NOTE="no tunnel: plain veth with kernel offloads (TSO/GRO), the ceiling"
}
teardown_veth() { :; }

# --- WireGuard, userspace (wireguard-go on a TUN; the kernel here has no wireguard module)
register wireguard "wireguard-go wg"
WG_PORT=51820
setup_wireguard() {
  local d s
  d=$(fresh_dir)
  for s in a b; do
    must sh -c "umask 077; wg genkey >'$d/$s.key' && wg pubkey <'$d/$s.key' >'$d/$s.pub'" || return 1
  done
  wg_side "$NS_A" pb-wg-a "$d/a.key" "$(<"$d/b.pub")" 10.201.0.17 10.201.0.18 "$UNDER_B" || return 1
  wg_side "$NS_B" pb-wg-b "$d/b.key" "$(<"$d/a.pub")" 10.201.0.18 10.201.0.17 "$UNDER_A" || return 1
  TUN_A_ADDR=10.201.0.17 TUN_B_ADDR=10.201.0.18
  SYS_VERSION="wireguard-go $(pkgver wireguard-go)"
  SYS_CIPHER="ChaCha20-Poly1305"
  SYS_NOTE="Noise IK; TUN MTU is wireguard-go's default; this build has no TUN GSO/GRO"
}
wg_side() { # NS IFNAME PRIVKEY PEERPUB MYADDR PEERADDR PEERUNDERLAY
  rm -f "/var/run/wireguard/$2.sock"
  spawn "$1" "$2" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$2"
  wait_for 10 "$2 UAPI socket" test -S "/var/run/wireguard/$2.sock" || return 1
  must nsx "$1" wg set "$2" listen-port "$WG_PORT" private-key "$3" \
    peer "$4" allowed-ips "$6/32" endpoint "$7:$WG_PORT" || return 1
  must nsx "$1" ip addr add "$5/28" dev "$2" || return 1
  must nsx "$1" ip link set "$2" up
}
teardown_wireguard() { rm -f /var/run/wireguard/pb-wg-a.sock /var/run/wireguard/pb-wg-b.sock; }

# --- Nebula: own CA, A is the lighthouse, B finds it through static_host_map
register nebula "nebula nebula-cert"
setup_nebula() {
  local d s
  d=$(fresh_dir)
  must nebula-cert ca -name pb-ca -duration 24h -out-crt "$d/ca.crt" -out-key "$d/ca.key" || return 1
  must nebula-cert sign -ca-crt "$d/ca.crt" -ca-key "$d/ca.key" -name pb-a -ip 10.201.0.33/28 \
    -out-crt "$d/a.crt" -out-key "$d/a.key" || return 1
  must nebula-cert sign -ca-crt "$d/ca.crt" -ca-key "$d/ca.key" -name pb-b -ip 10.201.0.34/28 \
    -out-crt "$d/b.crt" -out-key "$d/b.key" || return 1
  nebula_conf "$d" a >"$d/a.yml"
  nebula_conf "$d" b >"$d/b.yml"
  spawn "$NS_A" nebula-a nebula -config "$d/a.yml"
  wait_for 10 "nebula A socket" port_bound "$NS_A" udp 4242 || return 1
  wait_for 10 "nebula A tun" has_addr "$NS_A" 10.201.0.33 || return 1
  spawn "$NS_B" nebula-b nebula -config "$d/b.yml"
  wait_for 10 "nebula B tun" has_addr "$NS_B" 10.201.0.34 || return 1
  TUN_A_ADDR=10.201.0.33 TUN_B_ADDR=10.201.0.34
  SYS_VERSION="nebula $(pkgver nebula)"
  SYS_CIPHER="AES-256-GCM"
  SYS_NOTE="Noise IX; 'cipher: aes' (its default); stateful firewall allows any; routines: 1 (default)"
}
nebula_conf() { # DIR SIDE
  local d=$1 s=$2 lighthouse
  if [[ $s == a ]]; then
    lighthouse="  am_lighthouse: true"
    printf 'static_host_map: {}\n'
  else
    lighthouse=$'  am_lighthouse: false\n  interval: 60\n  hosts: ["10.201.0.33"]'
    printf 'static_host_map:\n  "10.201.0.33": ["%s:4242"]\n' "$UNDER_A"
  fi
  cat <<EOF
pki:
  ca: $d/ca.crt
  cert: $d/$s.crt
  key: $d/$s.key
lighthouse:
$lighthouse
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: false
tun:
  disabled: false
  dev: pb-nebula
logging:
  level: info
firewall:
  outbound:
    - {port: any, proto: any, host: any}
  inbound:
    - {port: any, proto: any, host: any}
EOF
}
teardown_nebula() { :; }

# --- Yggdrasil: two nodes peered directly over TCP on the veth, multicast off
register yggdrasil "yggdrasil"
YGG_PORT=9001
setup_yggdrasil() {
  local d
  d=$(fresh_dir)
  ygg_conf '[]' "[\"tcp://$UNDER_A:$YGG_PORT\"]" >"$d/a.conf" || return 1
  ygg_conf "[\"tcp://$UNDER_A:$YGG_PORT\"]" '[]' >"$d/b.conf" || return 1
  TUN_A_ADDR=$(yggdrasil -useconffile "$d/a.conf" -address)
  TUN_B_ADDR=$(yggdrasil -useconffile "$d/b.conf" -address)
  ns_enable_ipv6 || { FAIL_REASON="could not enable IPv6 in the namespaces"; return 1; }
  spawn "$NS_A" ygg-a yggdrasil -useconffile "$d/a.conf" -logto stdout
  wait_for 10 "yggdrasil A listener" port_bound "$NS_A" tcp "$YGG_PORT" || return 1
  wait_for 10 "yggdrasil A tun" has_addr "$NS_A" "$TUN_A_ADDR" || return 1
  spawn "$NS_B" ygg-b yggdrasil -useconffile "$d/b.conf" -logto stdout
  wait_for 10 "yggdrasil B tun" has_addr "$NS_B" "$TUN_B_ADDR" || return 1
  SYS_VERSION="yggdrasil $(pkgver yggdrasil)"
  SYS_CIPHER="XSalsa20-Poly1305"
  SYS_NOTE="end-to-end NaCl box sessions (ironwood); peering is plain tcp://, so TCP over TCP; IPv6 200::/7 addresses; TUN MTU is its default"
}
ygg_conf() { # PEERS LISTEN (JSON lists)
  local keys priv pub
  keys=$(yggdrasil -genconf -json) || return 1
  priv=$(sed -n 's/.*"PrivateKey": *"\([0-9a-f]*\)".*/\1/p' <<<"$keys")
  pub=$(sed -n 's/.*"PublicKey": *"\([0-9a-f]*\)".*/\1/p' <<<"$keys")
  [[ -n $priv && -n $pub ]] || return 1
  cat <<EOF
{
  "PrivateKey": "$priv",
  "PublicKey": "$pub",
  "Peers": $1,
  "Listen": $2,
  "AdminListen": "none",
  "MulticastInterfaces": [],
  "IfName": "pb-ygg"
}
EOF
}
teardown_yggdrasil() { :; }

# --- tinc 1.0: router mode, B connects to A
register tinc "tincd"
TINC_PORT=655
setup_tinc() {
  local d s
  d=$(fresh_dir)
  tinc_node "$d/a" pb_a 10.201.0.49 "" || return 1
  tinc_node "$d/b" pb_b 10.201.0.50 pb_a || return 1
  cp "$d/a/hosts/pb_a" "$d/b/hosts/" && cp "$d/b/hosts/pb_b" "$d/a/hosts/" || return 1
  spawn "$NS_A" tinc-a tincd -c "$d/a" -D --pidfile="$d/a/tinc.pid"
  wait_for 10 "tinc A listener" port_bound "$NS_A" tcp "$TINC_PORT" || return 1
  wait_for 10 "tinc A tun" has_addr "$NS_A" 10.201.0.49 || return 1
  spawn "$NS_B" tinc-b tincd -c "$d/b" -D --pidfile="$d/b/tinc.pid"
  wait_for 10 "tinc B tun" has_addr "$NS_B" 10.201.0.50 || return 1
  TUN_A_ADDR=10.201.0.49 TUN_B_ADDR=10.201.0.50
  SYS_VERSION="tinc $(pkgver tinc)"
  SYS_CIPHER="${TINC_CIPHER_DESC}"
  SYS_NOTE="RSA-2048 meta protocol over TCP, data over UDP; ${TINC_CIPHER_WHY}"
}
# tinc 1.0's built-in default is Blowfish-CBC + HMAC-SHA1 truncated to 4
# bytes. OpenSSL 3 keeps Blowfish in its legacy provider, which tincd does not
# load, so the default cannot run here. Both nodes get AES-256-CBC with
# HMAC-SHA256 (16-byte MAC) instead. That is the usual hardening, and the
# least change from the default that works.
TINC_CIPHER_DESC="AES-256-CBC+HMAC-SHA256"
TINC_CIPHER_WHY="its default Blowfish needs OpenSSL 3's legacy provider, so Cipher=aes-256-cbc Digest=sha256 MACLength=16"
tinc_node() { # DIR NAME ADDR CONNECT_TO
  local d=$1 name=$2 addr=$3 connect=$4
  mkdir -p "$d/hosts"
  {
    printf 'Name = %s\nInterface = pb-tinc\nAddressFamily = ipv4\nPort = %s\n' "$name" "$TINC_PORT"
    [[ -n $connect ]] && printf 'ConnectTo = %s\n' "$connect"
  } >"$d/tinc.conf"
  {
    [[ -z $connect ]] && printf 'Address = %s\n' "$UNDER_A"
    printf 'Port = %s\nSubnet = %s/32\n' "$TINC_PORT" "$addr"
    printf 'Cipher = aes-256-cbc\nDigest = sha256\nMACLength = 16\n'
  } >"$d/hosts/$name"
  # idloc: $INTERFACE is for tinc's script, not for us.
  # shellcheck disable=SC2016
  printf '#!/bin/sh\nip addr add %s/28 dev "$INTERFACE" && ip link set "$INTERFACE" up\n' "$addr" >"$d/tinc-up"
  chmod +x "$d/tinc-up"
  must tincd -c "$d" -K2048 </dev/null
}
teardown_tinc() { :; }

# --- OpenVPN: point-to-point TLS mode (negotiated AEAD data channel), DCO off
register openvpn "openvpn openssl"
OVPN_PORT=1194
setup_openvpn() {
  local d s
  d=$(fresh_dir)
  # Own CA and two EC P-256 certificates.
  must openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=pb-ca -keyout "$d/ca.key" -out "$d/ca.crt" || return 1
  for s in a b; do
    must openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=pb-$s" -keyout "$d/$s.key" -out "$d/$s.csr" || return 1
    must openssl x509 -req -days 2 -in "$d/$s.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
      -CAcreateserial -out "$d/$s.crt" || return 1
  done
  local common=(--dev pb-ovpn --dev-type tun --proto udp --port "$OVPN_PORT"
                --disable-dco --ca "$d/ca.crt" --verb 3)
  spawn "$NS_A" ovpn-a openvpn "${common[@]}" --tls-server --dh none --local "$UNDER_A" \
    --cert "$d/a.crt" --key "$d/a.key" --ifconfig 10.201.0.65 10.201.0.66
  wait_for 10 "openvpn A socket" port_bound "$NS_A" udp "$OVPN_PORT" || return 1
  wait_for 10 "openvpn A tun" has_addr "$NS_A" 10.201.0.65 || return 1
  spawn "$NS_B" ovpn-b openvpn "${common[@]}" --tls-client --remote "$UNDER_A" --nobind \
    --cert "$d/b.crt" --key "$d/b.key" --ifconfig 10.201.0.66 10.201.0.65
  wait_for 10 "openvpn B tun" has_addr "$NS_B" 10.201.0.66 || return 1
  TUN_A_ADDR=10.201.0.65 TUN_B_ADDR=10.201.0.66
  SYS_VERSION="openvpn $(pkgver openvpn)"
  SYS_CIPHER="(negotiated)"
  SYS_NOTE="p2p TLS mode, EC P-256 certs, userspace (--disable-dco); first reply waits for its 1 s connection-established timer"
}
info_openvpn() {
  local f=$WORK/openvpn-ovpn-b.log c ctl
  c=$(grep -oE "[Cc]ipher '[A-Za-z0-9-]+'" "$f" | head -1 | cut -d"'" -f2)
  ctl=$(grep -oE 'Control Channel: [^,]+, cipher [^ ,]+ [^ ,]+' "$f" | head -1 | sed 's/Control Channel: //')
  [[ -n $c ]] && SYS_CIPHER=$c
  [[ -n $ctl ]] && SYS_NOTE+="; control channel: $ctl"
}
teardown_openvpn() { :; }

# ---------------------------------------------------------------- harness ---

reset_system_state() {
  DAEMON_PIDS=() DAEMON_SIDES=() DAEMON_TAGS=() AUX_PIDS=()
  TUN_A_ADDR="" TUN_B_ADDR="" T_JOIN_US="" T_UP_US=""
  SYS_VERSION="" SYS_CIPHER="" SYS_NOTE="" FAIL_REASON=""
}

ns_up() {
  local ns
  for ns in "$NS_A" "$NS_B"; do
    ip netns add "$ns" || return 1
    ip -n "$ns" link set lo up
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B" || return 1
  ip -n "$NS_A" addr add "$UNDER_A/$UNDER_PREFIX" dev "$VETH_A" &&
  ip -n "$NS_B" addr add "$UNDER_B/$UNDER_PREFIX" dev "$VETH_B" &&
  ip -n "$NS_A" link set "$VETH_A" up &&
  ip -n "$NS_B" link set "$VETH_B" up
}

# TERM, up to 3 s grace, then KILL; reap our children.
kill_pids() {
  local p i any
  (( $# )) || return 0
  for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
  for i in $(seq 30); do
    any=0
    for p in "$@"; do pid_alive "$p" && any=1; done
    (( any )) || break
    sleep 0.1
  done
  for p in "$@"; do pid_alive "$p" && kill -KILL "$p" 2>/dev/null; done
  for p in "$@"; do wait "$p" 2>/dev/null; done
  return 0
}

# Kill whatever still runs inside our own namespaces (found by namespace, not
# by name), then delete them.
ns_down() {
  local ns pids
  for ns in "$NS_A" "$NS_B"; do
    ip netns list | awk -v n="$ns" '$1 == n {f = 1} END {exit !f}' || continue
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    # idloc: one word per pid, on purpose.
    # shellcheck disable=SC2086
    [[ -n ${pids// /} ]] && { kill -KILL $pids 2>/dev/null; sleep 0.2; }
    ip netns del "$ns" 2>/dev/null
  done
}

# stop_system: kill what was spawned, teardown hook, delete the namespaces.
stop_system() {
  [[ -n ${CURRENT:-} ]] || return 0
  kill_pids "${AUX_PIDS[@]}" "${DAEMON_PIDS[@]}"
  declare -F "teardown_$CURRENT" >/dev/null && "teardown_$CURRENT" >/dev/null 2>&1
  ns_down
  DAEMON_PIDS=() AUX_PIDS=()
}
cleanup_system() { stop_system; CURRENT=""; }

on_exit() {
  cleanup_system
  [[ -n ${POLICY_RC_CREATED:-} ]] && rm -f /usr/sbin/policy-rc.d
  if [[ -n ${WORK:-} && -d $WORK ]]; then
    if [[ -n ${KEEP_WORK:-} ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  fi
}

# Sum over this system's daemons on one side (or both, when SIDE is empty).
# /proc/PID/stat after "(comm) ": field 12 utime, 13 stime (clock ticks).
cpu_ticks() {
  local side=${1:-} i f sum=0
  for i in "${!DAEMON_PIDS[@]}"; do
    [[ -z $side || ${DAEMON_SIDES[$i]} == "$side" ]] || continue
    read -r f 2>/dev/null <"/proc/${DAEMON_PIDS[$i]}/stat" || continue
    f=${f##*) }
    # idloc: the fields of /proc/PID/stat, split on purpose.
    # shellcheck disable=SC2086
    set -- $f
    sum=$(( sum + ${12} + ${13} ))
  done
  echo "$sum"
}

mem_kib() { # SIDE FIELD(VmRSS|VmHWM)
  local i sum=0 v
  for i in "${!DAEMON_PIDS[@]}"; do
    [[ ${DAEMON_SIDES[$i]} == "$1" ]] || continue
    v=$(awk -v f="$2:" '$1 == f {print $2}' "/proc/${DAEMON_PIDS[$i]}/status" 2>/dev/null)
    sum=$(( sum + ${v:-0} ))
  done
  echo "$sum"
}

tun_mtu() {
  local dev
  dev=$(ip -n "$NS_A" -o addr show | awk -v a="$TUN_A_ADDR" '{split($4, x, "/"); if (x[1] == a) {print $2; exit}}')
  [[ -n $dev ]] || { echo "?"; return; }
  ip -n "$NS_A" -o link show dev "$dev" | sed -n 's/.* mtu \([0-9]*\).*/\1/p'
}

# First ping reply B->A after the last spawn: ping every 2 ms until one
# comes back (bounded by FIRST_TIMEOUT_S). ping -D stamps the reply.
measure_first_reply() {
  local deadline=$(( $(now_us) + FIRST_TIMEOUT_S * 1000000 )) out ts
  while :; do
    out=$(nsx "$NS_B" ping -n -D -c 1 -i 0.002 -w "$FIRST_TIMEOUT_S" "$TUN_A_ADDR" 2>&1) && break
    if (( $(now_us) > deadline )); then FAIL_REASON="no ping reply through the tunnel within ${FIRST_TIMEOUT_S}s"; return 1; fi
    nap 0.002
  done
  [[ -n $T_JOIN_US ]] || return 0
  ts=$(sed -n 's/^\[\([0-9]*\)\.\([0-9]*\)\].*bytes from.*/\1\2/p' <<<"$out" | head -1)
  [[ -n $ts ]] || { R[first]="?"; return 0; }
  R[first]=$(awk -v d=$(( ts - T_JOIN_US )) 'BEGIN {printf "%.0f", d / 1000}')
  R[postup]=$(awk -v d=$(( ts - T_UP_US )) 'BEGIN {printf "%.0f", d / 1000}')
}

measure_rtt() {
  local out
  out=$(nsx "$NS_A" ping -n -c "$PINGS" -i "$PING_INTERVAL" -W 1 "$TUN_B_ADDR" 2>&1)
  read -r 'R[rtt_min]' 'R[rtt_avg]' 'R[rtt_p50]' 'R[rtt_p99]' 'R[rtt_max]' 'R[rtt_loss]' < <(
    grep -o 'time=[0-9.]*' <<<"$out" | cut -d= -f2 | sort -g |
    awk -v sent="$PINGS" '
      { v[NR] = $1; s += $1 }
      function rank(p,  k) { k = int(p * NR + 0.999999); if (k < 1) k = 1; return v[k] }
      END {
        if (NR == 0) { print "- - - - - 100"; exit }
        printf "%.3f %.3f %.3f %.3f %.3f %.1f\n", v[1], s / NR, rank(0.5), rank(0.99), v[NR], 100 * (sent - NR) / sent
      }')
}

# run_iperf STREAMS KEY: sender Gbit/s and retransmits into R[KEY] / R[KEY_retr]
run_iperf() {
  local out line
  out=$(timeout $(( DURATION + 30 )) ip netns exec "$NS_A" \
        iperf3 -c "$TUN_B_ADDR" -p "$IPERF_PORT" -t "$DURATION" -P "$1" -f m 2>&1)
  echo "$out" >>"$WORK/$CURRENT-iperf.log"
  line=$(grep 'sender$' <<<"$out" | tail -1)
  if [[ -z $line ]]; then
    R[$2]="fail" R[${2}_retr]="-"
    R[note]+="iperf3 -P $1 failed: $(tail -1 <<<"$out" | cut -c1-80); "
    return 1
  fi
  read -r "R[$2]" "R[${2}_retr]" < <(awk '{for (i = 1; i < NF; i++) if ($i == "Mbits/sec") printf "%.3f %s\n", $(i-1) / 1000, $(i+1)}' <<<"$line")
}

# bring_up: fresh namespaces, setup_<name>, first ping reply. 0 on success.
bring_up() {
  reset_system_state
  ns_up || { FAIL_REASON="could not create namespaces"; return 1; }
  "setup_$CURRENT" || return 1
  T_UP_US=$(now_us)
  [[ -n $TUN_A_ADDR && -n $TUN_B_ADDR ]] || { FAIL_REASON="setup did not set TUN_A_ADDR/TUN_B_ADDR"; return 1; }
  measure_first_reply
}

# Print "median min max" of the numbers given.
med3() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[1], v[NR]}'; }

bench_one() {
  local name=$1 c0 c1 ca0 ca1 hz t firsts=() postups=()
  CURRENT=$name
  declare -gA R=([system]=$name [status]=ok [note]="")
  log "== $name"
  # First-reply is noisy (timers, scheduling): bring the tunnel up
  # FIRST_TRIALS times from scratch and keep the median. The last bring-up is
  # the one measured below.
  for (( t = 1; t <= FIRST_TRIALS; t++ )); do
    if ! bring_up; then
      R[status]=FAILED R[note]=$FAIL_REASON
      log "$name: $FAIL_REASON"; show_logs
      fill_meta; cleanup_system; store_row; return
    fi
    (( ${#DAEMON_PIDS[@]} )) || break          # no daemon: nothing to time
    firsts+=("${R[first]}") postups+=("${R[postup]}")
    (( t < FIRST_TRIALS )) && stop_system
  done
  if (( ${#firsts[@]} )); then
    read -r 'R[first]' 'R[first_min]' 'R[first_max]' < <(med3 "${firsts[@]}")
    read -r 'R[postup]' _ _ < <(med3 "${postups[@]}")
    R[first_all]="${firsts[*]}"
  fi
  log "$name: tunnel up ($TUN_A_ADDR <-> $TUN_B_ADDR), first reply ${R[first_all]:--} ms (median ${R[first]:--}, post-up ${R[postup]:--})"
  sleep "$SETTLE_S"
  if (( ${#DAEMON_PIDS[@]} )); then
    R[rss_a]=$(mem_kib "$NS_A" VmRSS) R[rss_b]=$(mem_kib "$NS_B" VmRSS)
  fi

  measure_rtt
  log "$name: rtt min/avg/p50 ${R[rtt_min]}/${R[rtt_avg]}/${R[rtt_p50]} ms"

  spawn_aux "$NS_B" iperf3-server iperf3 -s -p "$IPERF_PORT" -B "$TUN_B_ADDR"
  if ! wait_for 10 "iperf3 server" port_bound "$NS_B" tcp "$IPERF_PORT"; then
    R[status]=FAILED R[note]="iperf3 server did not start"
    fill_meta; cleanup_system; store_row; return
  fi
  hz=$(getconf CLK_TCK)
  c0=$(cpu_ticks) ca0=$(cpu_ticks "$NS_A")
  run_iperf 1 tcp1
  c1=$(cpu_ticks) ca1=$(cpu_ticks "$NS_A")
  if (( ${#DAEMON_PIDS[@]} )); then
    R[cpu]=$(awk -v t=$(( c1 - c0 )) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
    R[cpu_a]=$(awk -v t=$(( ca1 - ca0 )) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
    R[cpu_b]=$(awk -v t=$(( (c1 - c0) - (ca1 - ca0) )) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
    if [[ ${R[tcp1]} != fail ]]; then
      R[cpu_gb]=$(awk -v c="${R[cpu]}" -v g="${R[tcp1]}" -v d="$DURATION" 'BEGIN {printf "%.2f", (g > 0) ? c / (g * d / 8) : 0}')
    fi
  fi
  log "$name: 1 stream ${R[tcp1]} Gbit/s, daemon CPU ${R[cpu]:--} s"
  run_iperf 4 tcp4
  log "$name: 4 streams ${R[tcp4]} Gbit/s"
  if (( ${#DAEMON_PIDS[@]} )); then
    R[hwm_a]=$(mem_kib "$NS_A" VmHWM) R[hwm_b]=$(mem_kib "$NS_B" VmHWM)
  fi

  if ! daemons_alive; then R[status]=FAILED R[note]+="a daemon died during the run; "; show_logs; fi
  declare -F "info_$name" >/dev/null && "info_$name"
  fill_meta
  cleanup_system
  store_row
}

fill_meta() {
  R[version]=$SYS_VERSION R[cipher]=$SYS_CIPHER R[sysnote]=$SYS_NOTE
  [[ -n $TUN_A_ADDR ]] && R[mtu]=$(tun_mtu)
}

show_logs() {
  local t
  for t in "${DAEMON_TAGS[@]}"; do
    log "--- tail of $CURRENT-$t.log"
    tail -5 "$WORK/$CURRENT-$t.log" >&2 2>/dev/null
  done
  [[ -s $WORK/$CURRENT-setup.log ]] && { log "--- tail of setup log"; tail -5 "$WORK/$CURRENT-setup.log" >&2; }
}

FIELDS=(system version status mtu cipher tcp1 tcp1_retr tcp4 tcp4_retr
        rtt_min rtt_avg rtt_p50 rtt_p99 rtt_max rtt_loss cpu_a cpu_b cpu cpu_gb
        rss_a rss_b hwm_a hwm_b first first_min first_max first_all postup note sysnote)
CSV_HEAD=(system version status mtu cipher tcp1_gbps tcp1_retr tcp4_gbps tcp4_retr
          rtt_min_ms rtt_avg_ms rtt_p50_ms rtt_p99_ms rtt_max_ms rtt_loss_pct
          cpu_a_s cpu_b_s cpu_s cpu_s_per_gb rss_idle_a_kib rss_idle_b_kib
          rss_peak_a_kib rss_peak_b_kib first_reply_ms first_reply_min_ms first_reply_max_ms
          first_reply_all_ms first_post_up_ms problem note)
ROWS=()
store_row() {
  local f row=""
  for f in "${FIELDS[@]}"; do row+="${R[$f]:-}"$'\x1f'; done
  ROWS+=("$row")
}

rss_pair() { # KIB_A KIB_B -> "5.6/4.9" (MiB)
  [[ -n $1 ]] || { echo "-"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f/%.1f", a / 1024, b / 1024}'
}

print_table() {
  local row f i
  local -A r
  printf '\npeer VPN benchmark: %s, nproc=%s, kernel %s, %s\n' "$HOST_DESC" "$(nproc)" "$(uname -r)" "$RUN_DATE"
  printf 'netns %s <-> %s over veth; iperf3 %ss A->B; %s pings at %ss; CPU = both daemons during the 1-stream run\n\n' \
    "$NS_A" "$NS_B" "$DURATION" "$PINGS" "$PING_INTERVAL"
  printf '%-12s %5s  %-24s %9s %9s  %-20s %6s %8s  %-11s %s\n' \
    system mtu cipher "tcp1 Gb/s" "tcp4 Gb/s" "rtt min/avg/p50 ms" "cpu s" "cpu s/GB" "rss A/B MiB" "first ms (post-up)"
  for row in "${ROWS[@]}"; do
    IFS=$'\x1f' read -r -a vals <<<"$row"
    r=()
    for i in "${!FIELDS[@]}"; do r[${FIELDS[$i]}]=${vals[$i]:-}; done
    if [[ ${r[status]} != ok && -z ${r[tcp1]} ]]; then
      printf '%-12s %5s  %-24s %s\n' "${r[system]}" "${r[mtu]:--}" "${r[cipher]:--}" "${r[status]}: ${r[note]}"
      continue
    fi
    printf '%-12s %5s  %-24s %9s %9s  %-20s %6s %8s  %-11s %s\n' \
      "${r[system]}" "${r[mtu]:--}" "${r[cipher]:--}" "${r[tcp1]:--}" "${r[tcp4]:--}" \
      "${r[rtt_min]}/${r[rtt_avg]}/${r[rtt_p50]}" "${r[cpu]:--}" "${r[cpu_gb]:--}" \
      "$(rss_pair "${r[rss_a]:-}" "${r[rss_b]:-}")" "${r[first]:--}${r[postup]:+ (${r[postup]})}"
  done
  printf '\n'
  for row in "${ROWS[@]}"; do
    IFS=$'\x1f' read -r -a vals <<<"$row"
    r=()
    for i in "${!FIELDS[@]}"; do r[${FIELDS[$i]}]=${vals[$i]:-}; done
    printf '  %-12s %s%s%s\n' "${r[system]}" "${r[version]:+${r[version]}. }" "${r[sysnote]:-}" \
      "${r[note]:+  [${r[status]}: ${r[note]}]}"
  done
  printf '\n  tcp1/tcp4: iperf3 sender Gbit/s, 1 / 4 streams. cpu s: user+sys of the tunnel daemons (both sides)\n'
  printf '  during tcp1; the whole machine has %s core-seconds in that time, shared with iperf3 and the kernel.\n' \
    "$(( $(nproc) * DURATION ))"
  printf '  cpu s/GB: cpu s per GB moved in tcp1. rss: idle VmRSS per side. first: ms from launching the\n'
  printf '  B daemon (A up) to the first ping reply B->A, median of %s bring-ups; (post-up): the part after\n' "$FIRST_TRIALS"
  printf '  B'"'"'s tunnel was configured. The CSV has p99/max/loss, retransmits, per-side CPU and peak RSS.\n'
}

csv_field() { local v=${1//\"/\"\"}; printf '"%s"' "$v"; }
write_csv() {
  local out=$1 row i
  {
    printf 'date,host,nproc,kernel'; printf ',%s' "${CSV_HEAD[@]}"; printf '\n'
    for row in "${ROWS[@]}"; do
      IFS=$'\x1f' read -r -a vals <<<"$row"
      csv_field "$RUN_DATE"; printf ','; csv_field "$HOST_DESC"; printf ',%s,' "$(nproc)"; csv_field "$(uname -r)"
      for i in "${!FIELDS[@]}"; do printf ','; csv_field "${vals[$i]:-}"; done
      printf '\n'
    done
  } >"$out"
  log "CSV written to $out"
}

install_missing() {
  local cmds="$CORE_CMDS" s c pkgs=() p
  for s in "${SYSTEMS[@]}"; do cmds+=" ${SYS_NEEDS[$s]:-}"; done
  for c in $cmds; do
    command -v "$c" >/dev/null 2>&1 && continue
    p=${PKG_OF[$c]:-}
    [[ -n $p && " ${pkgs[*]} " != *" $p "* ]] && pkgs+=("$p")
  done
  (( ${#pkgs[@]} )) || return 0
  log "installing: ${pkgs[*]}"
  # Keep the packages' own services (yggdrasil, openvpn) from starting.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && POLICY_RC_CREATED=1
  fi
  apt-get update -qq >&2 || log "apt-get update failed"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; then
    for p in "${pkgs[@]}"; do
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$p" >&2 || log "could not install $p"
    done
  fi
  if [[ -n ${POLICY_RC_CREATED:-} ]]; then rm -f /usr/sbin/policy-rc.d; POLICY_RC_CREATED=""; fi
}

main() {
  local s c missing p
  [[ $(id -u) == 0 ]] || { echo "run as root" >&2; exit 1; }
  if [[ -d $HERE/peers.d ]]; then
    # shellcheck source=/dev/null
    for p in "$HERE"/peers.d/*.sh; do [[ -e $p ]] && source "$p"; done
  fi
  if [[ -n ${SYSTEMS:-} ]]; then read -r -a SYSTEMS <<<"$SYSTEMS"; else SYSTEMS=("${ALL_SYSTEMS[@]}"); fi
  for s in "${SYSTEMS[@]}"; do
    declare -F "setup_$s" >/dev/null || { echo "unknown system: $s (no setup_$s)" >&2; exit 1; }
  done

  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  install_missing
  for c in $CORE_CMDS; do command -v "$c" >/dev/null || { echo "missing $c" >&2; exit 1; }; done

  WORK=$(mktemp -d /tmp/peers-bench.XXXXXX)
  mkfifo "$WORK/nap.fifo" && exec {NAP_FD}<>"$WORK/nap.fifo"
  RUN_DATE=$(date '+%Y-%m-%d %H:%M:%S %Z')
  HOST_DESC="$(hostname), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  # Leftovers of an earlier run that was killed hard.
  CURRENT=stale; ns_down; CURRENT=""

  for s in "${SYSTEMS[@]}"; do
    missing=""
    for c in ${SYS_NEEDS[$s]:-}; do command -v "$c" >/dev/null || missing+=" $c"; done
    if [[ -n $missing ]]; then
      declare -gA R=([system]=$s [status]=SKIPPED [note]="not installed:$missing")
      store_row; continue
    fi
    bench_one "$s"
  done

  print_table
  [[ -n $CSV_OUT ]] && write_csv "$CSV_OUT"
  return 0
}

main "$@"
