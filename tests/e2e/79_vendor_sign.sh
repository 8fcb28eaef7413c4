#!/bin/bash
# vendor sign: the supplier's side.  Keys from `openssl genpkey` (PKCS#8) of
# every type sign a copy of the package in its own format; `check` approves
# the copy, and every copy has forged twins that it rejects.
. "$(dirname "$0")/lib.sh"
setup_supplier
tg product add acme app --kind package --min-version 1.0 --reason r >/dev/null
for t in rsa2048 rsa3072 p256 p384 ed25519 sm2; do genkey "$t" "$t"; tg key add acme "$t.pub" --purpose package --reason "$t" >/dev/null; done
genkey stranger p256
mkdir -p pkg/bin pkg/etc && echo "#!/bin/sh" > pkg/bin/app && echo "conf=1" > pkg/etc/app.conf && head -c 300000 /dev/urandom > pkg/lib.bin
tar -cf in.tar -C pkg .

for t in rsa2048 rsa3072 p256 p384 ed25519 sm2; do
	expect 0 "vendor sign with a $t PKCS#8 key" -- tg vendor sign in.tar --key "$t.pem" --product app --version 1.2 --out "s-$t.tar"
	check_ok "$t-signed copy approved at tier 3" -- "s-$t.tar"
done
printf '%s' "$LAST_OUT" | jq -e '.product == "app" and .version == "1.2" and .supplier == "acme"' >/dev/null \
	&& ok "verdict names product, version and supplier from the signed manifest" || bad "verdict fields"
check_ok "SM2-signed copy (SM3 digests included) approved under --gm" -- s-sm2.tar --gm
check_reason GM_REQUIRED "P-256-signed copy under --gm: GM_REQUIRED" -- s-p256.tar --gm
expect 0 "vendor manifest reads the signed copy" -- tg --json vendor manifest s-sm2.tar
printf '%s' "$LAST_OUT" | jq -e '(.subject | length) == 3 and ([.subject[].digest.sm3] | all(length == 64)) and .predicate.supplier == "acme"' >/dev/null \
	&& ok "statement: 3 subjects, SM3 digests for the SM2 key" || bad "statement of the SM2 copy"
tar -tf s-p256.tar | tail -1 | grep -qx trustgate.intoto.jsonl && ok "manifest added as the last root member" || bad "manifest member name"
diff <(tar -tvf in.tar) <(tar -tvf s-p256.tar | grep -v trustgate.intoto.jsonl) >/dev/null && ok "members copied with their names, modes, owners and times" || bad "member metadata changed"
mkdir x && tar -xf s-p256.tar -C x && cmp x/lib.bin pkg/lib.bin && ok "member bytes copied exactly" || bad "member bytes"
tg vendor sign in.tar --key p256.pem --product app --version 1.2 --out again.tar >/dev/null 2>&1
# ECDSA signatures are randomised, Ed25519 ones are not: the same key and input give the same bytes.
tg vendor sign in.tar --key ed25519.pem --product app --version 1.2 --out e1.tar >/dev/null && tg vendor sign in.tar --key ed25519.pem --product app --version 1.2 --out e2.tar >/dev/null
cmp -s e1.tar e2.tar && ok "signing is deterministic apart from the signature itself" || bad "two Ed25519 signings differ"

