# SPDX-License-Identifier: MIT
# natlib.sh: NAT topologies for idloc's integration tests (sourced after lib.sh).
#
# An "internet" is one bridge (namespace "inet", 10.77.100.0/24). Public hosts
# plug into it; home routers have their WAN leg (eth0) on it and a LAN bridge
# (lan0, 10.77.<lan>.1/24) inside their own namespace, to which the peers behind
# them are plugged (their eth0, default route via the router). Nothing is routed
# between LANs or to anything outside: a LAN address is reachable only from its
# own LAN, exactly as behind a real home router. docs/nat.md describes the NAT
# flavours and what was measured with them.
#
#   nat_require                           skip (77) unless iptables can NAT here
#   nat_internet                          the internet bridge (call first, after lib_init)
#   nat_public NAME ADDR                  a host on the internet (ADDR without /len)
#   nat_router NAME WAN LAN FLAVOUR       a home router: WAN address, LAN number (10.77.LAN.0/24)
#   nat_peer ROUTER NAME ADDR             a host behind ROUTER (ADDR in its LAN)
#   nat_peer_link ROUTER NAME ADDR IF     another link of host NAME into ROUTER's LAN
#   nat_udp_timeout ROUTER SECONDS        conntrack's UDP timeouts inside ROUTER
#   nat_two_homes FLAVOUR                 earth on the internet, venus and mars behind
#                                         two FLAVOUR routers (EARTH, VHOME, MHOME)
#   nat_capture_start, nat_capture_stop, nat_capture_count
#                                         a capture of the internet, and counting in it
#   coturn_start NAME ADDR, coturn_stop   a coturn server in namespace NAME, listening on ADDR
#   nat_probe, nat_probe_server           the UDP probe tool (python), see NAT_PROBE_PY
#   idlocd_conf, idlocd_start, idloc_ctl, idlocd_wait_joined, resolves,
#   peer_info, peer_path_is, retry        idlocd in these topologies (at the end)
#
# Flavours (RFC 4787 terms; "mapping" is how the external port is chosen,
# "filtering" which inbound packets a mapping lets in):
#   eim          MASQUERADE: endpoint-independent mapping (the source port kept
#                when free), address-and-port-dependent filtering by conntrack.
#                A "port-restricted cone" NAT, what most home routers are.
#   port-restricted   the same as eim (an alias: the name in the older terms).
#   full-cone    eim plus a DMZ host: unsolicited UDP to the WAN address goes to
#                the first peer behind the router (endpoint-independent filtering
#                for that peer; the source port is kept, so the mapped port is
#                the peer's own).
#   symmetric    MASQUERADE --random-fully: a fresh random port for every
#                connection (per destination address and port), address-and-port-
#                dependent filtering.
# Every router drops unsolicited inbound packets in INPUT and FORWARD, as a home
# router's firewall does (and which keeps unsolicited packets from creating
# conntrack entries that would block a later mapping: docs/nat.md).
# shellcheck shell=bash

declare -A NAT_FLAVOUR=()
declare -A NAT_LAN=()
declare -A NAT_DMZ=()
COTURN_PORT=3478
COTURN_USER=user
COTURN_PASS=pass
COTURN_REALM=idloc.test
COTURN_LOG=""
COTURN_PID=""

# Skips (77) unless the tools every NAT topology needs are there.
nat_require()
{
	require_cmd ip iptables sysctl python3
	local full
	full=$(ns nat-probe)
	ip netns add "$full" 2>/dev/null || {
		echo "SKIP: cannot create a namespace for the iptables probe"
		exit 77
	}
	if ! ip netns exec "$full" iptables -t nat -A POSTROUTING -o lo -j MASQUERADE --random-fully \
		>/dev/null 2>&1; then
		ip netns del "$full"
		echo "SKIP: iptables cannot NAT here (no nf_nat or no MASQUERADE --random-fully)"
		exit 77
	fi
	ip netns del "$full"
}

# The internet: a bridge in namespace "inet".
# The internet's "default gateway" swallows what is addressed to nobody on
# the bridge (a LAN address behind some router): it takes it and, not
# forwarding, drops it without an error, as the real internet does. Without
# it a public host sending to a private address gets ENETUNREACH at once,
# and coturn ends the allocation of a client whose peer's candidates
# include one (its relayed checks to a host candidate fail locally).
NAT_VOID=10.77.100.254
nat_internet()
{
	bridge_create inet
	ip -n "$(ns inet)" addr add "$NAT_VOID/24" dev br0
}

