#!/bin/bash
# make image: the appliance as a unified kernel image on an EFI system
# partition image.  Debian's kernel, an initramfs with busybox, trustgate
# and trustgate-service (and the libraries they load), the e1000 driver
# and its records, joined to systemd's EFI stub with objcopy; the ESP
# written with mtools.  It boots into `trustgate serve` (image/init).
#   image/build.sh OUTDIR [CMDLINE]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
CMDLINE=${2:-console=ttyS0 quiet panic=-1}
KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -1)
KVER=${KERNEL#/boot/vmlinuz-}
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
TG=${TG_IMAGE_BIN:-$ROOT/build/trustgate}
mkdir -p "$OUT"
R=$OUT/rootfs
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,proc,sys,dev,tmp,lib/modules,var/lib/trustgate,etc}
cp /bin/busybox "$R/bin/busybox"
for a in sh mount insmod cat echo sleep tar base64 poweroff mkdir ls cp rm ifconfig route; do ln -sf busybox "$R/bin/$a"; done
cp "$TG" "$R/bin/trustgate"
SVC=$(dirname "$TG")/trustgate-service
cp "$SVC" "$R/bin/trustgate-service"
# trustgate's shared libraries, and those opened at run time: ESYS (opened
# by measure/tpm.c on first TPM use) and the TCTI the TSS loads.
libs() { ldd "$1" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'; }
TCTI=$(ls /usr/lib/x86_64-linux-gnu/libtss2-tcti-device.so.0* | head -1)
ESYS=/usr/lib/x86_64-linux-gnu/libtss2-esys.so.0
for f in $(libs "$TG") $(libs "$SVC") $(libs "$TCTI") "$TCTI" $(libs "$ESYS") "$ESYS"; do
	mkdir -p "$R$(dirname "$f")"
	cp -L "$f" "$R$f"
done
mkdir -p "$R/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
cp "/lib/modules/$KVER/kernel/drivers/firmware/qemu_fw_cfg.ko" "$R/lib/modules/"
cp "/lib/modules/$KVER/kernel/drivers/net/ethernet/intel/e1000/e1000.ko" "$R/lib/modules/"
install -m 0755 "$ROOT/image/init" "$R/init"
# Its records: an empty, initialised database (the appliance's own).
TRUSTGATE_DB=$R/var/lib/trustgate/records.db "$TG" db init >/dev/null
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT/initrd.img"
printf '%s' "$CMDLINE" > "$OUT/cmdline.txt"
printf 'ID=trustgate\nNAME="trustgate appliance"\nVERSION_ID=1\n' > "$OUT/os-release"
cp "$KERNEL" "$OUT/vmlinuz"
objcopy --add-section .osrel="$OUT/os-release" --change-section-vma .osrel=0x20000 \
	--add-section .cmdline="$OUT/cmdline.txt" --change-section-vma .cmdline=0x30000 \
	--add-section .linux="$OUT/vmlinuz" --change-section-vma .linux=0x2000000 \
	--add-section .initrd="$OUT/initrd.img" --change-section-vma .initrd=0x3000000 \
	"$STUB" "$OUT/uki.efi"
# The EFI system partition.
rm -f "$OUT/esp.img"
truncate -s 96M "$OUT/esp.img"
mkfs.vfat -n TGESP "$OUT/esp.img" >/dev/null
mmd -i "$OUT/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$OUT/esp.img" "$OUT/uki.efi" ::/EFI/BOOT/BOOTX64.EFI
echo "image: $OUT/esp.img (UKI $OUT/uki.efi, kernel $KVER, initrd $(du -h "$OUT/initrd.img" | cut -f1))"