# Every format the walker reads comes back in the same format.
(cd pkg && zip -qr ../in.zip .)
tar -czf in.tgz -C pkg .; tar -cJf in.txz -C pkg .; tar --zstd -cf in.tzst -C pkg .; tar -cjf in.tbz -C pkg .
tar --format=pax -cf in.pax -C pkg .; tar --format=gnu -cf in.gnu -C pkg .
(cd pkg && find . -type f | cpio -o -H newc --quiet > ../in.cpio)
(cd pkg && find . -type f | cpio -o -H odc --quiet > ../in.odc)
(cd pkg && ar qc ../in.a bin/app etc/app.conf lib.bin 2>/dev/null)
for f in in.zip:Zip in.tgz:gzip in.txz:XZ in.tzst:Zstandard in.tbz:bzip2 in.pax:POSIX in.gnu:POSIX in.cpio:cpio in.odc:cpio; do
	src=${f%%:*} kind=${f#*:}
	expect 0 "vendor sign $src" -- tg vendor sign "$src" --key p256.pem --product app --version 1.2 --out "s-$src"
	file -b "s-$src" | grep -qi "$kind" && ok "s-$src is still $kind ($(file -b "s-$src" | cut -c1-40))" || bad "s-$src format: $(file -b "s-$src")"
	check_ok "signed $src approved" -- "s-$src"
done

# Forged twins of signed copies.
mkdir t && tar -xf s-p256.tar -C t && echo "conf=evil" > t/etc/app.conf && tar -cf f1.tar -C t .
check_reason DIGEST_MISMATCH "member edited after vendor sign: DIGEST_MISMATCH" -- f1.tar
rm -rf t && mkdir t && tar -xf s-p256.tar -C t && echo x > t/bin/extra && tar -cf f2.tar -C t .
check_reason ARCHIVE_UNLISTED "member added after vendor sign: ARCHIVE_UNLISTED" -- f2.tar
rm -rf t && mkdir t && unzip -q s-in.zip -d t && rm t/lib.bin && (cd t && zip -qr ../f3.zip .)
check_reason ARCHIVE_MISSING "member removed from a signed zip: ARCHIVE_MISSING" -- f3.zip
tg vendor sign in.tar --key stranger.pem --supplier acme --product app --version 1.2 --out f4.tar >/dev/null
check_reason SIG_INVALID "signed with a key not in the records (--supplier acme): SIG_INVALID" -- f4.tar
tg vendor sign in.tar --key p256.pem --supplier other --product app --version 1.2 --out f5.tar >/dev/null
check_reason SUPPLIER_MISMATCH "predicate naming another supplier: SUPPLIER_MISMATCH" -- f5.tar
tg vendor sign in.tar --key p256.pem --product app --version 0.9 --out f6.tar >/dev/null
check_reason ROLLBACK "signed version below the product floor: ROLLBACK" -- f6.tar
tg key revoke "$(fpr rsa3072.pub)" --reason "e2e" >/dev/null
check_reason KEY_REVOKED "copy signed with a key revoked since: KEY_REVOKED" -- s-rsa3072.tar

# What vendor sign refuses (exit 2, nothing written).
bad_sign() { # NAME OUTFILE ARGS...
	local name=$1 out=$2; shift 2
	expect 2 "$name" -- tg vendor sign "$@" --out "$out"
	[ -e "$out" ] && bad "$name: $out written" || ok "$name: nothing written"
	ls "$out".* >/dev/null 2>&1 && bad "$name: temporary file left" || true
}
bad_sign "refuses an archive that already has a manifest" r1.tar s-p256.tar --key p256.pem --product app --version 1.2
openssl pkey -in p256.pem -aes256 -passout pass:x -out enc.pem 2>/dev/null
bad_sign "refuses an encrypted private key" r2.tar in.tar --key enc.pem --product app --version 1.2
bad_sign "refuses a public key as the private key" r3.tar in.tar --key p256.pub --product app --version 1.2
# A P-256 key whose public point is another key's (d and Q disagree).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.pem && openssl pkey -in other.pem -pubout -outform DER -out other.der
openssl pkey -in p256.pem -outform DER -out p256.der
{ head -c -65 p256.der; tail -c 65 other.der; } > mism.der && openssl pkey -inform DER -in mism.der -out mism.pem
bad_sign "refuses a private key inconsistent with its public key" r11.tar in.tar --key mism.pem --product app --version 1.2
grep -q "inconsistent with its public key" <<<"$LAST_ERR" && ok "the refusal names the inconsistency" || bad "mismatch message: $LAST_ERR"
openssl genpkey -algorithm ED448 -out ed448.pem 2>/dev/null
bad_sign "refuses an Ed448 key" r4.tar in.tar --key ed448.pem --product app --version 1.2
head -c 2000 /dev/urandom > junk.bin
bad_sign "refuses a file that is not an archive" r5.tar junk.bin --key p256.pem --product app --version 1.2
mkdir -p u && echo x > u/a && ln -sf a u/link && tar -cf unsafe.tar -C u . && tar -rPf unsafe.tar /etc/hostname 2>/dev/null
bad_sign "refuses an archive with an absolute path" r6.tar unsafe.tar --key p256.pem --product app --version 1.2
bad_sign "refuses a bad version" r7.tar in.tar --key p256.pem --product app --version "1.2;rm"
bad_sign "refuses a key of no supplier without --supplier" r8.tar in.tar --key stranger.pem --product app --version 1.2
expect 2 "refuses a missing --out" -- tg vendor sign in.tar --key p256.pem --product app --version 1.2
expect 2 "refuses an empty --out" -- tg vendor sign in.tar --key p256.pem --product app --version 1.2 --out ""
echo "2.0" > debian-binary && echo c > c && echo d > d && tar -czf control.tar.gz c && tar -cJf data.tar.xz d && ar qc pkg.deb debian-binary control.tar.gz data.tar.xz 2>/dev/null
bad_sign "refuses a .deb (fixed member list; sign it detached)" r9.deb pkg.deb --key p256.pem --product app --version 1.2
grep -q "sign it detached" <<<"$LAST_ERR" && ok "the .deb refusal says what to do instead" || bad "deb message: $LAST_ERR"
bad_sign "refuses a plain ar archive (no room for a member after the name table; sign it detached)" r10.a in.a --key p256.pem --product app --version 1.2

# Links: vendor sign lists them with their targets (annotations
# trustgate.link/trustgate.target, digest of the target), so a listed link
# that stays inside passes at tier 3; any change to a link is caught.
. "$ROOT/tests/e2e/dsse.sh"
mkdir -p lk/lib lk/bin && echo so > lk/lib/libx.so.1 && ln -s libx.so.1 lk/lib/libx.so && echo app > lk/bin/app && ln lk/bin/app lk/bin/app2
tar -cf links.tar -C lk .
check_reason SIG_MISSING "unsigned package with links: SIG_MISSING" -- links.tar
expect 0 "vendor sign lists a symlink and a hard link" -- tg vendor sign links.tar --key p256.pem --product app --version 1.2 --out s-links.tar
check_ok "listed links staying inside: approved at tier 3" -- s-links.tar
tg --json vendor manifest s-links.tar > st.json
jq -e '[.subject[] | select(.name == "lib/libx.so")] | length == 1' st.json >/dev/null && ok "the symlink is a subject" || bad "symlink subject"
tar -xOf s-links.tar trustgate.intoto.jsonl | jq -r .payload | base64 -d > links.st
jq -e '.subject[] | select(.name == "lib/libx.so") | .annotations["trustgate.link"] == "symlink" and .annotations["trustgate.target"] == "libx.so.1"' links.st >/dev/null \
	&& ok "symlink annotations name type and target" || bad "symlink annotations"
jq -e --arg h "$(printf %s libx.so.1 | sha256sum | cut -d' ' -f1)" '.subject[] | select(.name == "lib/libx.so") | .digest.sha256 == $h' links.st >/dev/null \
	&& ok "symlink digest is SHA-256 of its target" || bad "symlink digest"
jq -e '.subject[] | select(.name == "bin/app2") | .annotations["trustgate.link"] == "hardlink" and .annotations["trustgate.target"] == "bin/app"' links.st >/dev/null \
	&& ok "hard link annotations name type and target" || bad "hard link annotations"
expect 0 "SM2 vendor sign of the links package" -- tg vendor sign links.tar --key sm2.pem --product app --version 1.2 --out s-links-gm.tar
check_ok "listed links under --gm (SM3 digests of targets)" -- s-links-gm.tar --gm

# Forged twins.
rm -rf t && mkdir t && tar -xf s-links.tar -C t && ln -sfn ../bin/app t/lib/libx.so && tar -cf fl1.tar -C t .
check_reason DIGEST_MISMATCH "symlink repointed after signing: DIGEST_MISMATCH" -- fl1.tar
rm -rf t && mkdir t && tar -xf s-links.tar -C t && ln -s libx.so.1 t/lib/libx.so.2 && tar -cf fl2.tar -C t .
check_reason ARCHIVE_UNLISTED "symlink added after signing: ARCHIVE_UNLISTED" -- fl2.tar
rm -rf t && mkdir t && tar -xf s-links.tar -C t && rm t/lib/libx.so && echo so > t/lib/libx.so && tar -cf fl3.tar -C t .
check_reason DIGEST_MISMATCH "listed symlink replaced by a file: DIGEST_MISMATCH" -- fl3.tar
rm -rf t && mkdir t && tar -xf s-links.tar -C t && rm t/bin/app2 && ln t/lib/libx.so.1 t/bin/app2 && tar -cf fl4.tar -C t .
check_reason DIGEST_MISMATCH "hard link retargeted after signing: DIGEST_MISMATCH" -- fl4.tar
# A statement whose link annotation names another target than its digest.
jq -c '(.subject[] | select(.name == "lib/libx.so") | .annotations["trustgate.target"]) = "../bin/app"' links.st > bad.st
rm -rf t && mkdir t && tar -xf s-links.tar -C t && envelope bad.st p256 > t/trustgate.intoto.jsonl && tar -cf fl5.tar -C t .
check_reason MANIFEST_INVALID "link annotation disagreeing with its digest: MANIFEST_INVALID" -- fl5.tar
jq -c '(.subject[] | select(.name == "lib/libx.so") | .annotations.extra) = "x"' links.st > bad2.st
rm -rf t && mkdir t && tar -xf s-links.tar -C t && envelope bad2.st p256 > t/trustgate.intoto.jsonl && tar -cf fl6.tar -C t .
check_reason MANIFEST_INVALID "unknown annotation key: MANIFEST_INVALID" -- fl6.tar
# A hand-made manifest (files only) on a package with links: the links are unsigned.
rm -rf t && cp -r lk t && manifest t p256 acme app 1.2 > t/trustgate.intoto.jsonl && tar -cf fl7.tar -C t .
check_reason ARCHIVE_UNLISTED "links missing from a manifest: ARCHIVE_UNLISTED" -- fl7.tar --tier 2
