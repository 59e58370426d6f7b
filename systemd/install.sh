#!/bin/sh
# Install edgecam from this clone as a systemd service: its own venv outside /home, the unit, the
# edgecam user, udev rules for the Coral and a sample config. Run it again to upgrade in place.
# See docs/service.md.
#
# usage: sudo systemd/install.sh [--start] [--venv DIR] [--dry-run]
#        sudo systemd/install.sh --uninstall | --purge
#   --start      also start the service now (an upgrade restarts a running service anyway)
#   --venv DIR   where edgecam is installed (default /opt/edgecam); not under /home, /root or /tmp,
#                which the unit hides from the service
#   --dry-run    print what would be done, change nothing
#   --uninstall  stop the service; remove the unit, the udev rules and the venv; keep the config
#                (/etc/edgecam) and the state (/var/lib/edgecam: outbox, snapshots)
#   --purge      --uninstall, then also remove the config, the state and the edgecam user
#   --root DIR   install into DIR instead of / (SD-card images, tests): no daemon calls, and
#                --bin PATH (an edgecam already in the image) instead of a venv
set -eu
umask 022 # the venv and unit must be readable by the service user

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
root=/
dry=0
start=0
bin=""
venv=""
action=install

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry=1 ;;
        --root) root=${2:?--root needs a directory}; shift ;;
        --bin) bin=${2:?--bin needs a path}; shift ;;
        --venv) venv=${2:?--venv needs a directory}; shift ;;
        --start) start=1 ;;
        --uninstall) action=uninstall ;;
        --purge) action=purge ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

root=${root%/}
live=0
[ -z "$root" ] && live=1
unit="$root/etc/systemd/system/edgecam.service"
conf="$root/etc/edgecam"
state="$root/var/lib/edgecam"

run() {
    if [ "$dry" = 1 ]; then echo "would run: $*"; else "$@"; fi
}
say() { echo "edgecam install: $*"; }
warn() { echo "edgecam install: warning: $*" >&2; }
die() { echo "install.sh: $*" >&2; exit "${2:-2}"; }

if [ "$dry" = 0 ] && [ "$live" = 1 ] && [ "$(id -u)" -ne 0 ]; then
    die "run it as root: sudo $0"
fi
systemd_up() { [ "$live" = 1 ] && [ -d /run/systemd/system ]; }

# The venv this installer made for the installed unit (above bin/edgecam in its ExecStart).
installed_venv() {
    [ -f "$unit" ] || return 0
    found=$(sed -n 's#^ExecStart=\(/.*\)/bin/edgecam run .*#\1#p' "$unit" | head -n 1)
    if [ -n "$found" ] && [ -f "$found/.edgecam-installed" ]; then echo "$found"; fi
}

