#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_tray.sh: idloc-tray as a person sees it, under Xvfb with a session
# D-Bus and the accessibility bus, against real daemons: earth starts an
# overlay and mars joins it, each in its own network namespace; the tray
# watches mars's control socket.
#
# 1. In an X tray (trayer), where the indicator's icon lands when no
#    StatusNotifier host runs. Before mars runs, the menu says "Daemon not
#    running", the icon is red and the tray does not spin. Then
#    tests/tray/tray_ui.py clicks the icon and reads the menu through the
#    accessibility tree (AT-SPI): mars's name, fqdn, LSI and HIT, the peer
#    earth with its state and path; clicking the LSI or HIT copies it; "Open
#    in browser" on earth runs the desktop's default browser (a fake one)
#    with http://earth.../; Disconnect makes the daemon leave (status
#    joined=false, grey icon) and Connect join again; Quit ends the tray.
# 2. With a StatusNotifier host (tests/tray/sni_host.py, as KDE's panel or
#    GNOME's AppIndicator extension): a second tray registers with it; the
#    icon name and the exported menu (dbusmenu) say the same; the panel's
#    clicks on Disconnect and Connect reach the daemon; when mars stops, the
#    icon turns to idloc-down and the menu says "Daemon not running"; Quit.
#
# Needs root (namespaces), Xvfb, dbus-daemon, trayer, xdotool and
# Debian's python3 with GObject introspection for GTK and AT-SPI
# (scripts/setup installs them); exits 77 (skip) otherwise.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
source "$here/../integration/lib.sh"

IDLOCD=${IDLOCD:?set IDLOCD to the idlocd binary}
IDLOC=${IDLOC:?set IDLOC to the idloc binary}
IDLOC_TRAY=${IDLOC_TRAY:?set IDLOC_TRAY to the idloc-tray binary}
DOMAIN=tray.internal
PY=/usr/bin/python3
UI=$here/tray_ui.py
SNI=$here/sni_host.py

require_root
require_cmd ip Xvfb dbus-daemon trayer xdotool
if ! "$PY" -c 'import gi; gi.require_version("Atspi", "2.0"); gi.require_version("Gtk", "3.0")' 2>/dev/null; then
	echo "SKIP: $PY lacks GObject introspection for GTK 3 and AT-SPI (python3-gi, gir1.2-atspi-2.0)"
	exit 77
fi
if [[ ! -f /usr/share/dbus-1/services/org.a11y.Bus.service ]]; then
	echo "SKIP: no accessibility bus (at-spi2-core)"
	exit 77
fi
lib_init

# ---- the desktop: X server, session bus, tray, and the tray's environment ----
desk=$TEST_TMP/desktop
mkdir -p "$desk/run" "$desk/home" "$desk/share/icons/hicolor/scalable/status" \
	"$desk/home/.config" "$desk/home/.local/share/applications"
