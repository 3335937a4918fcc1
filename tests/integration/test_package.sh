#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_package.sh: builds the Debian packages (scripts/package), installs them
# into a throwaway copy of this system, runs the installed idlocd, idloc and
# idloc-tray, runs the daemon the way its systemd unit does (user idloc,
# CAP_NET_ADMIN only), purges the packages and checks that nothing is left.
#
# The throwaway system: an overlayfs whose lower layer is this machine's root
# file system and whose upper layer, where every write lands, is a tmpfs that
# disappears at the end; mounted in a private mount namespace (unshare -m,
# propagation private) and entered with chroot, with a fresh /proc and an
# empty /run (so the maintainer scripts see no running systemd and talk to
# nothing of the host's). dpkg, its maintainer scripts (systemd-sysusers,
# deb-systemd-helper, triggers) and the daemon thus run against a complete
# Debian system, a copy-on-write view of this one, while the host's files,
# dpkg database, users and mounts are never touched: the host does not even
# see the mounts. A debootstrap chroot would need a Debian mirror (network)
# and minutes; a container needs a container runtime; `dpkg --root` runs no
# maintainer scripts in a realistic environment. The overlay takes a second.
#
# The daemon runs in a network namespace of its own (unshare -n), so it sends
# nothing anywhere: no bootstrap, [dns] upstream = none, configure = none.
#
# Needs root, unshare, overlayfs and, unless IDLOC_DEB names prebuilt
# packages (an idloc_*.deb, or a directory holding it and maybe
# idloc-tray_*.deb), dpkg-buildpackage, debhelper and the Build-Depends;
# otherwise it exits 77 (skip). Never installs anything on the host.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

ROOT_DIR=$(cd "$(dirname "$0")/../.." && pwd)