# nat_two_homes FLAVOUR: the two-peer NAT topology. The internet with the
# bootstrap host earth ($EARTH), and two homes whose routers ($VHOME and
# $MHOME) do FLAVOUR: venus (10.77.101.2) behind vhome, mars (10.77.102.2)
# behind mhome. venus asks $RESOLVER (its idlocd) for names.
EARTH=10.77.100.1
VHOME=10.77.100.11
MHOME=10.77.100.12
nat_two_homes()
{
	nat_internet
	nat_public earth "$EARTH"
	nat_router vhome "$VHOME" 101 "$1"
	nat_router mhome "$MHOME" 102 "$1"
	nat_peer vhome venus 10.77.101.2
	nat_peer mhome mars 10.77.102.2
	ns_resolv_conf venus "$RESOLVER"
}

# nat_capture_start: captures everything on the internet into
# $TEST_TMP/internet.pcap, until nat_capture_stop.
nat_capture_start()
{
	ns_spawn inet "$TEST_TMP/tcpdump.log" "$TEST_TMP/tcpdump.log" \
		tcpdump -i br0 -n -U -s 0 -w "$TEST_TMP/internet.pcap"
	NAT_CAPTURE_PID=$SPAWNED_PID
	sleep 1
}

nat_capture_stop()
{
	capture_stop "$NAT_CAPTURE_PID" "$TEST_TMP/internet.pcap"
}

# nat_capture_count FILTER: how many captured packets match the tshark
# display FILTER.
nat_capture_count()
{
	tshark -r "$TEST_TMP/internet.pcap" -Y "$1" 2>/dev/null | wc -l
}

# nat_public NAME ADDR: a host on the internet.
nat_public()
{
	ns_create "$1"
	bridge_attach inet "$1" "$2/24"
	ip -n "$(ns "$1")" route add default via "$NAT_VOID"
}

# nat_router NAME WAN_ADDR LAN FLAVOUR: a home router with WAN_ADDR on the
# internet and 10.77.LAN.1/24 on its LAN bridge.
nat_router()
{
	local r=$1 wan=$2 lan=$3 flavour=$4 full
	case $flavour in
	eim | port-restricted | full-cone | symmetric) ;;
	*)
		echo "nat_router: unknown flavour '$flavour'" >&2
		return 1
		;;
	esac
	nat_public "$r" "$wan"
	full=$(ns "$r")
	ip -n "$full" link add lan0 type bridge
	ip -n "$full" addr add "10.77.$lan.1/24" dev lan0
	ip -n "$full" link set lan0 up
	ip netns exec "$full" sysctl -qw net.ipv4.ip_forward=1
	NAT_FLAVOUR[$r]=$flavour
	NAT_LAN[$r]=$lan
	_nat_iptables "$r" "$flavour"
}

_nat_ipt()
{
	local r=$1
	shift
	ip netns exec "$(ns "$r")" iptables -w "$@"
}

_nat_iptables()
{
	local r=$1 flavour=$2
	local -a masq=(-j MASQUERADE)
	[[ $flavour == symmetric ]] && masq+=(--random-fully)
	_nat_ipt "$r" -t nat -A POSTROUTING -o eth0 "${masq[@]}"
	# The home router's firewall: the LAN may go out, only answers come in.
	_nat_ipt "$r" -P FORWARD DROP
	_nat_ipt "$r" -A FORWARD -i lan0 -o eth0 -j ACCEPT
	_nat_ipt "$r" -A FORWARD -i eth0 -o lan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	_nat_ipt "$r" -P INPUT DROP
	_nat_ipt "$r" -A INPUT -i lo -j ACCEPT
	_nat_ipt "$r" -A INPUT -i lan0 -j ACCEPT
	_nat_ipt "$r" -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	_nat_ipt "$r" -A INPUT -p icmp --icmp-type echo-request -j ACCEPT
}

