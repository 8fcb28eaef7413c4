#!/bin/bash
# Signed EFI binaries (issue 5 item 5): `check` on a PE/COFF image verifies
# its Authenticode signature (PKCS#7 by libksba, signatures by libgcrypt),
# following the certificate chain to a CA held as a key of the supplier.
# Real material: Debian's kernel, signed by "Debian Secure Boot Signer 2022 -
# linux" under "Debian Secure Boot CA" (taken from shim-signed), and our own
# CA + signer with sbsign; each with forged twins.
. "$(dirname "$0")/lib.sh"
command -v sbsign >/dev/null && command -v sbattach >/dev/null || { skip "sbsigntool not installed"; exit 0; }
setup_supplier
tg product add acme boot --kind firmware --reason r >/dev/null
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
# Our own PKI: a CA (held in the records) and a signing certificate it issued.
openssl req -batch -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.crt -subj "/CN=acme Secure Boot CA" -days 3650 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl req -batch -new -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr -subj "/CN=acme Secure Boot Signer" 2>/dev/null
openssl x509 -req -in signer.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out signer.crt -days 3650 -sha256 2>/dev/null
tg key add acme ca.crt --purpose firmware --reason "acme Secure Boot CA" >/dev/null
if [ -f "$STUB" ]; then
	sbsign --key signer.key --cert signer.crt --output signed.efi "$STUB" >/dev/null 2>&1
	check_ok "PE signed by a certificate the supplier's CA issued: approved" -- signed.efi --product boot --version 1.0
	printf '%s' "$LAST_OUT" | jq -e '.kind == "pe" and .supplier == "acme"' >/dev/null && ok "kind pe, signer's supplier acme" || bad "pe verdict"
	cp "$STUB" unsigned.efi
	check_reason SIG_MISSING "unsigned PE: SIG_MISSING" -- unsigned.efi --product boot --version 1.0
	openssl req -batch -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -subj "/CN=acme Secure Boot Signer" 2>/dev/null
	sbsign --key rogue.key --cert rogue.crt --output rogue.efi "$STUB" >/dev/null 2>&1
	check_reason SIG_INVALID "re-signed by a look-alike certificate no CA of the records issued: SIG_INVALID" -- rogue.efi --product boot --version 1.0
	flip signed.efi 5000 changed.efi
	check_reason SIG_INVALID "one byte changed after signing: SIG_INVALID" -- changed.efi --product boot --version 1.0
	printf '%s' "$LAST_OUT" | jq -e '.reasons[0].detail | test("another image")' >/dev/null && ok "detail: signed for another image" || bad "changed detail"
	cp signed.efi tail.efi; printf 'hidden' >> tail.efi
	check_reason SIG_INVALID "bytes appended after the certificate table: refused" -- tail.efi --product boot --version 1.0
	# A detached signature still makes it a blob.
	openssl dgst -sha256 -sign ca.key -out unsigned.sig unsigned.efi
	check_ok "PE with --sig: checked as a blob under its detached signature" -- unsigned.efi --sig unsigned.sig --product boot --version 1.0
else
	skip "systemd-boot-efi not installed"
fi

# Debian's kernel under Debian Secure Boot CA (the CA from shim-signed).
K=$(ls /boot/vmlinuz-* 2>/dev/null | head -1)
SHIM=/usr/lib/shim/shimx64.efi
if [ -n "$K" ] && [ -f "$SHIM" ]; then
	objcopy -O binary --only-section=.vendor_cert "$SHIM" vc.bin
	python3 -c 'import struct, sys
b = open("vc.bin", "rb").read()
size, _, off, _ = struct.unpack("<4I", b[:16])
open("debian-ca.der", "wb").write(b[off:off + size])'
	openssl x509 -inform DER -in debian-ca.der -noout -subject | grep -q "Debian Secure Boot CA" && ok "Debian Secure Boot CA taken from shim-signed" || bad "debian CA"
	tg supplier add debian --review SR-D --review-expires 2099-12-31 --reason "Debian" >/dev/null
	tg key add debian debian-ca.der --purpose firmware --reason "Debian Secure Boot CA" >/dev/null
	tg product add debian linux --kind firmware --reason r >/dev/null
	cp "$K" vmlinuz
	check_ok "Debian kernel (Debian Secure Boot Signer 2022 - linux, issued by Debian Secure Boot CA): approved" -- vmlinuz --product linux --version 6.1
	cp vmlinuz vmlinuz-unsigned; sbattach --remove vmlinuz-unsigned >/dev/null 2>&1
	check_reason SIG_MISSING "Debian kernel with its signature removed: SIG_MISSING" -- vmlinuz-unsigned --product linux --version 6.1
	sbsign --key signer.key --cert signer.crt --output vmlinuz-resigned vmlinuz-unsigned >/dev/null 2>&1
	check_reason SUPPLIER_MISMATCH "Debian kernel re-signed by acme's signer: not Debian's product" -- vmlinuz-resigned --product linux --version 6.1
	flip vmlinuz 100000 vmlinuz-changed
	check_reason SIG_INVALID "Debian kernel with one byte changed: SIG_INVALID" -- vmlinuz-changed --product linux --version 6.1
else
	skip "linux-image-amd64 or shim-signed not installed"
fi
expect 0 "audit chain intact" -- tg audit verify
