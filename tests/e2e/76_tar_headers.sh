#!/bin/bash
# THREATS case 10: tar header desynchronisation.  Every tar is read twice,
# by libarchive and by trustgate's own header scanner, and the member lists
# must agree; malformed or ambiguous headers are refused.  Good archives
# from every tar writer here (GNU tar in each format, bsdtar, git archive)
# pass; the forged ones are built byte by byte.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/ustar.sh"
setup_supplier
genkey k rsa3072
tg key add acme k.pub --purpose package --reason "package signing" >/dev/null
tg product add acme app --kind package --reason r >/dev/null

LONG=dir-$(printf 'x%.0s' $(seq 1 70))/sub-$(printf 'z%.0s' $(seq 1 60))/file-$(printf 'y%.0s' $(seq 1 40)).txt
mkdir -p "pkg/$(dirname "$LONG")" pkg/etc && echo "long" > "pkg/$LONG" && echo "conf=1" > pkg/etc/app.conf
ln -s "../$(dirname "$LONG")/$(basename "$LONG")" pkg/etc/longlink
head -c 70000 /dev/urandom > pkg/lib.bin

good() { # NAME FILE
	sign k "$2" "$2.sig" sha384
	check_ok "$1 approved" -- "$2" --sig "$2.sig" --product app --version 1.0 --tier 2
}
# Good twins: every tar dialect the real writers make, with names and link
# targets too long for the 100-byte fields (GNU L/K, pax path/linkpath,
# ustar prefix).
for f in gnu oldgnu posix; do
	tar --format=$f -cf "g-$f.tar" -C pkg . && good "GNU tar --format=$f (long name, long link target)" "g-$f.tar"
done
tar --format=ustar -cf g-ustar.tar -C pkg etc/app.conf lib.bin "$LONG"
tar -tvf g-ustar.tar | grep -q file-y && good "GNU tar --format=ustar (name split into prefix/name)" g-ustar.tar || bad "ustar input"
tar --format=v7 -cf g-v7.tar -C pkg etc/app.conf lib.bin && good "GNU tar --format=v7" g-v7.tar
tar --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,atime:=0 --xattrs -cf g-pax-opt.tar -C pkg . && good "GNU tar pax with extra keywords" g-pax-opt.tar
(cd pkg && bsdtar --format pax -cf ../b-pax.tar .) && good "bsdtar --format pax" b-pax.tar
(cd pkg && bsdtar --format gnutar -cf ../b-gnu.tar .) && good "bsdtar --format gnutar" b-gnu.tar
(cd pkg && bsdtar --format ustar -cf ../b-ustar.tar etc/app.conf lib.bin) && good "bsdtar --format ustar" b-ustar.tar
rm -rf repo && mkdir repo && cp pkg/etc/app.conf pkg/lib.bin repo/ && (cd repo && git init -q && git add . &&
	git -c user.name=t -c user.email=t@t.invalid commit -qm init && git archive --format=tar -o ../git.tar HEAD)
head -c 512 git.tar | grep -q pax_global_header && good "git archive (pax global header with the commit id)" git.tar ||
	bad "git archive made no global header"
tar --format=posix -czf g-pax.tgz -C pkg . && good "pax tar.gz (headers read after decompression)" g-pax.tgz

refuse() { # NAME FILE WHAT: a malformed top-level tar is bad input, exit 2
	sign k "$2" "$2.sig" sha384
	bad_input "$1: refused" "$3" -- tg check "$2" --sig "$2.sig" --product app --version 1.0 --tier 1
}
printf 'benign\n' > benign.txt
# An inner archive hidden as data: the header a lenient reader would find.
: > hidden.bin; tar_hdr hidden.bin evil.sh 0 6; printf 'evil!\n' > e.txt; tar_data hidden.bin e.txt

