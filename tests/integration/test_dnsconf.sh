#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_dnsconf.sh: idlocd points the system resolver at itself ([dns] configure),
# both ways, and takes it back.
#
#   1. resolv.conf: no system bus. `ip netns exec` runs idlocd in a mount
#      namespace of its own with the test's file bind-mounted over
#      /etc/resolv.conf (the host's file is never touched). The nameserver line
#      goes on top, getent finds the daemon's own name through it, SIGTERM takes
#      it out again; after kill -9 the next start leaves exactly one line and
#      the next stop restores the file byte for byte.
#   2. systemd-resolved: a private dbus-daemon (DBUS_SYSTEM_BUS_ADDRESS) and a
#      fake org.freedesktop.resolve1 in python3-gi that records its calls;
#      `auto` finds it and sets DefaultRoute off, the routing-only domain and
#      the resolver address on the TUN's ifindex; a restart of the fake is
#      configured again; SIGTERM sends RevertLink; resolv.conf stays as it was.
#
# Needs root, dbus-daemon and python3-gi; exits 77 (skip) otherwise.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

: "${IDLOCD:?set IDLOCD to the idlocd binary}"
: "${IDLOC:?set IDLOC to the idloc binary}"
require_root
require_cmd dbus-daemon getent
if ! /usr/bin/python3 -c 'from gi.repository import Gio' 2>/dev/null; then
	echo "SKIP: python3-gi is not installed (scripts/setup installs it)"
	exit 77
fi
lib_init

DOMAIN=test.internal
TUN=idl-dns
RESOLVER=100.64.0.53
ORIGINAL=$'# the namespace\'s own\nnameserver 192.0.2.1\noptions timeout:1 attempts:1\n'

ns_create a
ns_resolv_conf a 192.0.2.1
RESOLV=/etc/netns/$(ns a)/resolv.conf
printf '%s' "$ORIGINAL" >"$RESOLV"
cp "$RESOLV" "$TEST_TMP/original"
STATE=$TEST_TMP/a/state
mkdir -p "$STATE"
chmod 700 "$STATE"

{
	echo "[overlay]"
	echo "domain = $DOMAIN"
	echo "[peer]"
	echo "name = a"
	echo "state-dir = $STATE"
	echo "control = $TEST_TMP/a/control.sock"
	echo "[tun]"
	echo "device = $TUN"
	echo "[dns]"
	echo "upstream = none"
	echo "configure = auto"
} >"$TEST_TMP/a.conf"

# start RUN: idlocd in namespace a with log $TEST_TMP/RUN.log; sets DAEMON.
start()
{
	ns_spawn a "$TEST_TMP/$1.log" "$TEST_TMP/$1.log" \
		"$IDLOCD" -c "$TEST_TMP/a.conf" -f --log-level info
	DAEMON=$SPAWNED_PID
}

same_as_original()
{
	cmp -s "$RESOLV" "$TEST_TMP/original"
}

count_lines()
{
	grep -c -- "$1" "$RESOLV" || true
}

# ---- 1. resolv.conf ----
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TEST_TMP/no-bus

start file1
wait_for_log "$TEST_TMP/file1.log" "DNS: /etc/resolv.conf asks $RESOLVER first" 20
check "the first line is our marker" \
	bash -c "head -n 1 '$RESOLV' | grep -q '^# added by idlocd for $DOMAIN, removed when it stops; backup: $STATE/resolv.conf.backup\$'"
check "the second line is nameserver $RESOLVER" \
	bash -c "sed -n 2p '$RESOLV' | grep -qx 'nameserver $RESOLVER'"
check "the original follows unchanged" \
	bash -c "tail -n +3 '$RESOLV' | cmp -s - '$TEST_TMP/original'"
check "the backup holds the original" cmp -s "$STATE/resolv.conf.backup" "$TEST_TMP/original"
check "idloc status says resolv.conf" \
	bash -c "'$IDLOC' -s '$TEST_TMP/a/control.sock' status --json | grep -q '\"configured\": *\"resolv.conf\"'"
# The system resolver, through the file: glibc asks the daemon on the TUN.
check "getent finds a.$DOMAIN through resolv.conf" \
	bash -c "ip netns exec '$(ns a)' getent ahostsv4 a.$DOMAIN | grep -Eq '^100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.'"
