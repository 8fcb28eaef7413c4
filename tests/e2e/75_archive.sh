#!/bin/bash
# Vendor packages (first part): archives with a detached signature, in every
# format, each with its forged twin; and the unsafe-content cases of THREATS
# section A built with the real tools or byte by byte.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/ustar.sh"
setup_supplier
genkey k rsa3072
tg key add acme k.pub --purpose package --reason "package signing" >/dev/null
genkey fwk p256
tg key add acme fwk.pub --purpose firmware --reason "firmware only" >/dev/null
tg product add acme app --kind package --reason r >/dev/null
mkdir -p pkg/bin pkg/etc && echo "#!/bin/sh" > pkg/bin/app && echo "conf=1" > pkg/etc/app.conf
head -c 100000 /dev/urandom > pkg/lib.bin

signed() { sign k "$1" "$1.sig" sha384; }
ok_pkg() { # NAME FILE
	signed "$2"
	check_ok "$1 approved" -- "$2" --sig "$2.sig" --product app --version 1.0
	printf '%s' "$LAST_OUT" | jq -e '.kind == "archive"' >/dev/null && ok "$1 detected as an archive by content" || bad "$1 kind"
	local n rc; n=$(stat -c %s "$2")
	flip "$2" $((n / 2)) "$2.flipped"
	# Uncompressed: the signature fails (exit 1).  Compressed: the stream
	# no longer decodes, which is malformed input (exit 2, one line).
	tg check "$2.flipped" --sig "$2.sig" --product app --version 1.0 >/dev/null 2>"$WORK/.stderr"; rc=$?
	if [ "$rc" -eq 1 ] || { [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORK/.stderr")" -eq 1 ] && grep -q "$2.flipped" "$WORK/.stderr"; }; then
		ok "$1 with a flipped byte refused (exit $rc)"
	else
		bad "$1 with a flipped byte (exit $rc)"
	fi
}
tar -cf p.tar -C pkg .; ok_pkg "tar" p.tar
tar -czf p.tgz -C pkg .; ok_pkg "tar.gz" p.tgz
tar -cJf p.txz -C pkg .; ok_pkg "tar.xz" p.txz
tar -cjf p.tbz -C pkg .; ok_pkg "tar.bz2" p.tbz
tar -cf - -C pkg . | zstd -q > p.tzst; ok_pkg "tar.zst" p.tzst
tar --format=pax -cf p.pax -C pkg .; ok_pkg "pax tar" p.pax
(cd pkg && zip -qr ../p.zip .); ok_pkg "zip" p.zip
(cd pkg && find . | cpio -o -H newc --quiet > ../p.cpio); ok_pkg "cpio newc" p.cpio
(cd pkg && find . | cpio -o -H odc --quiet > ../p.odc); ok_pkg "cpio odc" p.odc
(cd pkg && ar rc ../p.a bin/app etc/app.conf lib.bin); ok_pkg "ar" p.a
mkdir -p deb/DEBIAN deb/usr/bin && cp pkg/bin/app deb/usr/bin/app
printf 'Package: app\nVersion: 1.0\nArchitecture: all\nMaintainer: acme <a@acme.invalid>\nDescription: test\n' > deb/DEBIAN/control
dpkg-deb --build --root-owner-group deb p.deb >/dev/null 2>&1; ok_pkg "deb (ar with control.tar and data.tar)" p.deb
tg --json check p.deb --sig p.deb.sig --product app --version 1.0 | jq -e '[.components[] | select(.kind == "archive" and .verdict == "approved")] | length == 2' >/dev/null \
	&& ok "deb: control.tar and data.tar walked as nested archives" || bad "deb components: $(printf '%s' "$LAST_OUT" | jq -c .components)"
sign fwk p.tar p.tar.fwsig sha256
check_reason KEY_PURPOSE "package signed with a firmware-only key: KEY_PURPOSE" -- p.tar --sig p.tar.fwsig --product app --version 1.0