check_venv_dir() {
    case "$1" in
        /home|/home/*|/root|/root/*|/tmp|/tmp/*|/var/tmp|/var/tmp/*|/run/user/*)
            die "--venv $1: the unit hides /home, /root and /tmp from the service (ProtectHome=, PrivateTmp=); use a directory such as /opt/edgecam" ;;
        /*) ;;
        *) die "--venv $1: give an absolute path" ;;
    esac
}

# A Python with venv and pip; on Debian they come as python3-venv.
system_python() {
    python=/usr/bin/python3
    [ -x "$python" ] || die "no $python; install it: apt-get install python3 python3-venv" 1
    if ! "$python" -c "import venv, ensurepip" 2>/dev/null; then
        command -v apt-get >/dev/null || die "$python has no venv module; install python3-venv" 1
        say "installing python3-venv"
        run apt-get install -y -qq python3-venv
    fi
}

install_venv() {
    system_python
    site=""
    # On a Pi the camera stack (picamera2, libcamera) and HailoRT's Python API (hailo_platform,
    # from hailo-all) come from Debian, so the venv must see them.
    grep -qs "Raspberry Pi" /proc/device-tree/model && site=--system-site-packages
    if [ ! -x "$venv/bin/python" ]; then
        say "venv $venv"
        run "$python" -m venv $site "$venv"
    fi
    say "edgecam from $src into $venv (not editable: the service never reads the clone)"
    run "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-warn-script-location "$src"
    # Only a venv with this mark is ever removed by --uninstall.
    run touch "$venv/.edgecam-installed"
}

reload_udev() {
    if ! command -v udevadm >/dev/null; then
        warn "udevadm not found: the Coral and Hailo rules apply once udev runs"
    elif ! udevadm control --reload-rules 2>/dev/null; then
        warn "udev is not running: the Coral and Hailo rules apply from the next boot (or udevadm trigger)"
    else
        udevadm trigger --subsystem-match=usb --subsystem-match=apex \
            --subsystem-match=hailo_chardev || true
    fi
}

write_unit() {
    say "unit $unit (ExecStart $bin)"
    run mkdir -p "$root/etc/systemd/system" "$root/etc/sysusers.d" "$root/etc/udev/rules.d"
    if [ "$dry" = 1 ]; then
        echo "would write: $unit"
    else
        sed -e "s#/opt/edgecam/bin/edgecam#$bin#g" \
            -e "s#^Documentation=.*#Documentation=file://${docs#"$root"}/service.md#" \
            "$here/edgecam.service" > "$unit.tmp"
        chmod 0644 "$unit.tmp"
        mv "$unit.tmp" "$unit"
    fi
}

add_user() {
    say "user edgecam (sysusers.d)"
    run install -m 0644 "$here/edgecam.sysusers" "$root/etc/sysusers.d/edgecam.conf"
    if [ "$live" = 1 ]; then
        run systemd-sysusers edgecam.conf
    else
        run systemd-sysusers --root="$root" "$root/etc/sysusers.d/edgecam.conf"
    fi
}

add_files() {
    run install -D -m 0644 "$src/docs/service.md" "$docs/service.md"  # the unit's Documentation=
    say "udev rules for the Coral and the Hailo"
    run install -m 0644 "$here/71-edgecam-coral.rules" "$root/etc/udev/rules.d/71-edgecam-coral.rules"
    run install -m 0644 "$here/72-edgecam-hailo.rules" "$root/etc/udev/rules.d/72-edgecam-hailo.rules"
    run install -d -m 0750 "$conf"
    if [ -e "$conf/edgecam.yaml" ]; then
        say "keeping the existing $conf/edgecam.yaml"
    else
        say "sample config $conf/edgecam.yaml"
        run install -m 0640 "$here/edgecam.yaml" "$conf/edgecam.yaml"
    fi
    if [ ! -e "$conf/mqtt-password" ]; then
        # LoadCredential= needs the file; put the broker password in it (root-only, 0600).
        run install -m 0600 /dev/null "$conf/mqtt-password"
    fi
    demo="$src/edgecam/data/demo.mp4"
    if [ -f "$demo" ] && [ ! -e "$state/demo.mp4" ]; then
        run install -d -m 0750 "$state"
        run install -m 0644 "$demo" "$state/demo.mp4"
    fi
    if [ "$dry" = 0 ]; then
        # The config is readable by the service's group only; numeric ids work in a --root tree.
        gid=$(awk -F: '$1 == "edgecam" {print $3}' "$root/etc/group")
        uid=$(awk -F: '$1 == "edgecam" {print $3}' "$root/etc/passwd")
        chown -R "0:$gid" "$conf"
        if [ -d "$state" ]; then chown -R "$uid:$gid" "$state"; fi
    else
        echo "would run: chown -R root:edgecam $conf"
    fi
}

enable_and_start() {
    if systemd_up; then
        reload_udev
        was_active=0
        systemctl is-active --quiet edgecam.service && was_active=1
        run systemctl daemon-reload
        run systemctl enable --quiet edgecam.service
        if [ "$start" = 1 ] || [ "$was_active" = 1 ]; then
            say "starting edgecam (journalctl -u edgecam -f shows it)"
            run systemctl restart edgecam.service
        fi
    else
        [ "$live" = 1 ] && warn "systemd is not running here: the service starts at the next boot"
        run systemctl --root="${root:-/}" enable --quiet edgecam.service
    fi
}

do_install() {
    if [ -n "$bin" ]; then
        case "$bin" in /*) ;; *) die "--bin $bin: give an absolute path" ;; esac
    elif [ "$live" = 0 ]; then
        die "--root needs --bin PATH: the edgecam the image runs (a venv is not movable)"
    else
        venv=${venv:-$(installed_venv)}
        venv=${venv:-/opt/edgecam}
        check_venv_dir "$venv"
        install_venv
        bin="$venv/bin/edgecam"
    fi
    # With the venv (outside /usr, which may be read-only); in an image, where packages put them.
    if [ -n "$venv" ]; then docs="$venv/share/doc/edgecam"; else docs="$root/usr/share/doc/edgecam"; fi
    write_unit
    add_user
    add_files
    enable_and_start
    say "done; edit $conf/edgecam.yaml, then: systemctl reload edgecam"
}

do_uninstall() {
    venv=${venv:-$(installed_venv)}
    if systemd_up; then
        run systemctl disable --now --quiet edgecam.service || true
    elif [ -f "$unit" ]; then
        run systemctl --root="${root:-/}" disable --quiet edgecam.service || true
    fi
    say "removing the unit, the udev rules and the docs"
    run rm -f "$unit" "$root/etc/udev/rules.d/71-edgecam-coral.rules" \
        "$root/etc/udev/rules.d/72-edgecam-hailo.rules"
    if [ -d "$root/usr/share/doc/edgecam" ]; then run rm -rf "$root/usr/share/doc/edgecam"; fi
    if [ "$live" = 1 ] && [ -n "$venv" ] && [ -f "$venv/.edgecam-installed" ]; then
        say "removing the venv $venv"
        run rm -rf "$venv"
    elif [ -n "$venv" ]; then
        say "leaving $venv alone (this installer did not make it)"
    fi
    if [ "$action" = purge ]; then
        say "removing $conf, $state and the edgecam user"
        run rm -rf "$conf" "$state"
        run rm -f "$root/etc/sysusers.d/edgecam.conf"
        if [ "$live" = 1 ] && getent passwd edgecam >/dev/null; then
            run userdel edgecam
        fi
    else
        say "kept $conf and $state (--purge removes them)"
    fi
    if systemd_up; then run systemctl daemon-reload; fi
    say "done"
}

if [ "$action" = install ]; then do_install; else do_uninstall; fi