# deps_installed DEB: whether every Depends group of DEB has an alternative
# installed on this system (the overlay sees the same packages). Prints the
# groups that have none.
deps_installed()
{
	local deb=$1 group alt name ok missing=()
	local -a groups
	IFS=',' read -ra groups <<<"$(dpkg-deb -f "$deb" Depends)"
	for group in "${groups[@]}"; do
		ok=0
		IFS='|' read -ra alts <<<"$group"
		for alt in "${alts[@]}"; do
			name=$(awk '{print $1}' <<<"$alt")
			name=${name%%:*}
			if [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$name" 2>/dev/null || true) == ii* ]]; then
				ok=1
				break
			fi
		done
		if [[ $ok -eq 0 ]]; then
			missing+=("$(xargs <<<"$group")")
		fi
	done
	if [[ ${#missing[@]} -gt 0 ]]; then
		printf '%s\n' "${missing[@]}"
		return 1
	fi
}

# ---- inside the private mount namespace ----

# in_root COMMAND...: runs a command in the throwaway system.
in_root()
{
	chroot "$NEWROOT" "$@"
}

# as_user USER COMMAND...: runs a command in the throwaway system as USER with
# its groups and no capabilities.
as_user()
{
	local user=$1
	shift
	chroot "$NEWROOT" setpriv --reuid="$user" --regid="$user" --init-groups \
		--inh-caps=-all --bounding-set=-all "$@"
}

mount_overlay()
{
	local rw=$TEST_TMP/rw
	LOWER=$TEST_TMP/lower
	UPPER=$rw/upper
	NEWROOT=$TEST_TMP/root
	mkdir -p "$LOWER" "$rw" "$NEWROOT"
	# The lower layer is the root file system alone (no submounts): what a
	# fresh boot would see. The upper one is a tmpfs: it must not lie inside
	# the lower one's file system. Some containers allow namespaces but not
	# these mounts: skip there.
	if ! mount --bind / "$LOWER" ||
		! mount -t tmpfs -o size=1g,mode=0755 idloc-pkg "$rw" ||
		! mkdir "$UPPER" "$rw/work" ||
		! mount -t overlay idloc-pkg -o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$rw/work" "$NEWROOT"; then
		echo "SKIP: cannot mount an overlay of / here"
		exit 77
	fi
	mount --rbind /dev "$NEWROOT/dev"
	mount -t proc proc "$NEWROOT/proc"
	mount -t tmpfs -o mode=0755 run "$NEWROOT/run"
	# The kernel makes /dev/net/tun mode 0666 and Debian keeps it so; some
	# containers make it 0600. A node of the same device with the usual mode,
	# in our namespace only, lets the daemon run as its user as on a real host.
	if [[ -c /dev/net/tun ]]; then
		mknod -m 0666 "$TEST_TMP/tun" c 10 200
		mount --bind "$TEST_TMP/tun" "$NEWROOT/dev/net/tun"
	fi
}

# Every path of the upper layer but whiteouts (what exists after purge and
# did not before, or was changed), relative to /.
upper_entries()
{
	(cd "$UPPER" && find . -mindepth 1 ! -type c -printf '%P\n' | sort)
}

install_checks()
{
	local version=$1 out
	out=$(in_root /usr/sbin/idlocd --version 2>&1) || true
	check "installed /usr/sbin/idlocd --version prints 'idlocd $version' ($out)" \
		test "$out" = "idlocd $version"
	check "installed /usr/bin/idloc --help succeeds" \
		sh -c "chroot '$NEWROOT' /usr/bin/idloc --help >'$TEST_TMP/help.log' 2>&1"
	check "idloc --help shows the usage" grep -qi 'usage' "$TEST_TMP/help.log"
	check "the man pages are installed" in_root test -f /usr/share/man/man8/idlocd.8.gz \
		-a -f /usr/share/man/man8/idloc.8.gz -a -f /usr/share/man/man5/idloc.conf.5.gz
	check "user idloc exists, without a login shell" \
		sh -c "chroot '$NEWROOT' getent passwd idloc | grep -q ':/usr/sbin/nologin\$'"
	check "group idloc exists" in_root getent group idloc
	check "/etc/idloc/idloc.conf is a conffile" \
		sh -c "chroot '$NEWROOT' dpkg-query -W -f='\${Conffiles}' idloc | grep -q '/etc/idloc/idloc.conf'"
	check "the unit is installed" in_root test -f /lib/systemd/system/idlocd.service
	check "the unit is not enabled by the install (it needs a domain first)" \
		in_root test ! -e /etc/systemd/system/multi-user.target.wants/idlocd.service
	if in_root sh -c 'command -v systemd-analyze' >/dev/null; then
		check "systemd-analyze verify accepts the unit" \
			sh -c "chroot '$NEWROOT' systemd-analyze verify /lib/systemd/system/idlocd.service >'$TEST_TMP/verify.log' 2>&1"
	fi
	check "the polkit rule and the sysusers entry are installed" \
		in_root test -f /usr/share/polkit-1/rules.d/idloc.rules -a -f /usr/lib/sysusers.d/idloc.conf
	out=$(in_root /usr/sbin/idlocd -c /etc/idloc/idloc.conf 2>&1) && rc=0 || rc=$?
	check "the default config parses and asks for the domain ($out)" \
		test "$rc" -eq 1 -a "$out" = "/etc/idloc/idloc.conf: [overlay] domain is required"
}

# Applies the unit's SystemCallFilter=, SystemCallErrorNumber= and
# RestrictAddressFamilies= with libseccomp, as systemd would (groups expanded
# by systemd-analyze; other address families get the error number too), then
# execs the command: python3 FILTER UNIT COMMAND...
write_unit_filter()
{
	cat >"$1" <<'EOF'
import errno, os, socket, subprocess, sys
import seccomp

def expand(name):
    if not name.startswith("@"):
        return {name}
    out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                         capture_output=True, text=True, check=True).stdout
    calls = set()
    for line in out.splitlines()[1:]:
        line = line.strip()
        if line and not line.startswith("#"):
            calls |= expand(line)
    return calls

allow, families, err = None, None, errno.EPERM
for line in open(sys.argv[1]):
    key, _, value = line.strip().partition("=")
    if key == "SystemCallFilter":
        deny = value.startswith("~")
        calls = set().union(*(expand(w) for w in value.lstrip("~").split()))
        if allow is None:
            if deny:
                sys.exit("unit filter: a deny list first is not emulated")
            allow = calls
        else:
            allow = allow - calls if deny else allow | calls
    elif key == "SystemCallErrorNumber":
        err = getattr(errno, value)
    elif key == "RestrictAddressFamilies":
        families = [getattr(socket, f) for f in value.split()]
f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(err))
for call in sorted((allow or set()) - {"socket"}):
    try:
        f.add_rule(seccomp.ALLOW, call)
    except (RuntimeError, ValueError):
        pass  # not a system call on this architecture
if allow is None or "socket" in allow:
    for fam in families or []:
        f.add_rule(seccomp.ALLOW, "socket", seccomp.Arg(0, seccomp.EQ, fam))
    if families is None:
        f.add_rule(seccomp.ALLOW, "socket")
f.load()
os.execv(sys.argv[2], sys.argv[2:])
EOF
}

# The daemon as systemd runs it: StateDirectory= and RuntimeDirectory= made by
# hand, user idloc, CAP_NET_ADMIN as the only (ambient) capability, no new
# privileges, the unit's system call filter when python3-seccomp is there;
# in a network namespace of its own.
daemon_checks()
{
	local sock=/run/idloc/idloc.sock pid i caps out rc filter=()
	in_root install -d -o idloc -g idloc -m 0700 /var/lib/idloc
	in_root install -d -o idloc -g idloc -m 0750 /run/idloc
	if in_root /usr/bin/python3 -c 'import seccomp' 2>/dev/null; then
		write_unit_filter "$NEWROOT/tmp/idloc-unit-filter.py"
		filter=(/usr/bin/python3 /tmp/idloc-unit-filter.py /lib/systemd/system/idlocd.service)
		echo "idlocd runs under the unit's system call filter"
	else
		echo "python3-seccomp is not installed: idlocd runs without the unit's system call filter"
	fi
	chroot "$NEWROOT" unshare -n setpriv --no-new-privs \
		--reuid=idloc --regid=idloc --init-groups \
		--inh-caps=-all,+net_admin --ambient-caps=-all,+net_admin \
		--bounding-set=-all,+net_admin \
		"${filter[@]}" /usr/sbin/idlocd -c /etc/idloc/idloc.conf \
		--set overlay.domain=pkgtest.internal --set peer.name=pkgtest \
		--set dns.upstream=none --set dns.configure=none \
		>"$TEST_TMP/idlocd.log" 2>&1 &
	pid=$!
	DAEMON_PID=$pid
	for ((i = 0; i < 100; i++)); do
		[[ -S $NEWROOT$sock ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	check "idlocd runs as user idloc, as the unit starts it" test -S "$NEWROOT$sock"
	if [[ ! -S $NEWROOT$sock ]]; then
		return
	fi
	caps=$(awk '/^CapEff/ {print $2}' "/proc/$pid/status")
	check "its effective capabilities are CAP_NET_ADMIN alone ($caps)" test "$caps" = 0000000000001000
	check "its uid is idloc's" \
		test "$(awk '/^Uid/ {print $2}' "/proc/$pid/status")" = "$(in_root id -u idloc)"
	check "the control socket is 0660 idloc:idloc" \
		test "$(in_root stat -c '%a %U %G' "$sock")" = "660 idloc idloc"
	check "the host key is 0600 and owned by idloc" \
		test "$(in_root stat -c '%a %U' /var/lib/idloc/host.key)" = "600 idloc"
	out=$(in_root /usr/bin/idloc status --json 2>&1) || true
	check "idloc status (root) reaches the packaged daemon" \
		python3 -c 'import json, sys; s = json.loads(sys.argv[1]); assert s["overlay"]["domain"] == "pkgtest.internal"' "$out"

	# A desktop user in group idloc may query; one outside it may not.
	in_root useradd --system --no-create-home --shell /usr/sbin/nologin -G idloc idloc-member
	in_root useradd --system --no-create-home --shell /usr/sbin/nologin idloc-outsider
	check "a member of group idloc can run idloc status" \
		sh -c "chroot '$NEWROOT' setpriv --reuid=idloc-member --regid=idloc-member --init-groups \
			--inh-caps=-all --bounding-set=-all /usr/bin/idloc status >/dev/null"
	out=$(as_user idloc-member /usr/bin/idloc leave 2>&1) && rc=0 || rc=$?
	check "but not idloc leave, which needs root or the daemon's user (rc $rc: $out)" test "$rc" -eq 1
	out=$(as_user idloc-outsider /usr/bin/idloc status 2>&1) && rc=0 || rc=$?
	check "a user outside group idloc cannot use the socket (rc $rc: $out)" test "$rc" -eq 1
	in_root userdel idloc-member
	in_root userdel idloc-outsider

	rc=0
	stop_pid "$pid" 10 || rc=$?
	DAEMON_PID=""
	check "idlocd stops cleanly on SIGTERM (status $rc)" test "$rc" -eq 0
	check "and logs 'stopped'" grep -q 'stopped' "$TEST_TMP/idlocd.log"
}

purge_checks()
{
	local p leftovers=() allowed
	check "dpkg --purge succeeds" \
		sh -c "chroot '$NEWROOT' dpkg --purge ${PKGS[*]} >'$TEST_TMP/purge.log' 2>&1"
	check "idloc is no longer known to dpkg" \
		sh -c "! chroot '$NEWROOT' dpkg-query -W -f='\${db:Status-Abbrev}' idloc 2>/dev/null | grep -q '^[a-z]i'"
	for p in /etc/idloc /var/lib/idloc /run/idloc /usr/sbin/idlocd /usr/bin/idloc \
		/lib/systemd/system/idlocd.service /usr/lib/sysusers.d/idloc.conf \
		/usr/share/polkit-1/rules.d/idloc.rules /usr/lib/systemd/network/50-idloc.network \
		/usr/bin/idloc-tray; do
		[[ -e $NEWROOT$p || -L $NEWROOT$p ]] && leftovers+=("$p")
	done
	# Anything new since before the install, or changed, must be bookkeeping
	# of dpkg, man-db and the icon cache, or the user idloc (Debian keeps
	# system users on purge).
	allowed='^(var/lib/dpkg(/|$)|var/log(/|$)|var/cache/debconf(/|$)|var/cache/man(/|$)'
	allowed+='|etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$|etc/\.pwd\.lock$'
	allowed+='|usr/share/icons/hicolor/icon-theme\.cache$|run(/|$)|tmp(/|$))'
	while IFS= read -r p; do
		# A directory that exists below was only copied up.
		if [[ -d $UPPER/$p && ! -L $UPPER/$p && -d $LOWER/$p ]]; then
			continue
		fi
		[[ $p =~ $allowed ]] && continue
		leftovers+=("/$p")
	done < <(comm -13 "$TEST_TMP/before.list" <(upper_entries))
	if [[ ${#leftovers[@]} -gt 0 ]]; then
		mapfile -t leftovers < <(printf '%s\n' "${leftovers[@]}" | sort -u)
		printf 'left after purge: %s\n' "${leftovers[@]}"
	fi
	check "purge leaves nothing behind (${#leftovers[@]} leftovers)" test "${#leftovers[@]}" -eq 0
	check "the user idloc stays, as Debian does for system users" in_root getent passwd idloc
}

inside()
{
	local deb version d
	# Debian's PATH for root, not the caller's (dpkg needs the sbin directories).
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	DAEMON_PID=""
	trap '[[ -n $DAEMON_PID ]] && kill -KILL "$DAEMON_PID" 2>/dev/null; exit 130' INT TERM
	trap '[[ -n $DAEMON_PID ]] && kill -KILL "$DAEMON_PID" 2>/dev/null' EXIT
	mount_overlay
	upper_entries >"$TEST_TMP/before.list"

	read -ra debs <<<"$IDLOC_PKG_DEBS"
	mkdir -p "$NEWROOT/tmp/idloc-debs"
	cp "${debs[@]}" "$NEWROOT/tmp/idloc-debs/"
	PKGS=()
	for d in "${debs[@]}"; do
		PKGS+=("$(dpkg-deb -f "$d" Package)")
	done
	deb=${debs[0]}
	version=$(dpkg-deb -f "$deb" Version)
	version=${version%%-*}

	check "dpkg -i ${PKGS[*]} succeeds" \
		sh -c "chroot '$NEWROOT' sh -c 'dpkg -i /tmp/idloc-debs/*.deb' >'$TEST_TMP/install.log' 2>&1"
	if ! in_root dpkg-query -W idloc >/dev/null 2>&1; then
		finish
		return
	fi
	install_checks "$version"
	if [[ " ${PKGS[*]} " == *" idloc-tray "* ]]; then
		check "installed /usr/bin/idloc-tray --version prints 'idloc-tray $version'" \
			test "$(in_root /usr/bin/idloc-tray --version 2>&1)" = "idloc-tray $version"
		check "installed /usr/bin/idloc-tray --help succeeds" \
			sh -c "chroot '$NEWROOT' /usr/bin/idloc-tray --help >/dev/null"
		check "the tray's man page and icons are installed" \
			in_root test -f /usr/share/man/man1/idloc-tray.1.gz \
			-a -f /usr/share/icons/hicolor/scalable/status/idloc-joined.svg
	fi
	if [[ -c /dev/net/tun ]]; then
		daemon_checks
	else
		echo "no /dev/net/tun: the daemon is not started"
	fi
	purge_checks
	finish
}

if [[ ${IDLOC_PKG_STAGE:-} == inside ]]; then
	# lib.sh has just cleared TEST_TMP: take the outer run's, and refuse to
	# mount or write anything unless it is that scratch directory.
	TEST_TMP=${IDLOC_PKG_TMP:-}
	if [[ $TEST_TMP != "${TMPDIR:-/tmp}"/idloc-test.* || ! -d $TEST_TMP ]]; then
		echo "FAIL: no scratch directory for the throwaway system ('$TEST_TMP')"
		exit 1
	fi
	inside
	exit
fi

# ---- outside: find or build the packages, then go inside ----

require_root
require_cmd unshare chroot setpriv dpkg dpkg-deb python3 comm
if ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
	echo "SKIP: no overlayfs"
	exit 77
fi
lib_init

debs=()
if [[ -n ${IDLOC_DEB:-} ]]; then
	if [[ -d $IDLOC_DEB ]]; then
		debs=("$IDLOC_DEB"/idloc_*.deb)
		for d in "$IDLOC_DEB"/idloc-tray_*.deb; do
			[[ -f $d ]] && debs+=("$d")
		done
	else
		debs=("$IDLOC_DEB")
	fi
	[[ -f ${debs[0]} ]] || {
		echo "FAIL: IDLOC_DEB=$IDLOC_DEB holds no idloc_*.deb"
		exit 1
	}
else
	echo "building the packages (scripts/package --no-install)"
	rc=0
	"$ROOT_DIR/scripts/package" --no-install --no-lintian --out "$TEST_TMP/pkg" \
		>"$TEST_TMP/package.log" 2>&1 || rc=$?
	if [[ $rc -eq 3 ]]; then
		echo "SKIP: $(tail -n 1 "$TEST_TMP/package.log") (scripts/package installs it as root)"
		exit 77
	fi
	if [[ $rc -ne 0 ]]; then
		echo "FAIL: scripts/package failed (status $rc)"
		exit 1
	fi
	debs=("$TEST_TMP"/pkg/idloc_*.deb)
	for d in "$TEST_TMP"/pkg/idloc-tray_*.deb; do
		[[ -f $d ]] && debs+=("$d")
	done
fi

# The overlay sees this system's packages: the Depends must be installed here.
if ! unmet=$(deps_installed "${debs[0]}"); then
	echo "SKIP: idloc depends on what is not installed here: $(xargs <<<"$unmet")"
	exit 77
fi
if [[ ${#debs[@]} -gt 1 ]] && ! unmet=$(deps_installed "${debs[1]}"); then
	echo "idloc-tray is left out: it depends on what is not installed here: $(xargs <<<"$unmet")"
	debs=("${debs[0]}")
fi
echo "packages: ${debs[*]}"

IDLOC_PKG_STAGE=inside IDLOC_PKG_DEBS="${debs[*]}" IDLOC_PKG_TMP=$TEST_TMP \
	unshare -m --propagation private bash "$0"
