#!/bin/bash
# make bench (appliance image): the time `make image` takes (trustgate
# already built) and the boot-to-serving time of `make image-test`
# (QEMU TCG, OVMF, swtpm: power-on to the service answering over hostfwd).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v qemu-system-x86_64 >/dev/null && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || { echo "skip: qemu/OVMF not installed"; exit 0; }
make -C "$ROOT" --no-print-directory image-bin >/dev/null 2>&1 || exit 1
W=$(mktemp -d /tmp/tg-bench-image.XXXXXX)
trap 'rm -rf "$W"' EXIT
s=$(date +%s%N)
TG_IMAGE_BIN=$ROOT/build/image/trustgate bash "$ROOT/image/build.sh" "$W/img" >/dev/null || exit 1
build=$(( ($(date +%s%N) - s) / 1000000 ))
out=$(TG_IMAGE_BIN=$ROOT/build/image/trustgate bash "$ROOT/image/test.sh" 2>&1)
boot=$(printf '%s' "$out" | sed -n 's/^boot to serving: \([0-9]*\) s.*/\1/p')
printf '\n%-56s %10s\n' "appliance image" "seconds"
printf '%-56s %10.1f\n' "make image (initramfs, UKI, ESP; trustgate built)" "$(echo "$build / 1000" | bc -l)"
printf '%-56s %10s\n' "boot to serving (QEMU TCG + OVMF + swtpm, target < 90)" "${boot:-?}"
