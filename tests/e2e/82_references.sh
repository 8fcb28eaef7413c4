#!/bin/bash
# Reference measurements (issue 5 item 4): `release add --file` on a UEFI
# PE/COFF image records its Authenticode digest for PCR 4 (cross-checked
# with pesign -h, signed and unsigned copies), on a FIT each image's digest
# for the PCR U-Boot's bootm measures it into.
. "$(dirname "$0")/lib.sh"
setup_supplier
tg product add acme boot --kind firmware --reason r >/dev/null
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
if [ -f "$STUB" ] && command -v pesign >/dev/null; then
	cp "$STUB" stub.efi
	expect 0 "release add --file on a PE/COFF image" -- tg --json release add acme boot 1.0 --file stub.efi --reason "UKI stub"
	printf '%s' "$LAST_OUT" | jq -e '.measured_as == "pe" and (.references | length) == 3 and (.reference_set | length) == 64' >/dev/null \
		&& ok "audit detail lists the measurements and names the reference set" || bad "release detail: $LAST_OUT"
	want256=$(pesign -h -i stub.efi | awk '{print $2}'); want1=$(pesign -h -d sha1 -i stub.efi | awk '{print $2}')
	refs=$(tg --json reference list --release acme/boot/1.0)
	printf '%s' "$refs" | jq -e --arg d "$want256" '[.[] | select(.pcr == 4 and .alg == "sha256" and .digest == $d and .event_type == "EV_EFI_BOOT_SERVICES_APPLICATION")] | length == 1' >/dev/null \
		&& ok "PCR 4 SHA-256 reference equals pesign -h" || bad "sha256 authenticode: $(printf '%s' "$refs" | jq -c '.[] | select(.pcr == 4)')"
	printf '%s' "$refs" | jq -e --arg d "$want1" '[.[] | select(.pcr == 4 and .alg == "sha1" and .digest == $d)] | length == 1' >/dev/null \
		&& ok "PCR 4 SHA-1 reference equals pesign -h -d sha1" || bad "sha1 authenticode"
	# A signed copy (sbsign pads the image to 8 bytes, then appends the
	# certificate table): the table is excluded, the padding is not.
	if command -v sbsign >/dev/null; then
		openssl req -batch -new -x509 -newkey rsa:2048 -nodes -keyout db.key -out db.crt -subj /CN=db 2>/dev/null
		sbsign --key db.key --cert db.crt --output signed.efi stub.efi >/dev/null 2>&1
		signed256=$(pesign -h -i signed.efi | awk '{print $2}')
		expect 0 "release add --file on the signed copy" -- tg --json release add acme boot 1.1 --file signed.efi --reason signed
		printf '%s' "$LAST_OUT" | jq -e --arg d "$signed256" '[.references[] | select(.alg == "sha256" and .digest == $d)] | length == 1' >/dev/null \
			&& ok "signed copy: Authenticode digest equals pesign -h (certificate table excluded)" || bad "signed digest"
		cp signed.efi tail.efi; printf 'hidden' >> tail.efi
		bad_input "bytes after the certificate table: refused" "tail.efi" -- tg release add acme boot 1.2 --file tail.efi --reason r
	else
		skip "sbsign not installed"
	fi
	cp stub.efi changed.efi; flip stub.efi $(( $(stat -c %s stub.efi) / 2 )) changed.efi
	expect 0 "release add --file on a changed copy" -- tg --json release add acme boot 1.3 --file changed.efi --reason r
	printf '%s' "$LAST_OUT" | jq -e --arg d "$want256" '[.references[] | select(.digest == $d)] | length == 0' >/dev/null \
		&& ok "one changed byte: another Authenticode digest" || bad "changed digest"
	head -c 1000 stub.efi > short.efi
	bad_input "truncated PE image" "short.efi" -- tg release add acme boot 1.4 --file short.efi --reason r
else
	skip "systemd-boot-efi or pesign not installed"
fi

# FIT: kernel -> PCR 8, ramdisk -> PCR 9 (EV_COMPACT_HASH), fdt -> PCR 1 (EV_TABLE_OF_DEVICES).
head -c 5000 /dev/urandom > kernel.bin; head -c 700 /dev/urandom > rd.bin; head -c 300 /dev/urandom > fdt.bin
cat > f.its <<EOF
/dts-v1/;
/ {
	images {
		kernel { data = /incbin/("kernel.bin"); type = "kernel"; arch = "arm64"; os = "linux"; compression = "none"; hash-1 { algo = "sha256"; }; };
		ramdisk { data = /incbin/("rd.bin"); type = "ramdisk"; arch = "arm64"; os = "linux"; compression = "none"; hash-1 { algo = "sha256"; }; };
		fdt-1 { data = /incbin/("fdt.bin"); type = "flat_dt"; arch = "arm64"; compression = "none"; hash-1 { algo = "sha256"; }; };
	};
	configurations { default = "conf-1"; conf-1 { kernel = "kernel"; ramdisk = "ramdisk"; fdt = "fdt-1"; }; };
};
EOF
mkimage -f f.its f.fit >/dev/null 2>&1; [ -f f.fit ] || bad "mkimage f.fit"
expect 0 "release add --file on a FIT" -- tg --json release add acme boot 2.0 --file f.fit --reason fit
printf '%s' "$LAST_OUT" | jq -e '.measured_as == "fit" and (.references | length) == 9' >/dev/null && ok "FIT: three images x three banks" || bad "fit refs: $LAST_OUT"
for x in "kernel.bin 8 EV_COMPACT_HASH" "rd.bin 9 EV_COMPACT_HASH" "fdt.bin 1 EV_TABLE_OF_DEVICES"; do
	set -- $x
	tg --json reference list --release acme/boot/2.0 | jq -e --arg d "$(sha256sum "$1" | cut -c1-64)" --argjson p "$2" --arg t "$3" \
		'[.[] | select(.pcr == $p and .alg == "sha256" and .digest == $d and .event_type == $t)] | length == 1' >/dev/null \
		&& ok "FIT $1: SHA-256 of its data in PCR $2 as $3" || bad "FIT $1 reference"
done
printf '\xd0\x0d\xfe\xed' > bad.fit
bad_input "malformed FIT: refused, nothing recorded" "bad.fit" -- tg release add acme boot 2.1 --file bad.fit --reason r
echo "plain" > plain.bin
expect 0 "release add --file on a plain blob: digest only" -- tg --json release add acme boot 3.0 --file plain.bin --reason r
printf '%s' "$LAST_OUT" | jq -e 'has("references") | not' >/dev/null && ok "plain blob: no measurements" || bad "plain refs"
n=$(tg --json reference list --release acme/boot/2.0 | jq length); m=$(tg --json reference list | jq length)
[ "$n" -eq 9 ] && [ "$m" -gt "$n" ] && ok "reference list --release shows that release only ($n of $m)" || bad "reference list --release: $n of $m"
expect 0 "audit chain intact" -- tg audit verify