check "idlocd exits 0 on SIGTERM" stop_pid "$DAEMON"
check "resolv.conf is restored byte for byte" same_as_original
check "the backup is gone" test ! -e "$STATE/resolv.conf.backup"

start file2
wait_for_log "$TEST_TMP/file2.log" "DNS: /etc/resolv.conf asks" 20
kill -KILL "$DAEMON"
wait "$DAEMON" 2>/dev/null || true
check "after kill -9 our line is still there" test "$(count_lines '^# added by idlocd')" -eq 1
start file3
wait_for_log "$TEST_TMP/file3.log" "DNS: /etc/resolv.conf asks" 20
check "the next start removes the stale line first" \
	grep -q "removed the nameserver line an earlier idlocd left" "$TEST_TMP/file3.log"
check "exactly one marker line" test "$(count_lines '^# added by idlocd')" -eq 1
check "exactly one nameserver $RESOLVER line" test "$(count_lines "^nameserver $RESOLVER\$")" -eq 1
check "idlocd exits 0 on SIGTERM (after the crash)" stop_pid "$DAEMON"
check "resolv.conf is restored after the crash too" same_as_original

# ---- 2. systemd-resolved on a private bus ----
cat >"$TEST_TMP/fake_resolved.py" <<'EOF'
# A stand-in for systemd-resolved: owns org.freedesktop.resolve1 and appends
# each call it gets to a file, one line each.
import socket
import sys

from gi.repository import Gio, GLib

address, calls, ready = sys.argv[1:4]
XML = """<node><interface name='org.freedesktop.resolve1.Manager'>
<method name='SetLinkDNS'><arg type='i'/><arg type='a(iay)'/></method>
<method name='SetLinkDomains'><arg type='i'/><arg type='a(sb)'/></method>
<method name='SetLinkDefaultRoute'><arg type='i'/><arg type='b'/></method>
<method name='SetLinkLLMNR'><arg type='i'/><arg type='s'/></method>
<method name='SetLinkMulticastDNS'><arg type='i'/><arg type='s'/></method>
<method name='SetLinkDNSSEC'><arg type='i'/><arg type='s'/></method>
<method name='SetLinkDNSOverTLS'><arg type='i'/><arg type='s'/></method>
<method name='RevertLink'><arg type='i'/></method>
</interface></node>"""


def on_call(conn, sender, path, iface, method, params, invocation):
    args = params.unpack()
    words = [method, str(args[0])]
    if method == "SetLinkDNS":
        for family, addr in args[1]:
            fam = socket.AF_INET if family == socket.AF_INET else socket.AF_INET6
            words.append("%d:%s" % (family, socket.inet_ntop(fam, bytes(addr))))
    elif method == "SetLinkDomains":
        words += [("~" if routing else "") + name for name, routing in args[1]]
    elif method == "SetLinkDefaultRoute":
        words.append("true" if args[1] else "false")
    elif method != "RevertLink":
        words.append(args[1])
    with open(calls, "a") as f:
        f.write(" ".join(words) + "\n")
    invocation.return_value(None)


def on_acquired(conn, name):
    with open(ready, "w") as f:
        f.write("ready\n")


flags = (Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
         | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION)
bus = Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
node = Gio.DBusNodeInfo.new_for_xml(XML)
bus.register_object("/org/freedesktop/resolve1", node.interfaces[0], on_call, None, None)
Gio.bus_own_name_on_connection(bus, "org.freedesktop.resolve1",
                               Gio.BusNameOwnerFlags.NONE, on_acquired, None)
GLib.MainLoop().run()
EOF

BUS=unix:path=$TEST_TMP/bus
ns_spawn a "$TEST_TMP/dbus.log" "$TEST_TMP/dbus.log" \
	dbus-daemon --session --nofork --address="$BUS" --print-address=1
wait_for_log "$TEST_TMP/dbus.log" "^$BUS" 10
export DBUS_SYSTEM_BUS_ADDRESS=$BUS