# nat_peer ROUTER NAME ADDR: a host on ROUTER's LAN, its default route via the
# router. The first peer behind a full-cone router is its DMZ host.
nat_peer()
{
	local r=$1 n=$2 addr=$3
	ns_create "$n"
	nat_peer_link "$r" "$n" "$addr" eth0
	ip -n "$(ns "$n")" route add default via "10.77.${NAT_LAN[$r]}.1"
	if [[ ${NAT_FLAVOUR[$r]} == full-cone && -z ${NAT_DMZ[$r]:-} ]]; then
		NAT_DMZ[$r]=$addr
		_nat_ipt "$r" -t nat -A PREROUTING -i eth0 -p udp -j DNAT --to-destination "$addr"
		_nat_ipt "$r" -A FORWARD -i eth0 -o lan0 -d "$addr" -p udp \
			-m conntrack --ctstate DNAT -j ACCEPT
	fi
}

# nat_peer_link ROUTER NAME ADDR IFNAME: one more link from host NAME (which
# exists) into ROUTER's LAN, as IFNAME with ADDR/24, no route (a second
# uplink, or the network a host moves to).
nat_peer_link()
{
	local r=$1 n=$2 addr=$3 ifname=$4 port="p-$2-$4"
	ip -n "$(ns "$n")" link add "$ifname" type veth peer name "$port" netns "$(ns "$r")"
	ip -n "$(ns "$r")" link set "$port" master lan0
	ip -n "$(ns "$r")" link set "$port" up
	ip -n "$(ns "$n")" addr add "$addr/24" dev "$ifname"
	ip -n "$(ns "$n")" link set "$ifname" up
}

# nat_udp_timeout ROUTER SECONDS [STREAM_SECONDS]: how long the router keeps a
# UDP mapping without traffic: nf_conntrack_udp_timeout (a flow seen one way,
# or replied within its first 2 s) and _stream (a flow with replies after
# that). Both are per network namespace; STREAM_SECONDS defaults to SECONDS.
nat_udp_timeout()
{
	local r=$1 t=$2 s=${3:-$2} full
	full=$(ns "$r")
	ip netns exec "$full" sysctl -qw net.netfilter.nf_conntrack_udp_timeout="$t" \
		net.netfilter.nf_conntrack_udp_timeout_stream="$s"
	[[ $(ip netns exec "$full" sysctl -n net.netfilter.nf_conntrack_udp_timeout) == "$t" &&
		$(ip netns exec "$full" sysctl -n net.netfilter.nf_conntrack_udp_timeout_stream) == "$s" ]]
}

# coturn_start NAME ADDR: runs coturn in namespace NAME (a public host),
# listening on ADDR:COTURN_PORT only, STUN and TURN over UDP only (no TCP,
# no TLS), long-term credentials COTURN_USER:COTURN_PASS in realm COTURN_REALM,
# relay ports 49152-49252 on ADDR. Its files live in $TEST_TMP/coturn; sets
# COTURN_PID and COTURN_LOG. coturn always opens an SQLite user database: it
# is pointed at an empty file in the scratch directory, so the only account is
# the user= line.
coturn_start()
{
	local n=$1 addr=$2 dir=$TEST_TMP/coturn
	mkdir -p "$dir"
	COTURN_LOG=$dir/turnserver.log
	cat >"$dir/turnserver.conf" <<-EOF
		listening-ip=$addr
		relay-ip=$addr
		listening-port=$COTURN_PORT
		min-port=49152
		max-port=49252
		lt-cred-mech
		fingerprint
		realm=$COTURN_REALM
		user=$COTURN_USER:$COTURN_PASS
		userdb=$dir/turndb
		no-tls
		no-dtls
		no-tcp
		no-tcp-relay
		no-cli
		no-multicast-peers
		no-rfc5780
		user-quota=16
		total-quota=64
		pidfile=$dir/turnserver.pid
		log-file=$COTURN_LOG
		simple-log
		no-stdout-log
		verbose
	EOF
	ns_spawn "$n" "$dir/stdout.log" "$dir/stdout.log" turnserver -c "$dir/turnserver.conf"
	COTURN_PID=$SPAWNED_PID
	wait_for_udp_port "$n" "$COTURN_PORT" 10
}

# coturn_stop: stops coturn (it dies of SIGTERM's default action: status 143).
coturn_stop()
{
	local rc=0
	stop_pid "$COTURN_PID" 10 || rc=$?
	[[ $rc -eq 0 || $rc -eq 143 ]]
}

