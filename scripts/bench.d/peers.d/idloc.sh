# SPDX-License-Identifier: MIT
# idloc.sh: idloc's rows in the peer VPN harness (sourced by ../peers.sh).
#
#   idloc        A starts a new overlay; B joins it with A's underlay address
#                as its bootstrap. A is B's first overlay contact, so B has
#                A's HIT and LSI once joined, and B's packets to A's LSI ride
#                the association the join made: a direct path over the veth.
#   idloc-relay  the pipe forced through a TURN relay by the topology (idlocd
#                has no relay-only switch: one association per pair of peers,
#                and a peer with a direct path uses it). The relay is idlocd's
#                own TURN server (docs/relay.md): a third namespace (pb-r, "the
#                internet") holds the bootstrap node earth with `[relay] serve
#                = yes` on 10.201.0.110, and is joined to A and B by two more
#                veths:
#
#                   pb-a  .1 ---- pb-veth ---- .2  pb-b      10.201.0.0/30
#                   .97 |                       | .101
#                   .98 |                       | .102      10.201.0.96/28
#                       +-------- pb-r ---------+
#                        .110: earth and its relay (pb-svc)
#                        .105: the void (a veth to nowhere)
#
#                A and B route everything but their own links through pb-r,
#                which forwards nothing, and iptables in A drops UDP between
#                A's and B's addresses on their shared veth. So B's direct I1s
#                and every ICE pair but the relayed ones fail. Earth relays on
#                its first address, so .110 sits on a veth made before the
#                others (pb-svc; this kernel has no dummy devices), not on lo,
#                which a relay skips. A and B are configured with no relay:
#                as in tests/integration/test_peer_relay.sh they find earth's
#                relay record in the overlay once joined and use earth with
#                credentials derived from their HIP associations with it
#                (src/daemon/relays.c; `[ice] turn` takes a fixed user and
#                password, which idlocd's relay does not accept). Both join
#                through earth, wait until they use its relay, B resolves A's
#                name through its own DNS (the daemon's resolver on its TUN),
#                and its first ping to A's LSI starts a base exchange routed
#                through earth, whose pipe comes up through the relay: one
#                side's relayed candidate and the other's host address on its
#                pb-r link, so each packet crosses the relay once. pb-r sends
#                what it cannot route into the void, as the internet drops
#                packets for private addresses: an error there (a relayed
#                check to the other side's address on the shared veth) would
#                end a TURN server's allocation. The row is FAILED unless both
#                sides report path.type "relay" in `idloc peers --json`.
#                earth is a helper (spawn_aux): its memory is not in the row,
#                nor its CPU (it is noted), but it runs on the same cores. The
#                first reply includes B's join, its relay search, the lookup
#                of A's name, the base exchange through earth and ICE's checks
#                until a relayed pair is selected.
#                RELAY=coturn: coturn on .110 instead (earth serves no relay;
#                A and B have it as `[ice] turn`), the relay of the earlier
#                runs in docs/performance.md.
#
# idlocd and idloc are taken from PATH; scripts/bench puts its release build
# first. The tunnel addresses are the LSIs from idlocd's default prefix: both
# keys are made (idlocd --print-hit) and both LSIs computed before any daemon
# starts, as the other systems make their keys beforehand, so the first-reply
# clock covers daemon start, TUN setup, the join and the first packet's way,
# not key generation; A's daemon confirms its LSI (status --json) before B
# starts. info_<row> records each side's path to the other.
# shellcheck shell=bash
# The harness's variables and hooks are defined in peers.sh, which sources
# this file; the hooks are called by name.
# shellcheck disable=SC2034,SC2154

register idloc "idlocd idloc python3"
IDLOC_RELAY=${RELAY:-idlocd}
if [[ $IDLOC_RELAY == coturn ]]; then
	register idloc-relay "idlocd idloc python3 turnserver iptables"
else
	register idloc-relay "idlocd idloc python3 iptables"
fi
PKG_OF[python3]=python3
PKG_OF[turnserver]=coturn
PKG_OF[iptables]=iptables

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
# The relay row's third namespace and its addresses (10.201.0.96/28).
IDLOC_NS_R=pb-r
IDLOC_R_ADDR=10.201.0.110
# Per side: its end of the link to pb-r and address, pb-r's end and address,
# the link's /30.
declare -A IDLOC_R_LINK=([a]="pb-ra 10.201.0.97 pb-ar 10.201.0.98 10.201.0.96/30"
	[b]="pb-rb 10.201.0.101 pb-br 10.201.0.102 10.201.0.100/30")

