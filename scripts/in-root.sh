#!/usr/bin/env bash
# Run COMMAND as root in the Debian root ROOT (chroot), in new mount and PID namespaces:
#   scripts/in-root.sh ROOT [--bind HOST_PATH:PATH_IN_ROOT]... [--env NAME=VALUE]... -- COMMAND...
# /proc, /sys, /dev and an empty /tmp are mounted for it and the binds are made; all of them vanish
# with the mount namespace. Every process started inside (a broker a test left behind, say) is
# killed when COMMAND ends, since the PID namespace ends with it. The environment is a clean one
# (PATH, HOME, LANG and the --env pairs). Exits with COMMAND's status.
set -euo pipefail
root=$(cd "$1" && pwd)
shift
binds=()
envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root
  LOGNAME=root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive)
while [ "$#" -gt 0 ]; do
  case "$1" in
    --bind) binds+=("$2"); shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) echo "in-root: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$#" -gt 0 ] || { echo "in-root: no command" >&2; exit 2; }

# PID 1 of the new namespace is this inner bash: it mounts, runs the command as its child (bash
# reaps the orphans that get re-parented to it) and returns the command's status.
# shellcheck disable=SC2016
exec unshare --mount --pid --fork --kill-child --propagation private bash -c '
  set -e
  root=$1 nbinds=$2 nenvs=$3
  shift 3
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  for ((i = 0; i < nbinds; i++)); do
    host=${1%%:*} inside=$root${1#*:}
    if [ -d "$host" ]; then mkdir -p "$inside"; elif [ ! -e "$inside" ]; then mkdir -p "$(dirname "$inside")"; touch "$inside"; fi
    mount --bind "$host" "$inside"
    shift
  done
  envs=("${@:1:nenvs}")
  shift "$nenvs"
  set +e
  chroot "$root" /usr/bin/env -i "${envs[@]}" "$@"
  status=$?
  exit "$status"
' in-root "$root" "${#binds[@]}" "${#envs[@]}" "${binds[@]}" "${envs[@]}" "$@"
