#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# sni_host.py: a minimal StatusNotifier host for test_tray.sh, seen from the
# indicator's side as KDE's panel or GNOME's AppIndicator extension: it owns
# org.kde.StatusNotifierWatcher on the session bus, takes the items that
# register, and reads an item's icon and its menu (com.canonical.dbusmenu)
# the way a panel does before drawing them.
#
#   sni_host.py watch FILE          be the watcher ("ready" on stdout once it
#                                   is); note "BUS PATH" of each item that
#                                   registers in FILE
#   sni_host.py icon FILE           the item's IconName and IconAccessibleDesc
#   sni_host.py items FILE          its visible menu items, one per line
#                                   ("  " per submenu level; "[off]" when greyed)
#   sni_host.py click FILE REGEX [REGEX]
#                                   sends "clicked" for an item (or an item
#                                   of its submenu), as a panel does
import re
import sys
import time

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

WATCHER_XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem"><arg type="s" direction="in"/></method>
    <method name="RegisterStatusNotifierHost"><arg type="s" direction="in"/></method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
  </interface>
</node>
"""
ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"


class Failure(Exception):
    pass


def watch(path):
    items = []
    node = Gio.DBusNodeInfo.new_for_xml(WATCHER_XML)

    def on_call(conn, sender, obj, iface, method, params, invocation):
        if method == "RegisterStatusNotifierItem":
            arg = params.unpack()[0]
            # Ayatana passes its object path; others pass a bus name.
            bus, objpath = (sender, arg) if arg.startswith("/") else (arg, "/StatusNotifierItem")
            items.append(f"{bus}{objpath}")
            with open(path, "a") as f:
                f.write(f"{bus} {objpath}\n")
            conn.emit_signal(None, "/StatusNotifierWatcher", iface,
                             "StatusNotifierItemRegistered",
                             GLib.Variant("(s)", (f"{bus}{objpath}",)))
        invocation.return_value(None)

    def on_get(conn, sender, obj, iface, prop):
        return {"RegisteredStatusNotifierItems": GLib.Variant("as", items),
                "IsStatusNotifierHostRegistered": GLib.Variant("b", True),
                "ProtocolVersion": GLib.Variant("i", 0)}[prop]

    def on_bus(conn, name):
        conn.register_object("/StatusNotifierWatcher", node.interfaces[0], on_call, on_get, None)

    def on_name(conn, name):
        print("ready", flush=True)

    loop = GLib.MainLoop()
    Gio.bus_own_name(Gio.BusType.SESSION, "org.kde.StatusNotifierWatcher",
                     Gio.BusNameOwnerFlags.NONE, on_bus, on_name, lambda c, n: loop.quit())
    loop.run()
    return 1  # lost the name


def item_of(path):
    try:
        with open(path) as f:
            lines = f.read().split()
    except FileNotFoundError:
        lines = []
    if len(lines) < 2:
        raise Failure("no item registered")
    return lines[-2], lines[-1]


def bus():
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def prop(conn, name, path, iface, key):
    v = conn.call_sync(name, path, "org.freedesktop.DBus.Properties", "Get",
                       GLib.Variant("(ss)", (iface, key)), None, Gio.DBusCallFlags.NONE,
                       5000, None)
    return v.unpack()[0]


def layout(conn, name, path):
    menu = prop(conn, name, path, ITEM, "Menu")
    v = conn.call_sync(name, menu, MENU, "GetLayout",
                       GLib.Variant("(iias)", (0, -1, [])), None, Gio.DBusCallFlags.NONE,
                       5000, None)
    return menu, v.unpack()[1]


def walk(node, depth=0):
    """(depth, id, properties) for the visible items under node."""
    for child in node[2]:
        cid, props, _ = child
        if props.get("type") == "separator" or not props.get("visible", True):
            continue
        yield depth, cid, props
        yield from walk(child, depth + 1)


def cmd_icon(path):
    name, obj = item_of(path)
    conn = bus()
    print(prop(conn, name, obj, ITEM, "IconName"))
    print(prop(conn, name, obj, ITEM, "IconAccessibleDesc"))


def cmd_items(path):
    name, obj = item_of(path)
    _, root = layout(bus(), name, obj)
    for depth, _, props in walk(root):
        off = "" if props.get("enabled", True) else " [off]"
        print("  " * depth + props.get("label", "") + off)


def find(node, pattern):
    rx = re.compile(pattern)
    for child in node[2]:
        props = child[1]
        if props.get("visible", True) and rx.search(props.get("label", "")):
            return child
    return None


def cmd_click(path, pattern, sub=None):
    name, obj = item_of(path)
    conn = bus()
    menu, root = layout(conn, name, obj)
    item = find(root, pattern)
    if item is not None and sub is not None:
        item = find(item, sub)
    if item is None:
        raise Failure(f"no item /{pattern}/" + (f" > /{sub}/" if sub else ""))
    if not item[1].get("enabled", True):
        raise Failure(f"'{item[1].get('label')}' is greyed out")
    conn.call_sync(name, menu, MENU, "Event",
                   GLib.Variant("(isvu)", (item[0], "clicked", GLib.Variant("i", 0),
                                           int(time.time()) & 0xffffffff)),
                   None, Gio.DBusCallFlags.NONE, 5000, None)
    print(item[1].get("label", ""))


def main(argv):
    cmds = {"watch": watch, "icon": cmd_icon, "items": cmd_items, "click": cmd_click}
    if len(argv) < 3 or argv[1] not in cmds:
        print("usage: sni_host.py watch|icon|items|click FILE ...", file=sys.stderr)
        return 2
    try:
        return cmds[argv[1]](*argv[2:]) or 0
    except (Failure, GLib.Error) as e:
        print(f"sni_host: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