# The probe: one python program with four modes, run inside a namespace.
#   server ADDR:PORT...      answers on every socket: "echo T" -> "seen IP:PORT T"
#                            from the same socket; "via ADDR:PORT T" -> the same
#                            from another of its sockets; "later S T" -> the same
#                            after S seconds; "reg ID" / "get ID" remember and
#                            return a client's address (a rendezvous for punch).
#   classify PORT A A2 B     from local PORT: the mapping (A and A2 share the
#                            address, B is another address) and the filtering
#                            (do replies via A2 and via B get in?), as JSON.
#   hold PORT A WAIT KEEP    asks A for a reply WAIT s later, sending an echo
#                            every KEEP s meanwhile (0: none); prints JSON
#                            {"received": bool}.
#   punch PORT A ME OTHER    registers as ME at A, learns OTHER's address there,
#                            then both send hellos to each other's address and
#                            answer what arrives (as ICE's triggered checks do,
#                            peer-reflexive addresses included) for 3 s; prints
#                            {"direct": bool, "from": "IP:PORT" or null}.
# shellcheck disable=SC2016
NAT_PROBE_PY='
import json, select, socket, sys, time

def ep(s):
    h, p = s.rsplit(":", 1)
    return (h, int(p))

def fmt(a):
    return "%s:%d" % a

def sock(local):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(local)
    return s

def server(binds):
    socks = {ep(b): sock(ep(b)) for b in binds}
    later, reg = [], {}
    while True:
        now = time.monotonic()
        for item in [x for x in later if x[0] <= now]:
            later.remove(item)
            item[1].sendto(item[3], item[2])
        wait = min([x[0] for x in later], default=now + 1) - now
        ready, _, _ = select.select(list(socks.values()), [], [], max(wait, 0))
        for s in ready:
            data, src = s.recvfrom(2048)
            w = data.decode(errors="replace").split()
            if len(w) < 2:
                continue
            seen = ("seen %s %s" % (fmt(src), w[-1])).encode()
            if w[0] == "echo":
                s.sendto(seen, src)
            elif w[0] == "via" and len(w) == 3 and ep(w[1]) in socks:
                socks[ep(w[1])].sendto(seen, src)
            elif w[0] == "later" and len(w) == 3:
                later.append((time.monotonic() + float(w[1]), s, src, seen))
            elif w[0] == "reg":
                reg[w[1]] = src
                s.sendto(("ok %s" % w[1]).encode(), src)
            elif w[0] == "get":
                a = reg.get(w[1])
                s.sendto(("addr %s %s" % (fmt(a) if a else "none", w[1])).encode(), src)

def ask(s, dest, msg, tag, timeout=1.0, tries=3, verb="seen"):
    for _ in range(tries):
        s.sendto(msg.encode(), dest)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], end - time.monotonic())
            if not r:
                break
            data, src = s.recvfrom(2048)
            w = data.decode(errors="replace").split()
            if len(w) >= 2 and w[0] == verb and w[-1] == tag:
                return w, src
    return None, None

def classify(port, a, a2, b):
    s = sock(("0.0.0.0", port))
    w, _ = ask(s, a, "echo m1", "m1")
    if not w:
        print(json.dumps({"error": "no answer from %s" % fmt(a)}))
        return 1
    map_a = w[1]
    via_port, _ = ask(s, a, "via %s f1" % fmt(a2), "f1", timeout=0.5, tries=1)
    via_addr, _ = ask(s, a, "via %s f2" % fmt(b), "f2", timeout=0.5, tries=1)
    map_a2 = (ask(s, a2, "echo m2", "m2")[0] or [None, None])[1]
    map_b = (ask(s, b, "echo m3", "m3")[0] or [None, None])[1]
    if map_a == map_a2 == map_b:
        mapping = "endpoint-independent"
    elif map_a == map_a2:
        mapping = "address-dependent"
    else:
        mapping = "address-and-port-dependent"
    if via_addr:
        filtering = "endpoint-independent"
    elif via_port:
        filtering = "address-dependent"
    else:
        filtering = "address-and-port-dependent"
    print(json.dumps({"local_port": port, "mapped": [map_a, map_a2, map_b],
                      "port_preserved": map_a.endswith(":%d" % port),
                      "mapping": mapping, "filtering": filtering}))
    return 0

