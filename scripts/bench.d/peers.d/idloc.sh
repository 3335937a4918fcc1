# SPDX-License-Identifier: MIT
# idloc.sh: idloc's rows in the peer VPN harness (sourced by ../peers.sh).
#
#   idloc        A starts a new overlay; B joins it with A's underlay address
#                as its bootstrap. A is B's first overlay contact, so B has
#                A's HIT and LSI once joined, and B's packets to A's LSI ride
#                the association the join made: a direct path over the veth.
#   idloc-relay  the same, plus coturn in A's namespace on A's underlay
#                address, and the sides in IDLOC_RELAY_SIDES (default both)
#                configured with it as [ice] turn and with [ice] relay-only =
#                yes: their data path is a pipe whose ICE agent offers relayed
#                candidates only, so every packet between A and B crosses
#                coturn (with both sides, twice: A's allocation, then B's; the
#                harness measures A->B, so A must not send directly).
#                coturn is a helper (spawn_aux): its CPU and memory are not in
#                the row (on a real network the relay is another machine), but
#                it runs on the same cores.
#
# idlocd and idloc are taken from PATH; scripts/bench puts its release build
# first. The tunnel addresses are the LSIs from idlocd's default prefix: both
# keys are made (idlocd --print-hit) and both LSIs computed before any daemon
# starts, as the other systems make their keys beforehand, so the first-reply
# clock covers daemon start, TUN setup, the join and the first packet's way,
# not key generation; A's daemon confirms its LSI (status --json) before B
# starts. info_<row> records each side's path to the other from `idloc peers
# --json`; a relay row whose path was not relayed is marked FAILED, since its
# numbers would be the direct path's.
# shellcheck shell=bash
# The harness's variables and hooks are defined in peers.sh, which sources
# this file; the hooks are called by name.
# shellcheck disable=SC2034,SC2154

register idloc "idlocd idloc python3"
register idloc-relay "idlocd idloc python3 turnserver"
PKG_OF[python3]=python3
PKG_OF[turnserver]=coturn

IDLOC_PORT=10500
IDLOC_DOMAIN=bench.internal
IDLOC_TUN=pb-idloc
# idlocd's defaults for [tun] lsi-prefix and [dns] address: the LSI function
# depends on both (docs/datapath.md, "Identifiers (LSI)").
IDLOC_LSI_PREFIX=100.64.0.0/10
IDLOC_RESOLVER=100.64.0.53
IDLOC_TURN_PORT=3478
IDLOC_TURN_USER=bench
IDLOC_TURN_PASS=bench-pass
IDLOC_RELAY_SIDES=${IDLOC_RELAY_SIDES:-a b}

setup_idloc()
{
	local d
	d=$(fresh_dir)
	idloc_pair "$d" ""
}

setup_idloc-relay()
{
	local d
	d=$(fresh_dir)
	idloc_coturn "$d" || return 1
	idloc_pair "$d" "turn://$IDLOC_TURN_USER:$IDLOC_TURN_PASS@$UNDER_A:$IDLOC_TURN_PORT" || return 1
	SYS_NOTE+="; relay-only on side(s) ${IDLOC_RELAY_SIDES// /+}, TURN: coturn $(pkgver coturn)"
	SYS_NOTE+=" in A's namespace (its CPU not counted)"
}