# TARmageddon (CVE-2025-62518): ustar size 0, pax size N.  libarchive uses
# the pax size, tar-rs used the ustar one and found evil.sh.
pax_rec size "$(stat -c %s hidden.bin)" > x1; : > t1.tar
tar_ext t1.tar x x1; tar_hdr t1.tar f.txt 0 0; tar_data t1.tar hidden.bin; ustar_end t1.tar
refuse "ustar size 0 with pax size 1024 (TARmageddon)" t1.tar "pax size 1024 but ustar size 0"
pax_rec size 0 > x2; : > t2.tar; tar_ext t2.tar x x2; tar_hdr t2.tar f.txt 0 1024; tar_data t2.tar hidden.bin; ustar_end t2.tar
refuse "pax size 0 with ustar size 1024" t2.tar "pax size 0 but ustar size 1024"
# pax header, then a GNU long name, then the file; and the other order.
pax_rec path pax-name.txt > x3; printf 'gnu-name.txt\0' > l3
: > t3.tar; tar_ext t3.tar x x3; tar_ext t3.tar L l3; tar_hdr t3.tar short.txt 0 7; tar_data t3.tar benign.txt; ustar_end t3.tar
refuse "pax path and GNU long name for one member" t3.tar "both pax and GNU long-name headers"
: > t4.tar; tar_ext t4.tar L l3; tar_ext t4.tar x x3; tar_hdr t4.tar short.txt 0 7; tar_data t4.tar benign.txt; ustar_end t4.tar
refuse "GNU long name, then a pax path" t4.tar "both pax and GNU long-name headers"
: > t5.tar; tar_ext t5.tar x x3; tar_ext t5.tar x x3; tar_hdr t5.tar short.txt 0 7; tar_data t5.tar benign.txt; ustar_end t5.tar
refuse "two pax headers for one member" t5.tar "two pax headers"
printf 'other.txt\0' > l6; : > t6.tar; tar_ext t6.tar L l3; tar_ext t6.tar L l6; tar_hdr t6.tar s.txt 0 7; tar_data t6.tar benign.txt; ustar_end t6.tar
refuse "two GNU long names for one member" t6.tar "two GNU long name headers"
printf 'a.txt\0hidden' > l7; : > t7.tar; tar_ext t7.tar L l7; tar_hdr t7.tar s.txt 0 7; tar_data t7.tar benign.txt; ustar_end t7.tar
refuse "GNU long name with bytes after its NUL" t7.tar "bytes after its NUL"
{ pax_rec path a.txt; pax_rec path b.txt; } > x8; : > t8.tar; tar_ext t8.tar x x8; tar_hdr t8.tar s.txt 0 7; tar_data t8.tar benign.txt; ustar_end t8.tar
refuse "pax path given twice" t8.tar "gives 'path' twice"
{ pax_rec path a.txt; pax_rec GNU.sparse.name b.txt; pax_rec GNU.sparse.size 7; } > x9
: > t9.tar; tar_ext t9.tar x x9; tar_hdr t9.tar s.txt 0 7; tar_data t9.tar benign.txt; ustar_end t9.tar
refuse "pax path and GNU.sparse.name disagree" t9.tar "GNU.sparse.name disagree"

# Malformed pax records: a length past the record, a missing '=', a
# leading zero, a missing newline, bytes after the last record.
malformed_pax() { # NAME RECORDS N [WHAT] (RECORDS "-": read from stdin)
	if [ "$2" = - ]; then cat > xm; else printf '%s' "$2" > xm; fi
	: > tm.tar; tar_ext tm.tar x xm; tar_hdr tm.tar s.txt 0 7; tar_data tm.tar benign.txt; ustar_end tm.tar
	cp tm.tar "tm-$3.tar"; refuse "malformed pax record: $1" "tm-$3.tar" "${4:-malformed pax record}"
}
malformed_pax "length too long" $'30 path=a.txt\n' 1
malformed_pax "length too short" $'5 path=a.txt\n' 2
malformed_pax "no '='" $'13 patha.txt\n' 3 "without 'keyword='"
malformed_pax "leading zero in the length" $'013 path=a.txt\n' 4
malformed_pax "no newline" $'13 path=a.txtX' 5
malformed_pax "bytes after the last record" $'13 path=a.txt\nJUNK' 6
malformed_pax "empty keyword" $'9 =a.txt\n' 7 "without 'keyword='"
malformed_pax "non-decimal size" $'12 size=1e3\n' 8 "not a decimal number"
malformed_pax "negative size" $'11 size=-7\n' 9 "not a decimal number"
pax_rec SCHILY.realsize 99999 | malformed_pax "keyword libarchive alone acts on (SCHILY.realsize)" - 10 "SCHILY.realsize"
pax_rec hdrcharset BINARY | malformed_pax "hdrcharset BINARY" - 11 "hdrcharset"
# A global header that renames every later member for GNU tar and is
# ignored by libarchive.
pax_rec path g.txt > xg; : > tg.tar; tar_ext tg.tar g xg; tar_hdr tg.tar s.txt 0 7; tar_data tg.tar benign.txt; ustar_end tg.tar
refuse "global pax header setting path" tg.tar "global pax header sets 'path'"

# Unknown typeflags: libarchive reads them as regular files; deb(5) calls
# them an error.  GNU tar's volume label, multivolume and dump-dir types
# and Solaris' X are refused the same way.
for t in Z V M N D X A; do
	: > "u$t.tar"; tar_hdr "u$t.tar" thing.bin "$t" 7; tar_data "u$t.tar" benign.txt; ustar_end "u$t.tar"
	refuse "typeflag '$t'" "u$t.tar" "unknown typeflag '$t'"
done
bsdtar -tf uZ.tar 2>/dev/null | grep -q thing.bin && ok "typeflag Z: libarchive alone would list it as a file" || bad "uZ input"

# Links, directories and devices with data: the data would be headers to
# one reader and content to another.
: > s1.tar; tar_hdr s1.tar link 2 1024 target.txt; tar_data s1.tar hidden.bin; ustar_end s1.tar
refuse "symlink with 1024 bytes of data" s1.tar "symlink header carrying 1024 bytes"
: > s2.tar; tar_hdr s2.tar d/ 5 1024; tar_data s2.tar hidden.bin; ustar_end s2.tar
refuse "directory with data" s2.tar "directory header carrying 1024 bytes"
: > s3.tar; tar_hdr s3.tar olddir/ 0 1024; tar_data s3.tar hidden.bin; ustar_end s3.tar
refuse "old-style directory (regular entry ending in /) with data" s3.tar "directory header carrying 1024 bytes"
: > s4.tar; tar_hdr s4.tar f.txt 0 7 other.txt; tar_data s4.tar benign.txt; ustar_end s4.tar
refuse "regular file carrying a link target" s4.tar "carrying a link target"