def hold(port, a, wait, keep):
    s = sock(("0.0.0.0", port))
    s.sendto(("later %s h1" % wait).encode(), a)
    end = time.monotonic() + wait + 2
    next_keep = time.monotonic() + keep if keep > 0 else None
    got = False
    while time.monotonic() < end and not got:
        now = time.monotonic()
        if next_keep is not None and now >= next_keep:
            s.sendto(b"echo k", a)
            next_keep = now + keep
        t = end - now if next_keep is None else min(end, next_keep) - now
        r, _, _ = select.select([s], [], [], max(t, 0))
        if r:
            data, _ = s.recvfrom(2048)
            got = data.decode(errors="replace").split()[-1:] == ["h1"]
    print(json.dumps({"received": got}))
    return 0

def punch(port, a, me, other):
    s = sock(("0.0.0.0", port))
    if not ask(s, a, "reg %s" % me, me, verb="ok")[0]:
        print(json.dumps({"error": "no answer from %s" % fmt(a)}))
        return 1
    target = None
    end = time.monotonic() + 5
    while target is None and time.monotonic() < end:
        w, _ = ask(s, a, "get %s" % other, other, tries=1, verb="addr")
        if w and w[1] != "none":
            target = ep(w[1])
        else:
            time.sleep(0.2)
    if target is None:
        print(json.dumps({"error": "%s never registered" % other}))
        return 1
    targets = {target}
    got = None
    end = time.monotonic() + 3
    next_hello = 0
    while time.monotonic() < end:
        now = time.monotonic()
        if now >= next_hello:
            for t in targets:
                s.sendto(("hello %s" % me).encode(), t)
            next_hello = now + 0.2
        r, _, _ = select.select([s], [], [], max(min(next_hello, end) - now, 0))
        if not r:
            continue
        data, src = s.recvfrom(2048)
        w = data.decode(errors="replace").split()
        if w[:1] == ["hello"]:
            s.sendto(("ack %s" % me).encode(), src)
            targets.add(src)
        elif w[:1] == ["ack"] and got is None:
            got = fmt(src)
    print(json.dumps({"direct": got is not None, "from": got}))
    return 0

def main(argv):
    mode = argv[1]
    if mode == "server":
        return server(argv[2:])
    if mode == "classify":
        return classify(int(argv[2]), ep(argv[3]), ep(argv[4]), ep(argv[5]))
    if mode == "hold":
        return hold(int(argv[2]), ep(argv[3]), float(argv[4]), float(argv[5]))
    if mode == "punch":
        return punch(int(argv[2]), ep(argv[3]), argv[4], argv[5])
    return 2

sys.exit(main(sys.argv))
'

# nat_probe NAME ARGS...: runs the probe in namespace NAME in the foreground.
nat_probe()
{
	local n=$1
	shift
	ns_exec "$n" python3 -c "$NAT_PROBE_PY" "$@"
}

# nat_probe_server NAME ADDR:PORT...: the probe's server in the background.
nat_probe_server()
{
	local n=$1
	shift
	ns_spawn "$n" "$TEST_TMP/probe-$n.log" "$TEST_TMP/probe-$n.log" \
		python3 -c "$NAT_PROBE_PY" server "$@"
}

# ---- idlocd in NAT topologies ----------------------------------------------
# Set IDLOCD, IDLOC and NAT_DOMAIN before using these.

