#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# tray_ui.py: drives idloc-tray as a person would, for test_tray.sh: clicks
# its icon in the X tray (trayer, under Xvfb), reads the menu that pops up
# through the accessibility tree (AT-SPI), activates items, reads the
# clipboard, and looks at the colour of the icon on the screen.
#
#   tray_ui.py items                 the visible menu items, one per line
#                                    ("  " per submenu level; "[off]" when greyed)
#   tray_ui.py click REGEX [REGEX]   activates an item (or an item of its submenu)
#   tray_ui.py clipboard             the clipboard's text
#   tray_ui.py icon                  the icon's colour: red, green, amber or grey
#
# Needs DISPLAY and DBUS_SESSION_BUS_ADDRESS of the tray's session. Exits 1
# with a reason on stderr when something is not there in time.
import os
import re
import subprocess
import sys
import time

# Our own Gtk (for the clipboard) stays out of the accessibility tree.
os.environ["NO_AT_BRIDGE"] = "1"

import gi  # noqa: E402

gi.require_version("Atspi", "2.0")
gi.require_version("Gdk", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Atspi, Gdk, Gtk  # noqa: E402

APP = "idloc-tray"


class Failure(Exception):
    pass


def until(what, fn, seconds):
    end = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            raise Failure(f"timeout ({seconds}s) waiting for {what}")
        time.sleep(0.1)


def find_app():
    desktop = Atspi.get_desktop(0)
    for i in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(i)
        # Every command is a new process, so libatspi's cache starts empty.
        # (Turning the cache off deadlocks libatspi 2.46: its own event
        # handlers then make D-Bus calls while dispatching.)
        if app is not None and app.get_name() == APP:
            return app
    return None


def has(acc, state):
    return acc.get_state_set().contains(state)


def open_menu_of(app):
    """The menu of the popped-up window, or None."""
    for i in range(app.get_child_count()):
        win = app.get_child_at_index(i)
        if win is None or not has(win, Atspi.StateType.SHOWING):
            continue
        for j in range(win.get_child_count()):
            child = win.get_child_at_index(j)
            if child is not None and child.get_role() == Atspi.Role.MENU:
                return child
    return None


def icon_window():
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--class", APP],
                         capture_output=True, text=True).stdout.split()
    return out[0] if out else None


def click_icon():
    win = until("the tray icon", icon_window, 10)
    subprocess.run(["xdotool", "mousemove", "--window", win, "8", "8", "click", "1"],
                   check=True)


def open_menu():
    app = until(f"'{APP}' in the accessibility tree", find_app, 10)
    menu = open_menu_of(app)
    if menu is not None:
        return app, menu
    for _ in range(3):
        click_icon()
        try:
            return app, until("the menu", lambda: open_menu_of(app), 3)
        except Failure:
            continue
    raise Failure("the menu did not pop up")


def close_menu(app):
    if open_menu_of(app) is not None:
        subprocess.run(["xdotool", "key", "Escape"], check=True)
        until("the menu to close", lambda: open_menu_of(app) is None, 5)


def walk(acc, depth=0):
    """(depth, item) for the visible items, submenus included."""
    for i in range(acc.get_child_count()):
        item = acc.get_child_at_index(i)
        if item is None or item.get_role() == Atspi.Role.SEPARATOR:
            continue
        if not has(item, Atspi.StateType.VISIBLE):
            continue
        yield depth, item
        if item.get_child_count() > 0:
            yield from walk(item, depth + 1)


def lines(menu):
    out = []
    for depth, item in walk(menu):
        off = "" if has(item, Atspi.StateType.ENABLED) else " [off]"
        out.append("  " * depth + item.get_name() + off)
    return out


def cmd_items():
    app, menu = open_menu()
    text = lines(menu)
    close_menu(app)
    print("\n".join(text))


def find_item(menu, pattern, depth=None):
    rx = re.compile(pattern)
    for d, item in walk(menu):
        if (depth is None or d == depth) and rx.search(item.get_name()):
            return item
    return None


def cmd_click(pattern, sub=None):
    app, menu = open_menu()
    item = find_item(menu, pattern, 0)
    if item is not None and sub is not None:
        item = find_item(item, sub, 0)
    if item is None:
        close_menu(app)
        raise Failure(f"no item /{pattern}/" + (f" > /{sub}/" if sub else ""))
    if not has(item, Atspi.StateType.ENABLED):
        close_menu(app)
        raise Failure(f"'{item.get_name()}' is greyed out")
    name = item.get_name()
    item.do_action(0)
    # Activating an item closes the menu; make sure, for the next command.
    until("the menu to close after the click", lambda: open_menu_of(app) is None, 5)
    print(name)


def cmd_clipboard():
    Gtk.init([])
    text = Gtk.Clipboard.get(Gdk.SELECTION_CLIPBOARD).wait_for_text()
    if text is None:
        raise Failure("the clipboard is empty")
    print(text)


# The icons' fills (src/tray/icons/*.svg).
COLOURS = {"green": (0x26, 0xa2, 0x69), "amber": (0xe5, 0xa5, 0x0a),
           "grey": (0x77, 0x76, 0x7b), "red": (0xc0, 0x1c, 0x28)}


def cmd_icon():
    win = until("the tray icon", icon_window, 10)
    geo = subprocess.run(["xdotool", "getwindowgeometry", "--shell", win],
                         capture_output=True, text=True, check=True).stdout
    g = dict(line.split("=", 1) for line in geo.split())
    x, y, w, h = (int(g[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
    shot = Gdk.pixbuf_get_from_window(Gdk.get_default_root_window(), x, y, w, h)
    if shot is None:
        raise Failure("cannot read the screen")
    if os.environ.get("TRAY_UI_SHOT"):
        shot.savev(os.environ["TRAY_UI_SHOT"], "png", [], [])
    px, n, stride = shot.get_pixels(), shot.get_n_channels(), shot.get_rowstride()
    votes = dict.fromkeys(COLOURS, 0)
    for row in range(h):
        for col in range(w):
            p = px[row * stride + col * n: row * stride + col * n + 3]
            for name, ref in COLOURS.items():
                if all(abs(a - b) <= 24 for a, b in zip(p, ref)):
                    votes[name] += 1
    best = max(votes, key=votes.get)
    # A 16-pixel shield scaled into the tray covers well over 20 pixels.
    if votes[best] < 20:
        raise Failure(f"no icon colour on the screen at {x},{y} {w}x{h}: {votes}")
    print(best)


def main(argv):
    Atspi.init()
    cmds = {"items": cmd_items, "click": cmd_click,
            "clipboard": cmd_clipboard, "icon": cmd_icon}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__ or "usage: tray_ui.py items|click|clipboard|icon", file=sys.stderr)
        return 2
    try:
        cmds[argv[1]](*argv[2:])
    except Failure as e:
        print(f"tray_ui: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