unsafe() { # CODE NAME ARCHIVE [tier]
	signed "$3"
	check_reason "$1" "$2: $1" -- "$3" --sig "$3.sig" --product app --version 1.0 --tier "${4:-3}"
}
# Case 1/2: traversal and absolute paths, in tar, zip and cpio.
tar -cf t1.tar --transform 's|^|../../|' -C pkg etc/app.conf 2>/dev/null; unsafe ARCHIVE_UNSAFE_PATH "tar ../../x" t1.tar 1
tar -cf t2.tar --transform 's|^|a/../../|' -C pkg etc/app.conf 2>/dev/null; unsafe ARCHIVE_UNSAFE_PATH "tar a/../../x" t2.tar 1
tar -cPf t3.tar "$PWD/pkg/etc/app.conf"; unsafe ARCHIVE_UNSAFE_PATH "tar absolute path" t3.tar 1
(cd pkg && bsdtar --format zip -cf ../t4.zip -s ',^,../,' etc/app.conf); unsafe ARCHIVE_UNSAFE_PATH "zip ../x" t4.zip 1
(cd pkg && bsdtar --format newc -cf ../t5.cpio -s ',^,../../,' etc/app.conf); unsafe ARCHIVE_UNSAFE_PATH "cpio ../../x" t5.cpio 1
# Backslashes and drive letters separate and root paths where zips are
# unpacked (Windows); in a tar they are characters of a name (systemd ships
# "system-systemd\x2dcryptsetup.slice").
python3 -c 'import zipfile; z = zipfile.ZipFile("t6.zip", "w"); z.writestr("C:\\windows\\x", "data"); z.close()'
unsafe ARCHIVE_UNSAFE_PATH "zip member named C:\windows\x" t6.zip 1
python3 -c 'import zipfile; z = zipfile.ZipFile("t6b.zip", "w"); z.writestr("..\\..\\x", "data"); z.close()'
unsafe ARCHIVE_UNSAFE_PATH "zip member named ..\..\x" t6b.zip 1
: > t6.tar; ustar_entry t6.tar 'lib/systemd/system/system-systemd\x2dcryptsetup.slice' 0 644 data; ustar_end t6.tar; signed t6.tar
check_ok "tar member with a backslash in its name (systemd unit escapes): approved" -- t6.tar --sig t6.tar.sig --product app --version 1.0
# Case 3: a link is content the signer shipped (Debian Policy 10.5 asks for
# absolute ones: /sbin/init -> /lib/systemd/systemd); what a link makes
# dangerous is writing through it while unpacking.  Links are listed in the
# verdict's inventory for the reviewer; the write-through twins are refused.
mkdir -p ln && ln -sf ../../etc/passwd ln/pw && tar -cf t7.tar -C ln pw; signed t7.tar
check_ok "symlink leaving the archive: approved at tier 3" -- t7.tar --sig t7.tar.sig --product app --version 1.0
printf '%s' "$LAST_OUT" | jq -e '.inventory == [{"path": "pw", "type": "symlink", "target": "../../etc/passwd", "leaves_package": true}]' >/dev/null \
	&& ok "symlink leaving the archive: listed in the inventory" || bad "inventory: $(printf '%s' "$LAST_OUT" | jq -c .inventory)"
ln -sf /etc ln/abs && tar -cf t8.tar -C ln abs; signed t8.tar
check_ok "absolute symlink: approved at tier 3" -- t8.tar --sig t8.tar.sig --product app --version 1.0
tg check t8.tar --sig t8.tar.sig --product app --version 1.0 | grep -q "inventory 1 symlinks (1 absolute or leaving the package)" \
	&& ok "absolute symlink: counted in the text report" || bad "absolute symlink: text report"
