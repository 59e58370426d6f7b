#!/usr/bin/env bash
# edgecam on arm64 Debian 13 (Raspberry Pi OS trixie's base), emulated: too slow for CI, run it by
# hand (as root) before a release:
#   scripts/check-arm64.sh [--cpu cortex-a72|cortex-a76] [--fresh]
# Builds (once; cached by scripts/debian-root.sh) an arm64 Debian 13 root run under
# qemu-user-static through binfmt_misc, clones this repository's HEAD into it, runs the README's
# setup there, then the demo for 30 frames and `edgecam detect` on the test images, and compares
# those detections with this machine's (same labels, boxes within 0.02). Exit 0 when they match.
#   --cpu    the emulated core: cortex-a72 (a Pi 4, default) or cortex-a76 (a Pi 5). qemu's default
#            model has instructions no Pi has, where the int8 model returns all-zero outputs.
#   --fresh  a new clone (and so a new .venv) instead of updating the last one.
# XNNPACK reads /proc/cpuinfo and segfaults in allocate_tensors() on the host's x86 one, so an
# ARM /proc/cpuinfo for the chosen core is bound over it.
set -euo pipefail
cd "$(dirname "$0")/.."
cpu=cortex-a72
fresh=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --cpu) cpu=$2; shift 2 ;;
    --fresh) fresh=1; shift ;;
    *) echo "check-arm64: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
case "$cpu" in
  cortex-a72) part=0xd08 variant=0x0 revision=3 features="fp asimd evtstrm crc32 cpuid" ;;
  cortex-a76) part=0xd0b variant=0x4 revision=1
    features="fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp" ;;
  *) echo "check-arm64: --cpu must be cortex-a72 or cortex-a76" >&2; exit 2 ;;
esac
if [ ! -x .venv/bin/edgecam ]; then
  echo "check-arm64: the x86 detections come from ./.venv: run bash scripts/setup.sh first" >&2
  exit 2
fi
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start ))s"; }

root=$(bash scripts/debian-root.sh arm64 python3 git ca-certificates)
echo "check-arm64: root $root ($(elapsed))"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in 0 1 2 3; do
  printf 'processor\t: %d\nBogoMIPS\t: 108.00\nFeatures\t: %s\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: %s\nCPU part\t: %s\nCPU revision\t: %d\n\n' \
    "$i" "$features" "$variant" "$part" "$revision"
done >"$work/cpuinfo"
# pip inside reaches the package index as it does here: this machine's pip.conf and CA bundle.
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$root/etc/pip.conf"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp /etc/resolv.conf "$root/etc/resolv.conf"
images=(tests/data/*.jpg tests/data/*.png)
# HEAD as a bundle: a clone inside needs no access to this one's .git (a worktree's lies outside).
git bundle create -q "$work/repo.bundle" HEAD

export QEMU_CPU=$cpu
# shellcheck disable=SC2016
bash scripts/in-root.sh "$root" --bind "$work/cpuinfo:/proc/cpuinfo" \
  --bind "$work:/out" --env "QEMU_CPU=$cpu" -- bash -c '
  set -euo pipefail
  fresh=$1
  shift
  clone=/root/edgecam
  [ "$fresh" = 1 ] && rm -rf "$clone"
  [ -d "$clone/.git" ] || git init -q "$clone"
  cd "$clone"
  git fetch -q /out/repo.bundle HEAD
  git reset -q --hard FETCH_HEAD
  echo "check-arm64: $(uname -m), $(python3 --version), clone at $(git log --oneline -1)"
  SECONDS=0
  bash scripts/setup.sh
  echo "check-arm64: setup took ${SECONDS}s"
  SECONDS=0
  .venv/bin/edgecam run --max-frames 30 >/out/demo.jsonl
  echo "check-arm64: demo, 30 frames: $(wc -l </out/demo.jsonl) events in ${SECONDS}s"
  .venv/bin/edgecam detect "$@" >/out/arm64.jsonl
' check-arm64 "$fresh" "${images[@]}"
echo "check-arm64: emulated part done ($(elapsed))"
.venv/bin/edgecam detect "${images[@]}" >"$work/x86.jsonl"
.venv/bin/python scripts/compare_detections.py "$work/x86.jsonl" "$work/arm64.jsonl" --tolerance 0.02