setup_idloc()
{
	local d
	d=$(fresh_dir)
	idloc_keys "$d" "" "$UNDER_A:$IDLOC_PORT" "" || return 1
	ns_enable_ipv6 || { FAIL_REASON="could not enable IPv6 in the namespaces"; return 1; }
	idloc_start_a "$d" || return 1
	idloc_start_b "$d" || return 1
	SYS_NOTE="HIPv2 (ECDSA P-256, ECDH P-256), ESP BEET in UDP; TUN MTU is its default"
}

setup_idloc-relay()
{
	local d turn="" serve=yes
	d=$(fresh_dir)
	idloc_relay_net || return 1
	if [[ $IDLOC_RELAY == coturn ]]; then
		turn="turn://$IDLOC_TURN_USER:$IDLOC_TURN_PASS@$IDLOC_R_ADDR:$IDLOC_TURN_PORT"
		serve=no
		idloc_coturn "$d" || return 1
	fi
	idloc_earth "$d" "$serve" || return 1
	idloc_keys "$d" "$IDLOC_R_ADDR:$IDLOC_PORT" "$IDLOC_R_ADDR:$IDLOC_PORT" "$turn" || return 1
	idloc_start_a "$d" || return 1
	wait_for 20 "A's name in the overlay" grep -q "name 'pb-a.$IDLOC_DOMAIN' registered" \
		"$WORK/$CURRENT-idlocd-a.log" || return 1
	[[ $serve == no ]] || idloc_wait_relay a || return 1
	idloc_start_b "$d" || return 1
	wait_for 20 "B joined" idloc_joined "$d" b || return 1
	[[ $serve == no ]] || idloc_wait_relay b || return 1
	idloc_resolve_a "$d" || return 1
	if [[ $serve == no ]]; then
		SYS_NOTE="relay: coturn $(pkgver coturn) in a third namespace with the bootstrap node, "
		SYS_NOTE+="joined to A and B by veths of its own (A and B: [ice] turn)"
	else
		SYS_NOTE="relay: idlocd's own TURN server ([relay] serve = yes) on the bootstrap node "
		SYS_NOTE+="in a third namespace, joined to A and B by veths of its own; A and B find it "
		SYS_NOTE+="in the overlay"
	fi
	SYS_NOTE+="; UDP between A and B on their shared veth dropped, so the pipe's only working "
	SYS_NOTE+="ICE pairs are relayed (the relay's and the bootstrap's CPU not counted)"
}

# idloc_wait_relay SIDE: the side found earth's relay in the overlay and gave
# its address and credentials to the pipes (relays.c logs it at notice).
idloc_wait_relay()
{
	wait_for 40 "${1^^} using earth's relay" grep -q "using relay .* at $IDLOC_R_ADDR:$IDLOC_TURN_PORT" \
		"$WORK/$CURRENT-idlocd-$1.log"
}