: > t9.tar; ustar_entry t9.tar d 2 777 "" sub; ustar_entry t9.tar sub/ 5 755 ""; ustar_entry t9.tar d/file 0 644 evil; ustar_end t9.tar
unsafe ARCHIVE_UNSAFE_PATH "member written through a symlink" t9.tar 1
: > t9b.tar; ustar_entry t9b.tar etc 2 777 "" /etc; ustar_entry t9b.tar etc/cron.d/x 0 644 evil; ustar_end t9b.tar
unsafe ARCHIVE_UNSAFE_PATH "member written through an absolute symlink" t9b.tar 1
mkdir -p ln2/sub && echo x > ln2/sub/f && ln -sf sub ln2/in && tar -cf t10.tar -C ln2 sub in; signed t10.tar
check_ok "symlink inside the archive at tier 3" -- t10.tar --sig t10.tar.sig --product app --version 1.0
: > t10b.tar; ustar_entry t10b.tar l 2 777 "" "$(printf 'a\x01b')"; ustar_end t10b.tar
unsafe ARCHIVE_UNSAFE_PATH "symlink target with a control byte" t10b.tar 1
# Case 4: hard links with data, outside, to themselves.
: > t11.tar; ustar_entry t11.tar a 0 644 x; ustar_entry t11.tar hl 1 644 "" ../outside/sentinel; ustar_end t11.tar
unsafe ARCHIVE_UNSAFE_PATH "hard link to a path outside" t11.tar 1
: > t12.tar; ustar_entry t12.tar a 0 644 x; ustar_entry t12.tar hl 1 644 "data" a; ustar_end t12.tar
signed t12.tar; out=$(tg --json check t12.tar --sig t12.tar.sig --tier 1 2>"$WORK/.stderr"); rc=$?
{ [ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[].code] | index("ARCHIVE_UNSAFE_PATH") != null' >/dev/null; } ||
	{ [ "$rc" -eq 2 ] && grep -q "t12.tar: malformed archive" "$WORK/.stderr"; } \
	&& ok "hard link carrying data refused (exit $rc)" || bad "hard link carrying data (exit $rc)"
: > t13.tar; ustar_entry t13.tar self 1 644 "" self; ustar_end t13.tar; unsafe ARCHIVE_UNSAFE_PATH "hard link to itself" t13.tar 1
# Case 5/6: duplicates, also after normalisation, case folding and type change.
: > t14.tar; ustar_entry t14.tar payload.bin 0 644 BENIGN; ustar_entry t14.tar payload.bin 0 644 EVIL; ustar_end t14.tar
unsafe ARCHIVE_DUPLICATE "the same name twice" t14.tar 1
printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] | index("ARCHIVE_DUPLICATE") != null' >/dev/null && ok "duplicate: reported" || bad "duplicate"
: > t15.tar; ustar_entry t15.tar ./x 0 644 a; ustar_entry t15.tar x 0 644 b; ustar_end t15.tar; unsafe ARCHIVE_DUPLICATE "./x and x" t15.tar 1
: > t16.tar; ustar_entry t16.tar README 0 644 a; ustar_entry t16.tar readme 0 644 b; ustar_end t16.tar; signed t16.tar; check_ok "README and readme in a tar (unpacked on Linux, where case matters): approved" -- t16.tar --sig t16.tar.sig --product app --version 1.0
mkdir -p cz && echo a > cz/README && echo b > cz/readme && (cd cz && bsdtar --format zip -cf ../t16.zip README readme)
unsafe ARCHIVE_DUPLICATE "README and readme in a zip (unpacked where case folds)" t16.zip 1
: > t17.tar; ustar_entry t17.tar d/ 5 777 ""; ustar_entry t17.tar d 2 777 "" /etc; ustar_end t17.tar; unsafe ARCHIVE_DUPLICATE "directory then symlink of the same path" t17.tar 1
: > t18.tar; ustar_entry t18.tar "$(printf 'caf\xcc\x81')" 0 644 a; ustar_end t18.tar; unsafe ARCHIVE_UNSAFE_PATH "NFD name (combining accent)" t18.tar 1
bsdtar --format zip -cf t19.zip -C pkg etc/app.conf etc/app.conf 2>/dev/null; unsafe ARCHIVE_DUPLICATE "zip with the same member twice" t19.zip 1
# Special files and setuid.
: > t20.tar; ustar_entry t20.tar dev 3 644 ""; ustar_end t20.tar; unsafe ARCHIVE_SPECIAL_FILE "character device" t20.tar 1
: > t21.tar; ustar_entry t21.tar fifo 6 644 ""; ustar_end t21.tar; unsafe ARCHIVE_SPECIAL_FILE "FIFO" t21.tar 1
: > t22.tar; ustar_entry t22.tar su 0 4755 "#!/bin/sh"; ustar_end t22.tar; unsafe ARCHIVE_SETUID "setuid member at tier 3" t22.tar 3
signed t22.tar; check_ok "setuid member at tier 2 (warning only)" -- t22.tar --sig t22.tar.sig --tier 2
printf '%s' "$LAST_OUT" | jq -e '.inventory == [{"path": "su", "type": "file", "target": null, "mode": "4755"}]' >/dev/null \
	&& ok "setuid member listed in the inventory" || bad "setuid inventory: $(printf '%s' "$LAST_OUT" | jq -c .inventory)"
