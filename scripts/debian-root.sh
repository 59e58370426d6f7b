#!/usr/bin/env bash
# Print the path of a cached Debian root for ARCH with PACKAGES installed, building it when missing:
#   scripts/debian-root.sh ARCH PACKAGE...          (ARCH: amd64, arm64, ...; needs root)
# debootstrap (minbase) from Debian's own packages, then apt-get install inside. The root lives in
# $EDGECAM_ROOT_CACHE (default /var/cache/edgecam), outside any clone, named by suite, architecture
# and a hash of what goes into it (the recipe's version, suite, architecture, mirror and package
# list): a change to any of them builds a new root and removes the old one. A foreign ARCH runs under qemu-user-static through binfmt_misc.
# Progress goes to stderr; stdout is only the path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
arch=$1
shift
suite=${EDGECAM_DEBIAN_SUITE:-trixie}
mirror=${EDGECAM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${EDGECAM_ROOT_CACHE:-/var/cache/edgecam}
# Bump when the build steps below change what a root holds.
recipe=1
key=$({ echo "$recipe $suite $arch $mirror"; printf '%s\n' "$@" | sort -u; } | sha256sum | cut -c1-12)
root="$cache/$suite-$arch-$key"
say() { echo "debian-root: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "building a Debian root needs root (debootstrap, chroot); run this as root"
  exit 1
fi
mkdir -p "$cache"
exec 9>"$cache/.$suite-$arch.lock"
flock 9 # one build of a root at a time; a second caller waits, then finds it made
if [ -f "$root/.edgecam-root" ]; then
  echo "$root"
  exit 0
fi

missing=()
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  [ -e /usr/bin/qemu-aarch64-static ] || [ -e "/usr/bin/qemu-$arch-static" ] || missing+=(qemu-user-static)
  command -v update-binfmts >/dev/null || missing+=(binfmt-support)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  # qemu-user-static registers its interpreters with the F flag: usable inside a chroot.
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  ls /proc/sys/fs/binfmt_misc/qemu-* >/dev/null 2>&1 || update-binfmts --enable >&2
fi

rm -rf "$cache/$suite-$arch-"*  # older builds of this suite and architecture, and broken ones
work="$root.part"
say "building $root (debootstrap $suite $arch from $mirror; a few minutes)"
debootstrap --variant=minbase --arch="$arch" "$suite" "$work" "$mirror" >&2
# Loopback names for the tests' certificates (127.0.0.1 and localhost); DNS from this machine.
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$work/etc/hosts"
cp /etc/resolv.conf "$work/etc/resolv.conf"
# shellcheck disable=SC2016
"$here/in-root.sh" "$work" -- bash -c '
  set -e
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  apt-get clean
' packages "$@" >&2
touch "$work/.edgecam-root"
mv "$work" "$root"
say "built $root ($(du -sh "$root" | cut -f1))"
echo "$root"