# idloc_pair DIR TURN_URL: configs and keys for both sides, A up, then B.
# With a TURN_URL, the sides in IDLOC_RELAY_SIDES are relay-only.
idloc_pair()
{
	local d=$1 turn=$2 s hit boot
	local -A lsi=()
	for s in a b; do
		boot=""
		[[ $s == b ]] && boot=$UNDER_A:$IDLOC_PORT
		if [[ " $IDLOC_RELAY_SIDES " == *" $s "* ]]; then
			idloc_conf "$d" "$s" "$boot" "$turn" >"$d/$s.conf"
		else
			idloc_conf "$d" "$s" "$boot" "" >"$d/$s.conf"
		fi
	done
	for s in a b; do
		if ! hit=$(idlocd -c "$d/$s.conf" --print-hit 2>"$d/$s.err"); then
			FAIL_REASON="idlocd --print-hit: $(head -1 "$d/$s.err")"
			FAIL_REASON=${FAIL_REASON//$d\//}
			return 1
		fi
		lsi[$s]=$(idloc_lsi "$hit") || { FAIL_REASON="no LSI for HIT '$hit'"; return 1; }
	done
	# The TUN carries the HIT, an IPv6 address; the underlay stays IPv4.
	ns_enable_ipv6 || { FAIL_REASON="could not enable IPv6 in the namespaces"; return 1; }
	spawn "$NS_A" idlocd-a idlocd -c "$d/a.conf" --log-level notice
	wait_for 10 "idlocd A UDP port" port_bound "$NS_A" udp "$IDLOC_PORT" || return 1
	wait_for 10 "idlocd A TUN" has_addr "$NS_A" "${lsi[a]}" || return 1
	wait_for 10 "idlocd A control socket" idloc_ctl "$d" a status || return 1
	s=$(idloc_status "$d" a lsi)
	if [[ $s != "${lsi[a]}" ]]; then
		FAIL_REASON="A's LSI is '$s', computed ${lsi[a]}: idloc_lsi is out of date"
		return 1
	fi
	spawn "$NS_B" idlocd-b idlocd -c "$d/b.conf" --log-level notice
	wait_for 10 "idlocd B TUN" has_addr "$NS_B" "${lsi[b]}" || return 1
	TUN_A_ADDR=${lsi[a]} TUN_B_ADDR=${lsi[b]}
	IDLOC_DIR=$d
	SYS_VERSION="idloc $(idlocd --version | cut -d' ' -f2)${IDLOC_BENCH_REV:+ ($IDLOC_BENCH_REV)}"
	SYS_CIPHER="AES-128-GCM ($(idloc_aead_backend))"
	SYS_NOTE="HIPv2 (ECDSA P-256, ECDH P-256), ESP BEET in UDP; TUN MTU is its default"
}

# idloc_aead_backend: the library doing ESP's AES-GCM. The build links
# OpenSSL's libcrypto only for that (meson option openssl); otherwise
# mbedTLS does it.
idloc_aead_backend()
{
	local needed
	needed=$(readelf -d "$(command -v idlocd)" 2>/dev/null) || { echo "backend unknown"; return; }
	if grep -q 'NEEDED.*\[libcrypto\.so' <<<"$needed"; then
		echo OpenSSL
	else
		echo mbedTLS
	fi
}

# idloc_conf DIR SIDE BOOTSTRAP TURN_URL: one daemon's config on stdout.
# Nothing leaves the namespaces: no upstream DNS, system DNS left alone.
idloc_conf()
{
	local d=$1 s=$2 boot=$3 turn=$4
	printf '[overlay]\ndomain = %s\n' "$IDLOC_DOMAIN"
	[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
	printf '[peer]\nname = pb-%s\nport = %s\nstate-dir = %s\ncontrol = %s\n' \
		"$s" "$IDLOC_PORT" "$d/$s.state" "$d/$s.sock"
	printf '[tun]\ndevice = %s\n' "$IDLOC_TUN"
	printf '[dns]\nupstream = none\nconfigure = none\n'
	[[ -n $turn ]] && printf '[ice]\nturn = %s\nrelay-only = yes\n' "$turn"
	return 0
}

# idloc_lsi HIT: the LSI every peer computes for HIT (idmap_lsi_for_hit):
# the prefix with the HIT's low bits as host part, moved up past the all
# zeros and all ones hosts and the resolver's address.
idloc_lsi()
{
	python3 - "$1" "$IDLOC_LSI_PREFIX" "$IDLOC_RESOLVER" <<-'EOF'
		import ipaddress, sys
		low = int(ipaddress.IPv6Address(sys.argv[1])) & 0xffffffff
		net = ipaddress.IPv4Network(sys.argv[2])
		resolver = int(ipaddress.IPv4Address(sys.argv[3]))
		mask = (1 << (32 - net.prefixlen)) - 1
		prefix = int(net.network_address)
		lsi = prefix | (low & mask)
		while lsi & mask in (0, mask) or lsi == resolver:
		    lsi = prefix | ((lsi + 1) & mask)
		print(ipaddress.IPv4Address(lsi))
	EOF
}

# idloc_ctl DIR SIDE ARGS...: the CLI against one side's daemon.
idloc_ctl()
{
	local d=$1 s=$2 ns=$NS_A
	shift 2
	[[ $s == b ]] && ns=$NS_B
	nsx "$ns" idloc -s "$d/$s.sock" "$@"
}

# idloc_status DIR SIDE KEY: one top-level field of the side's status.
idloc_status()
{
	idloc_ctl "$1" "$2" status --json |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$3"
}

# idloc_path DIR FROM TO: "TYPE REMOTE" of side FROM's path to side TO, from
# FROM's peer list.
idloc_path()
{
	local hit
	hit=$(idloc_status "$1" "$3" hit) || return 1
	idloc_ctl "$1" "$2" peers --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["hit"] == sys.argv[1]:
        print(p["path"]["type"], p["path"]["remote"])' "$hit"
}

# idloc_paths RELAY_SIDES: notes both sides' paths; a side in RELAY_SIDES
# whose path is not relayed makes the row FAILED.
idloc_paths()
{
	local from to path
	for from in a b; do
		to=b
		[[ $from == b ]] && to=a
		path=$(idloc_path "$IDLOC_DIR" "$from" "$to" 2>/dev/null)
		SYS_NOTE+="; ${from^^}'s path to ${to^^}: ${path:-unknown}"
		if [[ " $1 " == *" $from "* && ${path%% *} != relay ]]; then
			R[status]=FAILED
			R[note]+="${from^^}'s path to ${to^^} was ${path:-unknown}, not relayed; "
		fi
	done
}

info_idloc() { idloc_paths ""; }
info_idloc-relay() { idloc_paths "$IDLOC_RELAY_SIDES"; }

# idloc_coturn DIR: a TURN server (UDP only, long-term credentials) in A's
# namespace on A's underlay address, relaying from ports on that address.
# No config file (-n); coturn always opens an SQLite user database and a pid
# file: both in DIR, not in /var. It logs to stdout, the harness's log.
idloc_coturn()
{
	spawn_aux "$NS_A" coturn turnserver -n --log-file stdout --simple-log \
		--listening-ip "$UNDER_A" --relay-ip "$UNDER_A" --listening-port "$IDLOC_TURN_PORT" \
		--min-port 49152 --max-port 49252 --no-tcp --no-tls --no-dtls --no-tcp-relay \
		--no-cli --no-rfc5780 --lt-cred-mech --realm "$IDLOC_DOMAIN" \
		--user "$IDLOC_TURN_USER:$IDLOC_TURN_PASS" --userdb "$1/turndb" \
		--pidfile "$1/turnserver.pid"
	wait_for 10 "coturn" port_bound "$NS_A" udp "$IDLOC_TURN_PORT"
}
