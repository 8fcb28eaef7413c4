#!/bin/bash
# The appliance image (issue 6 item 5, issue 12 item 7): `make image-test`
# — build the UKI appliance (Debian kernel, busybox initramfs, trustgate,
# trustgate-service and its records, systemd stub), boot it under QEMU
# (TCG) with OVMF and swtpm into `trustgate serve`, reach it through
# hostfwd as a host agent (enrol, TRUSTED, UNTRUSTED twin) and as a relying
# party (its own quote against the approved UKI's references: TRUSTED;
# the image with one byte of its command line changed: UNTRUSTED).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v qemu-system-x86_64 >/dev/null || [ ! -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || [ ! -x /bin/busybox ] ||
	! ls /boot/vmlinuz-* >/dev/null 2>&1; then
	echo "skip - qemu, OVMF, busybox-static or linux-image-amd64 not installed"
	exit 0
fi
make -C "$ROOT" --no-print-directory image-bin >/dev/null 2>&1 || { echo "not ok - image trustgate build"; exit 0; }
TG_IMAGE_BIN=$ROOT/build/image/trustgate bash "$ROOT/image/test.sh" | grep -E '^(ok|not ok|skip) '