# Numeric fields: a size libarchive reads up to the first odd byte.
: > n1.tar; tar_hdr n1.tar a.txt 0 7; tar_data n1.tar benign.txt
tar_hdr n1.tar f.txt 0 0 "" posix "0000000001x "; tar_data n1.tar hidden.bin; ustar_end n1.tar
refuse "size field with a non-octal byte" n1.tar "malformed size field"

# Data after the end-of-archive block: only `tar --ignore-zeros` sees it.
: > e1.tar; tar_hdr e1.tar f.txt 0 7; tar_data e1.tar benign.txt; ustar_end e1.tar; cat hidden.bin >> e1.tar; ustar_end e1.tar
tar -i -tf e1.tar 2>/dev/null | grep -q evil.sh && ok "data after the end block: tar -i lists evil.sh (input right)" || bad "e1 input"
refuse "member after the end-of-archive block" e1.tar "data after the end-of-archive block"
# An extension header with no member after it.
: > e2.tar; tar_ext e2.tar x x3; ustar_end e2.tar
refuse "pax header followed by the end block" e2.tar "extension header with no member"

# Nested: the same forged tar inside a package.  As the xz'd data.tar of a
# .deb (what dpkg unpacks) it is ARCHIVE_MALFORMED at every tier; as a file
# the package merely carries, its contents are not inspected
# (ARCHIVE_NESTED_OPAQUE, rejecting from tier 3).
mkdir -p nest && cp uZ.tar nest/inner.tar && tar -cf n-outer.tar -C nest .
sign k n-outer.tar n-outer.tar.sig sha384
check_reason ARCHIVE_NESTED_OPAQUE "typeflag Z in a nested tar (a file of the package): ARCHIVE_NESTED_OPAQUE at tier 3" -- n-outer.tar --sig n-outer.tar.sig --product app --version 1.0
printf '%s' "$LAST_OUT" | jq -e '[.reasons[] | select(.code == "ARCHIVE_NESTED_OPAQUE") | .detail] | join(" ") | test("inner.tar.*unknown typeflag")' >/dev/null \
	&& ok "nested finding names the member and the typeflag" || bad "nested detail: $(printf '%s' "$LAST_OUT" | jq -c .reasons)"
check_ok "typeflag Z in a nested tar at tier 1: a warning (the container is covered as a file, not unpacked on install)" -- n-outer.tar --sig n-outer.tar.sig --product app --version 1.0 --tier 1
printf '%s' "$LAST_OUT" | jq -e '[.warnings[].code] | index("ARCHIVE_NESTED_OPAQUE") != null' >/dev/null \
	&& ok "nested unreadable tar listed as a warning at tier 1" || bad "nested warning: $(printf '%s' "$LAST_OUT" | jq -c .warnings)"
mkdir -p deb/DEBIAN deb/usr/bin && echo "#!/bin/sh" > deb/usr/bin/app
printf 'Package: app\nVersion: 1.0\nArchitecture: all\nMaintainer: acme <a@acme.invalid>\nDescription: test\n' > deb/DEBIAN/control
dpkg-deb -Zxz --build --root-owner-group deb good.deb >/dev/null 2>&1
sign k good.deb good.deb.sig sha384
check_ok "deb with data.tar.xz approved" -- good.deb --sig good.deb.sig --product app --version 1.0
rm -rf debx && mkdir debx && (cd debx && ar x ../good.deb && xz -dc data.tar.xz > data.tar &&
	: > bad.tar && tar_hdr bad.tar ./usr/bin/app Z 7 && tar_data bad.tar ../benign.txt && ustar_end bad.tar &&
	xz -c bad.tar > data.tar.xz && ar rc ../forged.deb debian-binary control.tar.* data.tar.xz)
sign k forged.deb forged.deb.sig sha384
check_reason ARCHIVE_MALFORMED "deb whose data.tar.xz has an unknown typeflag: ARCHIVE_MALFORMED" -- forged.deb --sig forged.deb.sig --product app --version 1.0
cp t1.tar nest/inner.tar && tar -czf n-mag.tgz -C nest . && sign k n-mag.tgz n-mag.tgz.sig sha384
check_reason ARCHIVE_NESTED_OPAQUE "TARmageddon tar inside a tar.gz: ARCHIVE_NESTED_OPAQUE" -- n-mag.tgz --sig n-mag.tgz.sig --product app --version 1.0
# Compressed at the top: the scanner reads the decompressed stream.
gzip -c e1.tar > e1.tgz; refuse "member after the end block, gzip-compressed" e1.tgz "data after the end-of-archive block"
zstd -q -c t1.tar > t1.tzst; refuse "TARmageddon, zstd-compressed" t1.tzst "pax size 1024 but ustar size 0"
