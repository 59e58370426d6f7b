#!/bin/sh
# Install edgecam as a systemd service: user, unit, udev rules, sample config; enable it.
# Idempotent (an existing config is never overwritten). See docs/service.md.
#
# usage: install.sh [--dry-run] [--root DIR] [--bin PATH] [--start]
#   --dry-run   print what would be done, change nothing
#   --root DIR  install into DIR instead of / (image building, tests); implies no daemon calls
#   --bin PATH  the edgecam executable for ExecStart (default: `command -v edgecam`)
#   --start     also start (or restart) the service now
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=/
dry=0
start=0
bin=""

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry=1 ;;
        --root) root=${2:?--root needs a directory}; shift ;;
        --bin) bin=${2:?--bin needs a path}; shift ;;
        --start) start=1 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ -z "$bin" ]; then
    bin=$(command -v edgecam || true)
fi
case "$bin" in
    /*) ;;
    *) echo "install.sh: edgecam not found; install it first or pass --bin /path/to/edgecam" >&2
       exit 2 ;;
esac
root=${root%/}
live=0
[ -z "$root" ] && live=1

run() {
    if [ "$dry" = 1 ]; then echo "would run: $*"; else "$@"; fi
}

say() { echo "edgecam install: $*"; }

unit="$root/etc/systemd/system/edgecam.service"
say "unit $unit (ExecStart $bin)"
run mkdir -p "$root/etc/systemd/system" "$root/usr/lib/sysusers.d" "$root/etc/udev/rules.d"
if [ "$dry" = 1 ]; then
    echo "would write: $unit"
else
    sed "s#/usr/local/bin/edgecam#$bin#g" "$here/edgecam.service" > "$unit.tmp"
    chmod 0644 "$unit.tmp"
    mv "$unit.tmp" "$unit"
fi

say "user edgecam (sysusers.d)"
run install -m 0644 "$here/edgecam.sysusers" "$root/usr/lib/sysusers.d/edgecam.conf"
if [ "$live" = 1 ]; then
    run systemd-sysusers edgecam.conf
else
    run systemd-sysusers --root="$root" "$root/usr/lib/sysusers.d/edgecam.conf"
fi

run install -D -m 0644 "$here/../docs/service.md" "$root/usr/share/doc/edgecam/service.md"

say "udev rules for the Coral"
run install -m 0644 "$here/71-edgecam-coral.rules" "$root/etc/udev/rules.d/71-edgecam-coral.rules"

conf="$root/etc/edgecam"
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
state="$root/var/lib/edgecam"
demo="$here/../edgecam/data/demo.mp4"
if [ -f "$demo" ] && [ ! -e "$state/demo.mp4" ]; then
    run install -d -m 0750 "$state"
    run install -m 0644 "$demo" "$state/demo.mp4"
fi

if [ "$dry" = 0 ]; then
    # The config is readable by the service's group only; numeric ids work in a --root tree too.
    gid=$(awk -F: '$1 == "edgecam" {print $3}' "$root/etc/group")
    uid=$(awk -F: '$1 == "edgecam" {print $3}' "$root/etc/passwd")
    chown -R "0:$gid" "$conf"
    [ -d "$state" ] && chown -R "$uid:$gid" "$state"
else
    echo "would run: chown -R root:edgecam $conf"
fi

if [ "$live" = 1 ] && [ -d /run/systemd/system ]; then
    run udevadm control --reload-rules
    run udevadm trigger --subsystem-match=usb --subsystem-match=apex
    run systemctl daemon-reload
    run systemctl enable edgecam.service
    if [ "$start" = 1 ]; then run systemctl restart edgecam.service; fi
else
    run systemctl --root="${root:-/}" enable edgecam.service
fi
say "done; edit $conf/edgecam.yaml, then: systemctl reload edgecam"