tg product add acme suapp --kind package --allow setuid --reason "reviewed: ships a setuid helper" >/dev/null
check_ok "setuid member at tier 3 when the product record allows setuid" -- t22.tar --sig t22.tar.sig --product suapp --version 1.0
unsafe ARCHIVE_SETUID "setuid member at tier 3 for a product that does not allow it" t22.tar 3
expect 0 "product set --allow none" -- tg product set acme suapp --allow none --reason "helper dropped"
check_reason ARCHIVE_SETUID "setuid refused again after the allowance is withdrawn" -- t22.tar --sig t22.tar.sig --product suapp --version 1.0
bad_input "product set --allow with an unknown allowance" "--allow 'devices'" -- tg product set acme suapp --allow devices --reason x
db_sql "UPDATE product SET allow = 'setuid' WHERE name = 'suapp'"
check_reason RECORD_TAMPERED "an allowance written with sqlite3: RECORD_TAMPERED" -- t22.tar --sig t22.tar.sig --product suapp --version 1.0
db_sql "UPDATE product SET allow = NULL WHERE name = 'suapp'"
# Case 9: a decompression bomb stops at the ratio budget, memory bounded.
head -c 300000000 /dev/zero > zeros && tar -cf - zeros | zstd -q -3 > bomb.tzst && rm zeros
signed bomb.tzst
/usr/bin/time -f %M -o bomb.rss "$TG_BIN" --json check bomb.tzst --sig bomb.tzst.sig --tier 1 > bomb.json 2>/dev/null
jq -e '[.reasons[].code] | index("ARCHIVE_LIMIT") != null' bomb.json >/dev/null && ok "zstd bomb: ARCHIVE_LIMIT" || bad "zstd bomb: $(jq -c .reasons bomb.json)"
rss=$(tail -1 bomb.rss)
[ "$rss" -lt 65536 ] && ok "zstd bomb: peak memory $((rss / 1024)) MiB" || bad "zstd bomb memory $rss KiB"
# Nesting: depth 3 is walked, depth 4 is refused.
cp p.tar n1.tar; for i in 2 3 4 5; do tar -cf n$i.tar n$((i - 1)).tar; done
signed n4.tar; check_ok "archives nested 3 deep walked" -- n4.tar --sig n4.tar.sig --product app --version 1.0
# Deeper: the innermost container is a file of the one above, covered by its
# digest but not inspected (ARCHIVE_NESTED_OPAQUE: a warning below tier 3).
unsafe ARCHIVE_NESTED_OPAQUE "archives nested 4 deep: the deepest is not inspected" n5.tar 3
check_ok "archives nested 4 deep at tier 2 (warning only)" -- n5.tar --sig n5.tar.sig --product app --version 1.0 --tier 2
# Firmware inside a package is verified in full, as `check` verifies it alone.
mkdir -p fwpkg fwkeys && head -c 1000 /dev/urandom > bios.bin
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out fwkeys/fw.key 2>/dev/null
openssl req -batch -new -x509 -key fwkeys/fw.key -out fwkeys/fw.crt -subj /CN=fw 2>/dev/null
printf '/dts-v1/;\n/ { model = "ctl"; };\n' | dtc -I dts -O dtb -o ctl.dtb - 2>/dev/null
printf '/dts-v1/;\n/ { images { bios { data = /incbin/("bios.bin"); type = "firmware"; compression = "none"; hash-1 { algo = "sha256"; }; }; }; configurations { default = "c"; c { firmware = "bios"; signature-1 { algo = "sha256,rsa3072"; key-name-hint = "fw"; sign-images = "firmware"; }; }; }; };\n' > bios.its
mkimage -f bios.its -k fwkeys -K ctl.dtb -r fwpkg/bios.fit >/dev/null 2>&1
tg key add acme ctl.dtb --reason "firmware control DTB" >/dev/null
sed 's/ signature-1 {[^}]*};//' bios.its > unsigned.its; mkdir -p fwu && mkimage -f unsigned.its fwu/bios.fit >/dev/null 2>&1
tar -cf fwu.tar -C fwu bios.fit
unsafe COMPONENT_REJECTED "unsigned FIT inside a package" fwu.tar 1
printf '%s' "$LAST_OUT" | jq -e '.components[0].kind == "fit" and .components[0].verdict == "rejected" and (.components[0].reasons | index("FIT_UNSIGNED"))' >/dev/null \
	&& ok "component: FIT_UNSIGNED" || bad "unsigned component: $(printf '%s' "$LAST_OUT" | jq -c .components)"