chmod 700 "$desk/run"
cp "$here"/../../src/tray/icons/*.svg "$desk/share/icons/hicolor/scalable/status/"
export HOME=$desk/home XDG_RUNTIME_DIR=$desk/run XDG_CONFIG_HOME=$desk/home/.config \
	XDG_DATA_HOME=$desk/home/.local/share XDG_CACHE_HOME=$desk/home/.cache \
	XDG_DATA_DIRS=$desk/share:/usr/share GSETTINGS_BACKEND=memory
unset XDG_CURRENT_DESKTOP DESKTOP_SESSION WAYLAND_DISPLAY NO_AT_BRIDGE

# The default browser: a script that notes the URL it was given.
cat >"$desk/browser" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >>"$desk/opened"
EOF
chmod +x "$desk/browser"
cat >"$XDG_DATA_HOME/applications/idloc-test-browser.desktop" <<EOF
[Desktop Entry]
Type=Application
Name=Test browser
Exec=$desk/browser %u
MimeType=x-scheme-handler/http;
EOF
printf '[Default Applications]\nx-scheme-handler/http=idloc-test-browser.desktop\n' \
	>"$XDG_CONFIG_HOME/mimeapps.list"

# -displayfd: Xvfb picks a free display and writes its number once it is ready.
Xvfb -displayfd 3 -screen 0 640x480x24 -nolisten tcp 3>"$desk/display" \
	>"$TEST_TMP/xvfb.log" 2>&1 &
register_pid $!
wait_for_log "$desk/display" '^[0-9]+$' 10
DISPLAY=:$(cat "$desk/display")
export DISPLAY

dbus-daemon --session --nofork --print-address=3 3>"$desk/bus" >"$TEST_TMP/dbus.log" 2>&1 &
bus_pid=$!
register_pid "$bus_pid"
# The bus starts the accessibility bus (at-spi-bus-launcher, which runs a
# bus and a registry of its own) when the tray asks for it: those are the
# test's too, and go before the bus. lib_cleanup sees the exit status.
desktop_stop()
{
	local p c
	for p in $(pgrep -P "$bus_pid" || true); do
		for c in $(pgrep -P "$p" || true); do
			kill "$c" 2>/dev/null || true
		done
		kill "$p" 2>/dev/null || true
	done
}
trap 'rc=$?; set +e; desktop_stop; (exit "$rc"); lib_cleanup' EXIT
wait_for_log "$desk/bus" '^unix:' 10
DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$desk/bus")
export DBUS_SESSION_BUS_ADDRESS

trayer --edge top --align left --widthtype pixel --width 120 --heighttype pixel --height 32 \
	>"$TEST_TMP/trayer.log" 2>&1 &
register_pid $!
tray_up()
{
	timeout 10 xdotool search --sync --class trayer >/dev/null
}
check "an X tray runs" tray_up

# ---- the daemons' configs; mars's control socket is the tray's ----
declare -A addr=([earth]=10.77.5.1 [mars]=10.77.5.2)
declare -A pid
conf()
{
	local n=$1 boot=$2
	mkdir -p "$TEST_TMP/$n"
	{
		printf '[overlay]\ndomain = %s\n' "$DOMAIN"
		[[ -n $boot ]] && printf 'bootstrap = %s\n' "$boot"
		printf '[peer]\nname = %s\nstate-dir = %s/%s/state\ncontrol = %s/%s/ctl.sock\n' \
			"$n" "$TEST_TMP" "$n" "$TEST_TMP" "$n"
		printf '[dns]\nupstream = none\nconfigure = none\n'
	} >"$TEST_TMP/$n/idloc.conf"
}
start()
{
	local n=$1 log=$TEST_TMP/$1/idlocd.log
	ns_spawn "$n" "$log" "$log" "$IDLOCD" -c "$TEST_TMP/$n/idloc.conf" \
		--log-level "${IDLOC_LOG_LEVEL:-info}"
	pid[$n]=$SPAWNED_PID
}
ctl()
{
	local n=$1
	shift
	"$IDLOC" -s "$TEST_TMP/$n/ctl.sock" "$@"
}
json_field()
{
	"$PY" -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}
joined_is()
{
	[[ $(ctl "$1" status --json 2>/dev/null | json_field overlay.joined 2>/dev/null) == "$2" ]]
}
# retry SECONDS COMMAND...: until the command succeeds.
retry()
{
	local t=$1 k
	shift
	for ((k = 0; k < t * 5; k++)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}
sni()
{
	timeout 30 "$PY" "$SNI" "$1" "$desk/sni-items" "${@:2}"
}
sni_icon_is()
{
	local out
	out=$(sni icon) && [[ ${out%%$'\n'*} == "$1" ]]
}
# exited_ok PID: the process ends within 5 s, with status 0.
exited_ok()
{
	local k rc=0
	for ((k = 0; k < 50; k++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "still running" >&2
		return 1
	fi
	wait "$1" || rc=$?
	[[ $rc -eq 0 ]] || echo "exit status $rc" >&2
	[[ $rc -eq 0 ]]
}
# start_tray NAME: idloc-tray for mars's socket, logging to NAME.log; sets tray_pid.
start_tray()
{
	# GTK keeps memory to the end on purpose: no leak report from ASan builds.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		"$IDLOC_TRAY" -s "$TEST_TMP/mars/ctl.sock" >"$TEST_TMP/tray-$1.log" 2>&1 &
	tray_pid=$!
	register_pid "$tray_pid"
}
ui()
{
	timeout 60 "$PY" "$UI" "$@"
}
menu_has()
{
	local items
	items=$(ui items) && grep -Eq -- "$1" <<<"$items"
}
# has_line LINE: $items (the last menu read) has exactly that line.
has_line()
{
	grep -Fxq -- "$1" <<<"$items"
}
# items_lack REGEX: no line of $items matches.
items_lack()
{
	! grep -Eq -- "$1" <<<"$items"
}
icon_is()
{
	[[ $(ui icon) == "$1" ]]
}
# Clock ticks of CPU the process has used (utime + stime).
cpu_ticks()
{
	awk '{print $14 + $15}' "/proc/$1/stat"
}

ns_create earth
ns_create mars
veth_link earth mars "${addr[earth]}/24" "${addr[mars]}/24"
conf earth ""
conf mars "${addr[earth]}:10500"

# ---- the tray in an X tray, before any daemon ----
start_tray xembed

check "the menu says the daemon is not running" retry 15 menu_has '^Daemon not running \[off\]$'
check "and why: no socket" menu_has "cannot connect to '$TEST_TMP/mars/ctl.sock'"
check "Connect is greyed out while the daemon is down" menu_has '^Connect \[off\]$'
check "the icon is the red 'down' one" icon_is red
t0=$(cpu_ticks "$tray_pid")
sleep 4
t1=$(cpu_ticks "$tray_pid")
check "the tray does not spin while the daemon is down ($((t1 - t0)) ticks in 4 s)" \
	test $((t1 - t0)) -lt 50
check "the tray is still running" kill -0 "$tray_pid"

# ---- two daemons: earth starts the overlay, mars joins through it ----
start earth
wait_for_udp_port earth 10500 10
start mars
check "mars joins the overlay" retry 30 joined_is mars True
mars_lsi=$(ctl mars status --json | json_field lsi)
mars_hit=$(ctl mars status --json | json_field hit)
# A ping puts earth's name in mars's table, so peers shows it by name.
check "mars pings earth" ctl mars ping earth -c 1 -W 10

check "the menu says connected" retry 15 menu_has "^Connected to $DOMAIN \\[off\\]$"
# The ping gave earth its name: the menu has it from the next poll on.
check "the menu lists earth with its state and path" \
	retry 10 menu_has "^earth\\.$DOMAIN: ESTABLISHED, host"
items=$(ui items) || true
printf '%s\n' "$items" >"$TEST_TMP/menu-joined.log"
check "the menu shows mars's name and fqdn" has_line "This device: mars (mars.$DOMAIN)"
check "the menu shows mars's LSI $mars_lsi" has_line "LSI: $mars_lsi"
check "the menu shows mars's HIT $mars_hit" has_line "HIT: $mars_hit"
check "earth's submenu has Open in browser" has_line "  Open in browser"
check "Disconnect is offered" has_line "Disconnect"
check "the icon is the green 'joined' one" icon_is green

check "clicking the LSI copies it" ui click '^LSI: '
check "the clipboard holds $mars_lsi" test "$(ui clipboard)" = "$mars_lsi"
check "clicking the HIT copies it" ui click '^HIT: '
check "the clipboard holds $mars_hit" test "$(ui clipboard)" = "$mars_hit"

check "Open in browser on earth" ui click "^earth\\.$DOMAIN:" '^Open in browser$'
check "the default browser got http://earth.$DOMAIN/" \
	retry 10 grep -Fxq "http://earth.$DOMAIN/" "$desk/opened"

check "clicking Disconnect" ui click '^Disconnect$'
check "the daemon left: status joined=false" retry 10 joined_is mars False
check "the menu says disconnected" retry 10 menu_has "^Disconnected from $DOMAIN \\[off\\]$"
check "Connect is offered" menu_has '^Connect$'
check "the icon is the grey 'disconnected' one" icon_is grey

check "clicking Connect" ui click '^Connect$'
check "the daemon joined again: status joined=true" retry 30 joined_is mars True
check "the menu says connected again" retry 10 menu_has "^Connected to $DOMAIN \\[off\\]$"

check "clicking Quit" ui click '^Quit$'
check "the tray exited with status 0" exited_ok "$tray_pid"

# ---- the same through a StatusNotifier host, as on KDE or GNOME ----
# With a watcher on the bus the indicator registers with it and exports its
# menu over D-Bus (dbusmenu) instead of sitting in the X tray: what the
# panel reads and clicks is checked here.
watcher_log=$TEST_TMP/sni-watcher.log
"$PY" "$SNI" watch "$desk/sni-items" >"$watcher_log" 2>&1 &
register_pid $!
check "the watcher owns its name" wait_for_log "$watcher_log" '^ready$' 10
start_tray sni
check "the tray registers with the watcher" retry 20 test -s "$desk/sni-items"
check "the panel's icon is idloc-joined" retry 10 sni_icon_is idloc-joined
items=$(sni items) || true
printf '%s\n' "$items" >"$TEST_TMP/sni-menu-joined.log"
check "the exported menu says connected" has_line "Connected to $DOMAIN [off]"
check "the exported menu shows mars's name and fqdn" has_line "This device: mars (mars.$DOMAIN)"
check "the exported menu shows mars's LSI" has_line "LSI: $mars_lsi"
check "the exported menu shows mars's HIT" has_line "HIT: $mars_hit"
check "the exported menu lists earth with its state and path" \
	grep -Eq "^earth\\.$DOMAIN: ESTABLISHED, host" <<<"$items"
check "earth's exported submenu has Open in browser" has_line "  Open in browser"

check "the panel clicks Disconnect" sni click '^Disconnect$'
check "the daemon left: status joined=false" retry 10 joined_is mars False
check "the panel's icon is idloc-disconnected" retry 10 sni_icon_is idloc-disconnected
check "the panel clicks Connect" sni click '^Connect$'
check "the daemon joined again" retry 30 joined_is mars True
check "the panel's icon is idloc-joined again" retry 10 sni_icon_is idloc-joined

# ---- the daemon goes away under the tray ----
stop_pid "${pid[mars]}" 10 || true
check "after mars stops, the panel's icon is idloc-down" retry 10 sni_icon_is idloc-down
items=$(sni items) || true
check "the exported menu says the daemon is not running" has_line "Daemon not running [off]"
check "mars's addresses are gone from the menu" items_lack '^(LSI|HIT): '
check "Connect is greyed out" has_line "Connect [off]"
check "the panel clicks Quit" sni click '^Quit$'
check "the tray exited with status 0" exited_ok "$tray_pid"

finish
