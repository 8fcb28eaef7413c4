#!/bin/bash
# UEFI FMP capsules (issue 5 item 3, THREATS 24-25): capsules made by
# mkeficapsule (u-boot-tools), verified with the supplier's certificate from
# the records (PKCS#7 via libksba, signature via libgcrypt); the image type
# GUID names the product, the FMP payload header's version meets its floor.
. "$(dirname "$0")/lib.sh"
command -v mkeficapsule >/dev/null || { skip "mkeficapsule not installed"; exit 0; }
setup_supplier
GUID=09d7cf52-0720-4710-91d1-08469b7fe9c8
tg product add acme board --kind firmware --guid "$GUID" --min-version 3 --reason "capsule firmware" >/dev/null
openssl req -batch -x509 -sha256 -newkey rsa:2048 -nodes -keyout good.key -out good.crt -subj /CN=acme-capsule -days 3650 2>/dev/null
openssl req -batch -x509 -sha256 -newkey rsa:2048 -nodes -keyout bad.key -out bad.crt -subj /CN=acme-capsule -days 3650 2>/dev/null
tg key add acme good.crt --purpose firmware --reason "capsule signer" >/dev/null
head -c 20000 /dev/urandom > fw.bin
payload() { # VERSION LOWEST OUT: FMP payload header ("MSS1") + firmware
	printf 'MSS1\x10\x00\x00\x00' > "$3"
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(( $1 & 255 )) $(( ($1 >> 8) & 255 )) 0 0)" >> "$3"
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(( $2 & 255 )) $(( ($2 >> 8) & 255 )) 0 0)" >> "$3"
	cat fw.bin >> "$3"
}
cap() { # KEY CRT PAYLOAD OUT [GUID]
	mkeficapsule --private-key "$1" --certificate "$2" --monotonic-count 7 --guid "${5:-$GUID}" --index 1 "$3" "$4" >/dev/null
}
payload 5 3 v5.bin; payload 2 1 v2.bin
cap good.key good.crt v5.bin good.cap
check_ok "capsule signed by the supplier's key, version 5 >= floor 3: approved" -- good.cap
printf '%s' "$LAST_OUT" | jq -e '.kind == "capsule" and .product == "board" and .version == "5"' >/dev/null \
	&& ok "product from the image type GUID, version from the FMP payload header" || bad "capsule verdict: $LAST_OUT"
cap bad.key bad.crt v5.bin untrusted.cap
check_reason CAPSULE_SIG_INVALID "capsule signed by an untrusted key: CAPSULE_SIG_INVALID" -- untrusted.cap
cap good.key good.crt v2.bin old.cap
check_reason ROLLBACK "valid signature, firmware version 2 below the floor 3: ROLLBACK" -- old.cap
mkeficapsule --guid "$GUID" --index 1 v5.bin unsigned.cap >/dev/null
check_reason SIG_MISSING "unsigned capsule: SIG_MISSING" -- unsigned.cap
cap good.key good.crt v5.bin other.cap 058b7d83-50d5-4c47-a195-60d86ad341c4
check_reason PRODUCT_UNKNOWN "image type GUID of no product of the supplier: PRODUCT_UNKNOWN" -- other.cap
flip good.cap $(( $(stat -c %s good.cap) - 100 )) payload.cap
check_reason CAPSULE_SIG_INVALID "one payload byte changed: CAPSULE_SIG_INVALID" -- payload.cap
# The monotonic count is signed too (replay of an older capsule's payload).
cp good.cap count.cap; printf '\x08' | dd of=count.cap bs=1 seek=$((0x5c)) conv=notrunc 2>/dev/null
check_reason CAPSULE_SIG_INVALID "monotonic count changed: CAPSULE_SIG_INVALID" -- count.cap
check_reason MANIFEST_MISMATCH "--version disagreeing with the capsule's version" -- good.cap --version 6
# THREATS 25: header arithmetic.
patch32() { # FILE OFFSET VALUE OUT
	cp "$1" "$4"
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(( $3 & 255 )) $(( ($3 >> 8) & 255 )) $(( ($3 >> 16) & 255 )) $(( ($3 >> 24) & 255 )))" |
		dd of="$4" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
n=$(stat -c %s good.cap)
patch32 good.cap 16 20 hs.cap;          check_reason CAPSULE_MALFORMED "HeaderSize below sizeof(EFI_CAPSULE_HEADER)" -- hs.cap
patch32 good.cap 24 16 cis.cap;         check_reason CAPSULE_MALFORMED "CapsuleImageSize below HeaderSize" -- cis.cap
patch32 good.cap 24 $((n + 1)) big.cap; check_reason CAPSULE_MALFORMED "CapsuleImageSize beyond the file" -- big.cap
patch32 good.cap $((0x64)) 4294967295 wrap.cap; check_reason CAPSULE_MALFORMED "WIN_CERTIFICATE dwLength 0xffffffff" -- wrap.cap
patch32 good.cap $((0x2c)) 9 ver.cap;   check_reason CAPSULE_MALFORMED "FMP image header version 9" -- ver.cap
for v in 1 2; do
	# Older image header versions are shorter: the same bytes then do not
	# add up, and that is refused, never read at the wrong offsets.
	patch32 good.cap $((0x2c)) "$v" "v$v.cap"; check_reason CAPSULE_MALFORMED "FMP image header version $v over a v3 layout" -- "v$v.cap"
done
cp good.cap tail.cap; printf 'X' >> tail.cap; check_reason CAPSULE_MALFORMED "a byte appended after the capsule" -- tail.cap
bad_input "capsule with --sig" "good.cap" -- tg check good.cap --sig good.crt
expect 0 "audit chain intact" -- tg audit verify