# fake NAME: starts the fake resolved, calls in $TEST_TMP/NAME.calls; sets FAKE.
fake()
{
	ns_spawn a "$TEST_TMP/$1.log" "$TEST_TMP/$1.log" \
		/usr/bin/python3 "$TEST_TMP/fake_resolved.py" "$BUS" "$TEST_TMP/$1.calls" \
		"$TEST_TMP/$1.ready"
	FAKE=$SPAWNED_PID
	wait_for_log "$TEST_TMP/$1.ready" ready 10
}

# applied CALLS IFINDEX: the file holds the whole configuration, in order.
applied()
{
	local want
	want=$(printf '%s\n' \
		"SetLinkDefaultRoute $2 false" \
		"SetLinkDomains $2 ~$DOMAIN" \
		"SetLinkDNS $2 2:$RESOLVER" \
		"SetLinkLLMNR $2 no" \
		"SetLinkMulticastDNS $2 no" \
		"SetLinkDNSSEC $2 no" \
		"SetLinkDNSOverTLS $2 no")
	[[ $(head -n 7 "$1") == "$want" ]]
}

fake fake1
start resolved
wait_for_log "$TEST_TMP/resolved.log" "DNS: systemd-resolved sends \*\.$DOMAIN to idlocd on $TUN" 20
IFINDEX=$(ip -n "$(ns a)" -o link show dev "$TUN" | cut -d: -f1)
check "auto found resolved and configured ifindex $IFINDEX" applied "$TEST_TMP/fake1.calls" "$IFINDEX"
check "resolv.conf untouched with resolved" same_as_original
check "no resolv.conf backup with resolved" test ! -e "$STATE/resolv.conf.backup"
# GLib's D-Bus threads start after the privilege drop: capset(2) changes only
# the calling thread, so a thread made earlier would keep root's capabilities.
check "every idlocd thread has the capabilities of the main thread" \
	test "$(cat /proc/"$DAEMON"/task/*/status | grep '^CapEff:' | sort -u | wc -l)" -eq 1
check "idloc status says resolved" \
	bash -c "'$IDLOC' -s '$TEST_TMP/a/control.sock' status --json | grep -q '\"configured\": *\"resolved\"'"

stop_pid "$FAKE" || true
wait_for_log "$TEST_TMP/resolved.log" "systemd-resolved left the bus" 10
fake fake2
wait_for_log "$TEST_TMP/fake2.calls" "SetLinkDNSOverTLS" 10
check "a restarted resolved is configured again" applied "$TEST_TMP/fake2.calls" "$IFINDEX"
check "idlocd exits 0 on SIGTERM (resolved)" stop_pid "$DAEMON"
check "RevertLink $IFINDEX at stop" bash -c "tail -n 1 '$TEST_TMP/fake2.calls' | grep -qx 'RevertLink $IFINDEX'"
check "the first resolved got no RevertLink" bash -c "! grep -q RevertLink '$TEST_TMP/fake1.calls'"
check "resolv.conf still untouched" same_as_original

# ---- 3. no usable GLib module ----
# idlocd loads ICE and the resolved client from idloc-glib.so on first use
# (docs/ice.md). A file of that name that is not the module (dlopen looks in
# LD_LIBRARY_PATH before idlocd's RUNPATH) is refused with a reason; the
# daemon carries on as without a system bus.
mkdir -p "$TEST_TMP/badmod"
cp "$(ldconfig -p | awk '/libmnl\.so\.0 .*x86-64/ {print $NF; exit}')" \
	"$TEST_TMP/badmod/idloc-glib.so"
ns_spawn a "$TEST_TMP/badmod.log" "$TEST_TMP/badmod.log" \
	env LD_LIBRARY_PATH="$TEST_TMP/badmod" "$IDLOCD" -c "$TEST_TMP/a.conf" -f --log-level info
DAEMON=$SPAWNED_PID
check "a foreign idloc-glib.so is refused with the reason" \
	wait_for_log "$TEST_TMP/badmod.log" "idloc-glib.so is not the module of idlocd" 20
check "idlocd still answers idloc status" \
	bash -c "'$IDLOC' -s '$TEST_TMP/a/control.sock' status --json | grep -q '\"configured\"'"
check "idlocd exits 0 on SIGTERM (no module)" stop_pid "$DAEMON"
check "resolv.conf as it was after the run without the module" same_as_original

finish