# idlocd_conf NAME BOOTSTRAP [EXTRA]: writes $TEST_TMP/NAME/idloc.conf. EXTRA
# is appended as it is (more sections: "[ice]\nstun = ...", printf-style).
# Nothing leaves the test's namespaces: no upstream DNS, resolv.conf untouched.
idlocd_conf()
{
	local n=$1 boot=$2 extra=${3:-}
	mkdir -p "$TEST_TMP/$n"
	{
		printf '[overlay]\ndomain = %s\n' "$NAT_DOMAIN"
		[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
		printf '[peer]\nname = %s\nstate-dir = %s/%s/state\ncontrol = %s/%s/ctl.sock\n' \
			"$n" "$TEST_TMP" "$n" "$TEST_TMP" "$n"
		printf '[dns]\nupstream = none\nconfigure = none\n'
		if [[ -n $extra ]]; then
			# shellcheck disable=SC2059
			printf "$extra\n"
		fi
	} >"$TEST_TMP/$n/idloc.conf"
}

# idlocd_start NAME [LOGNAME]: starts idlocd in namespace NAME (SPAWNED_PID
# is its pid).
idlocd_start()
{
	local n=$1 log=$TEST_TMP/$1/${2:-idlocd}.log
	ns_spawn "$n" "$log" "$log" "$IDLOCD" -c "$TEST_TMP/$n/idloc.conf" \
		--log-level "${IDLOC_LOG_LEVEL:-info}"
}

# idloc_ctl NAME ARGS...: the CLI against NAME's daemon.
idloc_ctl()
{
	local n=$1
	shift
	ns_exec "$n" "$IDLOC" -s "$TEST_TMP/$n/ctl.sock" "$@"
}

# json_field PATH: prints PATH (dotted keys) of the JSON object on stdin.
json_field()
{
	python3 -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}

# idlocd_joined NAME: NAME's daemon says it is joined to the overlay.
idlocd_joined()
{
	[[ $(idloc_ctl "$1" status --json 2>/dev/null | json_field overlay.joined 2>/dev/null) == True ]]
}

# idlocd_wait_joined NAME SECONDS
idlocd_wait_joined()
{
	local n=$1 t=$2 k
	for ((k = 0; k < t * 5; k++)); do
		idlocd_joined "$n" && return 0
		sleep 0.2
	done
	echo "$n did not join within ${t}s" >&2
	return 1
}

# retry SECONDS COMMAND...: runs the command until it succeeds, a second
# apart, and gives up once SECONDS have passed (however long each run takes).
retry()
{
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 1
	done
}

# resolves NAME OTHER: NAME's daemon finds OTHER's record in the overlay.
resolves()
{
	idloc_ctl "$1" resolve "$2" >/dev/null 2>&1
}

# peer_info NAME HIT: prints "STATE PATH_TYPE REMOTE TX RX" for HIT as NAME's
# daemon lists it (nothing when it does not).
peer_info()
{
	idloc_ctl "$1" peers --json | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p["hit"] == sys.argv[1]:
        print(p["state"], p["path"]["type"], p["path"]["remote"], p["tx_bytes"], p["rx_bytes"])' "$2"
}

# peer_path_is NAME HIT REGEX: NAME lists HIT ESTABLISHED with a path type
# matching REGEX (extended, whole word).
peer_path_is()
{
	local state ptype rest
	read -r state ptype rest < <(peer_info "$1" "$2") || true
	echo "$1 lists $2: ${state:-nothing} ${ptype:-} ${rest:-}" >&2
	[[ $state == ESTABLISHED && $ptype =~ ^($3)$ ]]
}

# page_serve NAME KB MARKER: a web server on port 80 in NAME's namespace
# serving a page of MARKER lines and KB kB of random text; PAGE_SHA is its
# SHA-256.
page_serve()
{
	local n=$1 kb=$2 marker=$3 dir=$TEST_TMP/$1/www
	mkdir -p "$dir"
	{
		for _ in $(seq 200); do echo "$marker"; done
		head -c $((kb * 1024)) /dev/urandom | base64
	} >"$dir/index.html"
	PAGE_SHA=$(sha256sum <"$dir/index.html" | cut -d' ' -f1)
	ns_spawn "$n" "$TEST_TMP/$n/http.log" "$TEST_TMP/$n/http.log" \
		python3 -m http.server 80 --bind 0.0.0.0 --directory "$dir"
	retry 10 bash -c "[[ -n \$(ip netns exec $(ns "$n") ss -Hltn 'sport = :80') ]]"
}

# page_intact NAME URL: NAME fetches URL and gets exactly the page (PAGE_SHA).
page_intact()
{
	local got
	got=$(ns_exec "$1" curl -4 -sS --max-time 15 "$2" | sha256sum | cut -d' ' -f1)
	[[ $got == "$PAGE_SHA" ]]
}

# peer_remote_is NAME HIT ADDR: NAME's path to HIT ends at ADDR (any port).
peer_remote_is()
{
	local remote
	read -r _ _ remote _ < <(peer_info "$1" "$2") || true
	[[ $remote == "$3":* ]]
}