tar -cf fw.tar -C fwpkg bios.fit
tg product add acme bios --kind firmware --reason r >/dev/null
unsafe COMPONENT_REJECTED "signed FIT of no approved release inside a package (tier 3: product unknown)" fw.tar 3
tg release add acme bios 2.0 --file fwpkg/bios.fit --reason "reviewed" >/dev/null
check_ok "signed, approved firmware inside a package" -- fw.tar --sig fw.tar.sig --product app --version 1.0
printf '%s' "$LAST_OUT" | jq -e '.components[0].kind == "fit" and .components[0].verdict == "approved"' >/dev/null && ok "component listed as approved fit" || bad "fit component"
# Its forged twin: one byte of the FIT's image changed, the package re-signed.
mkdir -p fwx && cp fwpkg/bios.fit fwx/bios.fit
off=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().find(open(sys.argv[2], "rb").read()[:64]))' fwpkg/bios.fit bios.bin)
flip fwpkg/bios.fit $((off + 10)) fwx/bios.fit; tar -cf fwx.tar -C fwx bios.fit
unsafe COMPONENT_REJECTED "FIT inside a package with a changed image byte (package re-signed)" fwx.tar 1
printf "%s" "$LAST_OUT" | jq -e ".components[0].reasons | index(\"FIT_HASH_MISMATCH\")" >/dev/null && ok "component: FIT_HASH_MISMATCH" || bad "fwx reasons: $(printf "%s" "$LAST_OUT" | jq -c .components)"
# A UEFI capsule inside a package.
openssl req -batch -x509 -sha256 -newkey rsa:3072 -nodes -keyout cap.key -out cap.crt -subj /CN=cap -days 3650 2>/dev/null
tg key add acme cap.crt --purpose firmware --reason "capsule signer" >/dev/null
tg product add acme uefi --kind firmware --guid 09d7cf52-0720-4710-91d1-08469b7fe9c8 --reason r >/dev/null
{ printf 'MSS1\x10\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00'; head -c 500 /dev/urandom; } > cap.bin
mkdir -p capk && mkeficapsule --private-key cap.key --certificate cap.crt --monotonic-count 1 --guid 09d7cf52-0720-4710-91d1-08469b7fe9c8 --index 1 cap.bin capk/fw.cap >/dev/null
tar -cf cap.tar -C capk fw.cap; signed cap.tar
check_ok "signed capsule inside a package (tier 2)" -- cap.tar --sig cap.tar.sig --product app --version 1.0 --tier 2
printf '%s' "$LAST_OUT" | jq -e '.components[0].kind == "capsule" and .components[0].verdict == "approved"' >/dev/null && ok "component listed as approved capsule" || bad "capsule component"
mkdir -p capu && mkeficapsule --guid 09d7cf52-0720-4710-91d1-08469b7fe9c8 --index 1 cap.bin capu/fw.cap >/dev/null
tar -cf capu.tar -C capu fw.cap
unsafe COMPONENT_REJECTED "unsigned capsule inside a package" capu.tar 2
# A full findings list: 70 setuid files (tier-3-only findings) before an
# absolute path (rejecting) at tier 1: the rejecting one is never crowded out.
rm -rf many && mkdir many && for i in $(seq 70); do echo x > "many/s$i"; chmod 4755 "many/s$i"; done
tar -cf many.tar -C many . && tar -rPf many.tar "$PWD/pkg/etc/app.conf"
unsafe ARCHIVE_UNSAFE_PATH "70 setuid files then an absolute path at tier 1: the absolute path still rejects" many.tar 1
printf '%s' "$LAST_OUT" | jq -e '[.warnings[].code] | index("ARCHIVE_FINDINGS") != null' >/dev/null && ok "the findings not listed are counted" || bad "many findings warning"
# Malformed archives.
head -c 300 p.tgz > cut.tgz; signed cut.tgz
bad_input "truncated tar.gz is malformed input" "cut.tgz: " -- tg check cut.tgz --sig cut.tgz.sig --tier 1
# Found by the walker fuzzer: a newc cpio header claiming a 4 GiB name.
# libarchive asks malloc for it; nothing is touched, memory stays small.
f=$ROOT/tests/fuzz/corpus/archive/regress-cpio-namesize-4GiB.cpio
/usr/bin/time -f %M -o rss.txt "$TG_BIN" check "$f" --sig p.tar.sig --tier 1 >/dev/null 2>err.txt; rc=$?
rss=$(tail -1 rss.txt)
# Under ASan the allocator poisons shadow memory for the request itself:
# the bound is a property of the product build, checked there.
if ldd "$TG_BIN" | grep -q libasan; then
	[ "$rc" -eq 2 ] && ok "cpio with a 4 GiB name size: exit 2 (memory bound not measured under ASan)" || bad "cpio with a 4 GiB name size (exit $rc)"