# idloc_keys DIR A_BOOTSTRAP B_BOOTSTRAP TURN_URL: configs for A (no
# bootstrap: it starts the overlay) and B, both keys, both LSIs (IDLOC_LSI).
idloc_keys()
{
	local d=$1 aboot=$2 bboot=$3 turn=$4 s hit
	declare -gA IDLOC_LSI=()
	idloc_conf "$d" a "$aboot" "$turn" >"$d/a.conf"
	idloc_conf "$d" b "$bboot" "$turn" >"$d/b.conf"
	for s in a b; do
		if ! hit=$(idlocd -c "$d/$s.conf" --print-hit 2>"$d/$s.err"); then
			FAIL_REASON="idlocd --print-hit: $(head -1 "$d/$s.err")"
			FAIL_REASON=${FAIL_REASON//$d\//}
			return 1
		fi
		IDLOC_LSI[$s]=$(idloc_lsi "$hit") || {
			FAIL_REASON="no LSI for HIT '$hit'"
			return 1
		}
	done
	TUN_A_ADDR=${IDLOC_LSI[a]} TUN_B_ADDR=${IDLOC_LSI[b]}
	IDLOC_DIR=$d
	SYS_VERSION="idloc $(idlocd --version | cut -d' ' -f2)${IDLOC_BENCH_REV:+ ($IDLOC_BENCH_REV)}"
	SYS_CIPHER="AES-128-GCM ($(idloc_aead_backend))"
}

# idloc_start_a DIR: A's daemon, up to its TUN and control socket, with the
# LSI we computed.
idloc_start_a()
{
	local d=$1 lsi
	spawn "$NS_A" idlocd-a idlocd -c "$d/a.conf" --log-level notice
	wait_for 10 "idlocd A UDP port" port_bound "$NS_A" udp "$IDLOC_PORT" || return 1
	wait_for 10 "idlocd A TUN" has_addr "$NS_A" "${IDLOC_LSI[a]}" || return 1
	wait_for 10 "idlocd A control socket" idloc_ctl "$d" a status || return 1
	lsi=$(idloc_status "$d" a lsi)
	if [[ $lsi != "${IDLOC_LSI[a]}" ]]; then
		FAIL_REASON="A's LSI is '$lsi', computed ${IDLOC_LSI[a]}: idloc_lsi is out of date"
		return 1
	fi
}

# idloc_start_b DIR: B's daemon (the first-reply clock starts here), up to
# its TUN.
idloc_start_b()
{
	spawn "$NS_B" idlocd-b idlocd -c "$1/b.conf" --log-level notice
	wait_for 10 "idlocd B TUN" has_addr "$NS_B" "${IDLOC_LSI[b]}"
}

# idloc_aead_backend: the library doing ESP's AES-GCM for bulk traffic. A
# build with OpenSSL (meson option openssl) loads libcrypto when an SA first
# carries bulk traffic (src/crypto/aead.c), so the binary names its soname;
# otherwise mbedTLS does it.
idloc_aead_backend()
{
	local bin
	bin=$(command -v idlocd) || { echo "backend unknown"; return; }
	if grep -aq 'libcrypto\.so\.3' "$bin"; then
		echo OpenSSL
	else
		echo mbedTLS
	fi
}

# idloc_conf DIR SIDE BOOTSTRAP TURN_URL [SERVE]: one daemon's config on
# stdout. Nothing leaves the namespaces: no upstream DNS, system DNS left
# alone. Only the relay row's earth serves a relay (SERVE yes), on
# IDLOC_TURN_PORT.
idloc_conf()
{
	local d=$1 s=$2 boot=$3 turn=$4 serve=${5:-no}
	printf '[overlay]\ndomain = %s\n' "$IDLOC_DOMAIN"
	[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
	printf '[peer]\nname = pb-%s\nport = %s\nstate-dir = %s\ncontrol = %s\n' \
		"$s" "$IDLOC_PORT" "$d/$s.state" "$d/$s.sock"
	printf '[tun]\ndevice = %s\n' "$IDLOC_TUN"
	printf '[dns]\nupstream = none\nconfigure = none\n'
	printf '[relay]\nserve = %s\nport = %s\n' "$serve" "$IDLOC_TURN_PORT"
	[[ -n $turn ]] && printf '[ice]\nturn = %s\n' "$turn"
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

# idloc_ctl DIR SIDE ARGS...: the CLI against one side's daemon (a, b, or
# r: the relay row's earth).
idloc_ctl()
{
	local d=$1 s=$2 ns=$NS_A
	shift 2
	[[ $s == b ]] && ns=$NS_B
	[[ $s == r ]] && ns=$IDLOC_NS_R
	nsx "$ns" idloc -s "$d/$s.sock" "$@"
}

# idloc_status DIR SIDE KEY: one field of the side's status (dotted path).
idloc_status()
{
	idloc_ctl "$1" "$2" status --json | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$3"
}

idloc_joined() { [[ $(idloc_status "$1" "$2" overlay.joined) == True ]]; }

# idloc_resolve_a DIR: B looks A's name up through its own resolver, as an
# application does: the answer must be A's LSI, which B then knows.
idloc_resolve_a()
{
	local got
	wait_for 20 "B resolving pb-a.$IDLOC_DOMAIN" idloc_dns_a "$NS_B" "pb-a.$IDLOC_DOMAIN" || return 1
	got=$(idloc_dns_a "$NS_B" "pb-a.$IDLOC_DOMAIN")
	if [[ $got != "${IDLOC_LSI[a]}" ]]; then
		FAIL_REASON="B's resolver answered '$got' for pb-a, A's LSI is ${IDLOC_LSI[a]}"
		return 1
	fi
}

# idloc_dns_a NS NAME: the first A record the daemon's resolver in NS gives
# for NAME (one query over UDP, 1 s timeout); fails without one.
idloc_dns_a()
{
	nsx "$1" python3 - "$2" "$IDLOC_RESOLVER" <<-'EOF'
		import socket, struct, sys
		name, server = sys.argv[1], sys.argv[2]
		q = struct.pack(">HHHHHH", 0x1d10, 0x0100, 1, 0, 0, 0)
		q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
		q += struct.pack(">HH", 1, 1)
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(1)
		s.sendto(q, (server, 53))
		m = s.recv(1500)
		ident, flags, qd, an = struct.unpack(">HHHH", m[:8])
		if ident != 0x1d10 or flags & 0xf or an == 0:
		    sys.exit(1)
		def skip(m, i):
		    while m[i] and m[i] < 0xc0:
		        i += m[i] + 1
		    return i + (2 if m[i] else 1)
		i = 12
		for _ in range(qd):
		    i = skip(m, i) + 4
		for _ in range(an):
		    i = skip(m, i)
		    rtype, _, _, rdlen = struct.unpack(">HHIH", m[i:i + 10])
		    i += 10
		    if rtype == 1 and rdlen == 4:
		        print(socket.inet_ntoa(m[i:i + 4]))
		        sys.exit(0)
		    i += rdlen
		sys.exit(1)
	EOF
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

# idloc_paths WANT: notes both sides' paths; with WANT (a path type), a side
# whose path is of another type makes the row FAILED.
idloc_paths()
{
	local from to path
	for from in a b; do
		to=b
		[[ $from == b ]] && to=a
		path=$(idloc_path "$IDLOC_DIR" "$from" "$to" 2>/dev/null)
		SYS_NOTE+="; ${from^^}'s path to ${to^^}: ${path:-unknown}"
		if [[ -n $1 && ${path%% *} != "$1" ]]; then
			R[status]=FAILED
			R[note]+="${from^^}'s path to ${to^^} was ${path:-unknown}, not $1; "
		fi
	done
}

info_idloc() { idloc_paths ""; }
info_idloc-relay()
{
	local cpu
	idloc_paths relay
	# The relay's CPU over the row (coturn, or earth's idlocd), most of it
	# relaying the iperf3 runs (/proc/PID/stat after "(comm) ": utime and
	# stime are fields 12, 13).
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.1f", ($12 + $13) / hz}' \
		"/proc/$IDLOC_RELAY_PID/stat" 2>/dev/null) || return 0
	if [[ $IDLOC_RELAY == coturn ]]; then
		SYS_NOTE+="; coturn's CPU over the row: $cpu s"
	else
		SYS_NOTE+="; the relay's (earth's idlocd) CPU over the row: $cpu s"
	fi
}
teardown_idloc-relay() { idloc_relay_down; }

# idloc_relay_net: pb-r, its links to A and B, the routes and the filter
# (the picture at the top). pb-r answers from its service address: earth's
# socket is bound to any address and replies from the one the kernel picks
# for the way out, and A drops an R1 from another address than its I1's.
# IPv6 is on in the three namespaces (the TUNs carry HITs) but off on every
# veth: the underlay is IPv4.
idloc_relay_net()
{
	local s ns dev addr rdev raddr net ok=1
	idloc_relay_down
	ip netns add "$IDLOC_NS_R" || { FAIL_REASON="could not create $IDLOC_NS_R"; return 1; }
	ns_enable_ipv6 || ok=0
	must ip -n "$IDLOC_NS_R" link set lo up &&
		must ip -n "$IDLOC_NS_R" link add pb-svc type veth peer name pb-svc-end &&
		must ip -n "$IDLOC_NS_R" addr add "$IDLOC_R_ADDR/32" dev pb-svc &&
		must ip -n "$IDLOC_NS_R" link set pb-svc up &&
		must ip -n "$IDLOC_NS_R" link set pb-svc-end up &&
		must ip -n "$IDLOC_NS_R" link add pb-void type veth peer name pb-void-end &&
		must ip -n "$IDLOC_NS_R" addr add 10.201.0.105/30 dev pb-void &&
		must ip -n "$IDLOC_NS_R" link set pb-void up &&
		must ip -n "$IDLOC_NS_R" link set pb-void-end up &&
		must ip -n "$IDLOC_NS_R" neigh add 10.201.0.106 lladdr 02:00:00:00:00:01 dev pb-void \
			nud permanent &&
		must ip -n "$IDLOC_NS_R" route add default via 10.201.0.106 || ok=0
	for s in a b; do
		read -r dev addr rdev raddr net <<<"${IDLOC_R_LINK[$s]}"
		ns=$NS_A
		[[ $s == b ]] && ns=$NS_B
		must ip -n "$ns" link add "$dev" type veth peer name "$rdev" netns "$IDLOC_NS_R" &&
			must nsx "$ns" sysctl -qw "net/ipv6/conf/$dev/disable_ipv6=1" &&
			must nsx "$IDLOC_NS_R" sysctl -qw "net/ipv6/conf/$rdev/disable_ipv6=1" &&
			must ip -n "$ns" addr add "$addr/${net#*/}" dev "$dev" &&
			must ip -n "$IDLOC_NS_R" addr add "$raddr/${net#*/}" dev "$rdev" &&
			must ip -n "$ns" link set "$dev" up &&
			must ip -n "$IDLOC_NS_R" link set "$rdev" up &&
			must ip -n "$IDLOC_NS_R" route replace "$net" dev "$rdev" src "$IDLOC_R_ADDR" &&
			must ip -n "$ns" route add default via "$raddr" || ok=0
	done
	must nsx "$IDLOC_NS_R" sysctl -qw net.ipv6.conf.pb-void.disable_ipv6=1 \
		net.ipv6.conf.pb-void-end.disable_ipv6=1 net.ipv6.conf.pb-svc.disable_ipv6=1 \
		net.ipv6.conf.pb-svc-end.disable_ipv6=1 || ok=0
	must nsx "$NS_A" iptables -w -A OUTPUT -p udp -s "$UNDER_A" -d "$UNDER_B" -j DROP &&
		must nsx "$NS_A" iptables -w -A INPUT -p udp -s "$UNDER_B" -d "$UNDER_A" -j DROP || ok=0
	((ok)) || { FAIL_REASON=${FAIL_REASON:-"could not build the relay topology"}; return 1; }
}

# idloc_relay_down: what runs in pb-r was started by this row (earth, and
# coturn with RELAY=coturn): the harness has stopped it by PID already; anything left is
# killed, then the namespace goes (with its veths).
idloc_relay_down()
{
	local pids
	ip netns list | awk -v n="$IDLOC_NS_R" '$1 == n {f = 1} END {exit !f}' || return 0
	pids=$(ip netns pids "$IDLOC_NS_R" 2>/dev/null | tr '\n' ' ')
	# One word per pid, on purpose.
	# shellcheck disable=SC2086
	[[ -n ${pids// /} ]] && { kill -KILL $pids 2>/dev/null; sleep 0.2; }
	ip netns del "$IDLOC_NS_R" 2>/dev/null
	return 0
}

# idloc_earth DIR SERVE: the relay row's bootstrap node in pb-r, a helper;
# SERVE yes: it is the relay, which must serve on IDLOC_R_ADDR.
idloc_earth()
{
	local d=$1 serve=$2
	idloc_conf "$d" r "" "" "$serve" | sed 's/^name = pb-r$/name = earth/' >"$d/r.conf"
	spawn_aux "$IDLOC_NS_R" earth idlocd -c "$d/r.conf" --log-level notice
	[[ $serve == yes ]] && IDLOC_RELAY_PID=${AUX_PIDS[-1]}
	wait_for 10 "earth's UDP port" port_bound "$IDLOC_NS_R" udp "$IDLOC_PORT" || return 1
	wait_for 10 "earth's control socket" idloc_ctl "$d" r status || return 1
	[[ $serve == yes ]] || return 0
	wait_for 10 "earth's relay on $IDLOC_R_ADDR:$IDLOC_TURN_PORT" grep -q \
		"relaying for overlay peers on $IDLOC_R_ADDR:$IDLOC_TURN_PORT" "$WORK/$CURRENT-earth.log"
}

# idloc_coturn DIR: a TURN server (UDP only, long-term credentials) in pb-r
# on its service address, relaying from ports on that address. No config
# file (-n); coturn always opens an SQLite user database and a pid file:
# both in DIR, not in /var. It logs to stdout, the harness's log.
idloc_coturn()
{
	spawn_aux "$IDLOC_NS_R" coturn turnserver -n --log-file stdout --simple-log \
		--listening-ip "$IDLOC_R_ADDR" --relay-ip "$IDLOC_R_ADDR" \
		--listening-port "$IDLOC_TURN_PORT" --min-port 49152 --max-port 49252 \
		--no-tcp --no-tls --no-dtls --no-tcp-relay --no-cli --no-rfc5780 \
		--no-multicast-peers --lt-cred-mech --fingerprint --realm "$IDLOC_DOMAIN" \
		--user "$IDLOC_TURN_USER:$IDLOC_TURN_PASS" --userdb "$1/turndb" \
		--pidfile "$1/turnserver.pid"
	IDLOC_RELAY_PID=${AUX_PIDS[-1]}
	wait_for 10 "coturn" port_bound "$IDLOC_NS_R" udp "$IDLOC_TURN_PORT"
}