else
	[ "$rc" -eq 2 ] && [ "$rss" -lt 65536 ] && ok "cpio with a 4 GiB name size: exit 2, peak memory $((rss / 1024)) MiB" \
		|| bad "cpio with a 4 GiB name size (exit $rc, $rss KiB)"
fi
# deb(5) structure (THREATS case 11), built with ar from the real package's members.
mkdir -p debx && (cd debx && ar x ../p.deb)
ctl=$(cd debx && ls control.tar.*); dat=$(cd debx && ls data.tar.*)
deb_case() { # NAME CODE ar-members...
	local name=$1 code=$2; shift 2
	rm -f "dx.deb" && (cd debx && ar rc ../dx.deb "$@")
	signed dx.deb
	if [ "$code" = ok ]; then check_ok "$name" -- dx.deb --sig dx.deb.sig --product app --version 1.0
	else check_reason "$code" "$name: $code" -- dx.deb --sig dx.deb.sig --product app --version 1.0 --tier 1; fi
}
deb_case "deb rebuilt from its members in order" ok debian-binary "$ctl" "$dat"
deb_case "deb members out of order" DEB_MALFORMED debian-binary "$dat" "$ctl"
cp "debx/$dat" debx/data.tar; deb_case "deb with two data.tar members" DEB_MALFORMED debian-binary "$ctl" "$dat" data.tar
echo sig > debx/_gpgorigin; deb_case "deb with an extra _gpgorigin member" DEB_MALFORMED debian-binary "$ctl" "$dat" _gpgorigin
printf '3.0\n' > debx/debian-binary; deb_case "deb format 3.0" DEB_MALFORMED debian-binary "$ctl" "$dat"
# THREATS P6: one zip, two readings.  A local-only entry (extra.bin, EVIL)
# is prepended to a normal zip whose central directory lists only
# payload.bin; `zip -A` fixes the offsets, so unzip and libarchive's
# seekable reader see payload.bin alone, while a streaming reader sees both.
mkdir -p z && echo BENIGN > z/payload.bin && echo EVIL > z/extra.bin
(cd z && zip -q ../z1.zip payload.bin && zip -q ../z2.zip extra.bin)
size=$(stat -c %s z2.zip); cdoff=$(od -An -tu4 -j $((size - 6)) -N4 z2.zip | tr -d ' ')
head -c "$cdoff" z2.zip > local.bin && cat local.bin z1.zip > p6.zip && zip -qA p6.zip
unzip -l p6.zip 2>/dev/null | grep -q extra.bin && bad "p6.zip: unzip sees the local-only entry (test input wrong)" || ok "p6.zip: unzip lists only payload.bin"
unsafe ZIP_INCONSISTENT "zip whose local headers and central directory disagree (THREATS P6)" p6.zip 1
signed z1.zip; check_ok "the plain zip it was made from approved" -- z1.zip --sig z1.zip.sig --tier 1
# THREATS case 12: cpio edge cases, written byte by byte (tests/e2e/newc.sh).
. "$ROOT/tests/e2e/newc.sh"
echo aaa > c.a; echo bbbbbb > c.b; head -c 1000000 /dev/urandom > c.big
NEWC_OUT=c0.cpio; : > c0.cpio; newc_entry a 0100644 1 1 c.a; newc_entry b 0100644 2 1 c.b; newc_end
signed c0.cpio; check_ok "hand-made newc cpio approved (the writer is right)" -- c0.cpio --sig c0.cpio.sig --tier 1
NEWC_OUT=c1.cpio; : > c1.cpio; newc_entry a 0100644 7 2 c.a; newc_entry b 0100644 7 2 c.b; newc_end
bsdtar -tvf c1.cpio 2>/dev/null | grep -q "b link to a" && ok "c1.cpio: libarchive aliases b to a by (dev, ino)" || bad "c1.cpio test input"
unsafe ARCHIVE_UNSAFE_PATH "newc entries colliding on (dev, ino) alias an unrelated file" c1.cpio 1
NEWC_OUT=c2.cpio; : > c2.cpio; newc_entry a 0100644 1 1 c.a; newc_entry 'TRAILER!!!' 0120777 2 1 c.big; newc_entry hidden 0100644 3 1 c.b; newc_end
cpio -it < c2.cpio 2>/dev/null | grep -q hidden && bad "c2.cpio: GNU cpio reads past the fake trailer (test input wrong)" || ok "c2.cpio: GNU cpio stops at the symlink named TRAILER!!!"
bsdtar -tf c2.cpio 2>/dev/null | grep -q hidden && ok "c2.cpio: libarchive reads on to 'hidden'" || bad "c2.cpio: libarchive stops (test input wrong)"
# libarchive itself stops at this member or reads on, depending on whether
# its input buffers are contiguous (a mapped file) or reused (read()): both
# ways it is refused, as the member named like the trailer or as the data
# after the end that nobody walked.
signed c2.cpio; out=$(tg --json check c2.cpio --sig c2.cpio.sig --product app --version 1.0 --tier 1 2>/dev/null); rc=$?
[ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[].code] | (index("ARCHIVE_UNSAFE_PATH") != null) or (index("ARCHIVE_TRAILING_DATA") != null)' >/dev/null \
	&& ok "symlink named TRAILER!!! with a 1 MB body (readers disagree on the end): refused ($(printf '%s' "$out" | jq -r '[.reasons[].code] | join(",")'))" \
	|| bad "symlink named TRAILER!!! with a 1 MB body (exit $rc)"
NEWC_OUT=c4.cpio; : > c4.cpio; newc_entry a 0100644 1 1 c.a; newc_end; cat c4.cpio c4.cpio > c5.cpio
unsafe ARCHIVE_TRAILING_DATA "two cpio archives back to back under a detached signature (the second is not walked)" c5.cpio 1
{ cat c4.cpio; head -c 2048 /dev/zero; } > c6.cpio; signed c6.cpio
check_ok "twin: one cpio archive and zero padding" -- c6.cpio --sig c6.cpio.sig --product app --version 1.0
NEWC_OUT=c3.cpio; : > c3.cpio; newc_entry a 0100644 7 2 c.a; newc_entry '' 0100644 7 2; newc_end
unsafe ARCHIVE_UNSAFE_PATH "hard link entry with no pathname" c3.cpio 1
NEWC_OUT=c4.cpio; : > c4.cpio; newc_entry a 0100644 1 1 c.a; newc_entry l 0120777 2 1 c.big; newc_end
unsafe ARCHIVE_UNSAFE_PATH "symlink whose target is 1 MB of binary" c4.cpio 1
# GNU cpio's own hard links (data on the last entry of the group): refused,
# since the first name would be read as an empty file (README).
mkdir -p hlk && echo data > hlk/x && ln hlk/x hlk/y && (cd hlk && find . -type f | cpio -o -H newc --quiet > ../c5.cpio)
unsafe ARCHIVE_UNSAFE_PATH "cpio hard-link group (data carried by the last name)" c5.cpio 1
# THREATS case 7e: a self-extractor stub before the first local header
# (offsets fixed with zip -A, so unzip and both libarchive readers agree).
head -c 4000 /dev/urandom > stub.bin && cat stub.bin z1.zip > sfx.zip && zip -qA sfx.zip
unzip -l sfx.zip 2>/dev/null | grep -q payload.bin && ok "sfx.zip: unzip reads it (test input right)" || bad "sfx.zip test input"
unsafe ZIP_INCONSISTENT "zip with bytes before the first local header" sfx.zip 1
# ...and its twin: a blob that merely ends in an end-of-central-directory
# signature (no central directory behind it) stays a blob.
{ head -c 5000 /dev/urandom; printf 'PK\005\006'; head -c 18 /dev/zero; } > eocd.bin
signed eocd.bin; check_ok "blob ending in a bare PK\\5\\6 record: still a signed blob" -- eocd.bin --sig eocd.bin.sig --product app --version 1.0 --tier 1
printf '%s' "$LAST_OUT" | jq -e '.kind == "blob"' >/dev/null && ok "eocd.bin kind is blob" || bad "eocd.bin kind"
# THREATS case 8: two central-directory entries over one local entry (the
# overlap of Fifield-style zip bombs): b's record is pointed at a's data.
rm -rf ov && mkdir ov && echo AAAAAAAA > ov/a && echo BBBBBBBBBBBB > ov/b && (cd ov && zip -q ../ov.zip a b)
size=$(stat -c %s ov.zip); cdoff=$(od -An -tu4 -j $((size - 6)) -N4 ov.zip | tr -d ' ')
e2=$((cdoff + 46 + $(od -An -tu2 -j $((cdoff + 28)) -N2 ov.zip) + $(od -An -tu2 -j $((cdoff + 30)) -N2 ov.zip) + $(od -An -tu2 -j $((cdoff + 32)) -N2 ov.zip)))
printf '\0\0\0\0' | dd of=ov.zip bs=1 seek=$((e2 + 42)) conv=notrunc 2>/dev/null
[ "$(unzip -p ov.zip b 2>/dev/null)" = AAAAAAAA ] && ok "ov.zip: unzip extracts a's bytes as b (test input right)" || bad "ov.zip test input"
unsafe ZIP_INCONSISTENT "zip whose central directory points two entries at one local entry" ov.zip 1
