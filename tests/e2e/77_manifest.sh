#!/bin/bash
# Embedded manifests: a DSSE envelope with an in-toto Statement v1 at the
# archive root signs the package's members (built here with openssl and
# jq).  Each good package has forged twins.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/dsse.sh"
setup_supplier
tg product add acme app --kind package --min-version 1.0 --reason r >/dev/null
for t in rsa2048 p256 ed25519 sm2; do genkey "$t" "$t"; tg key add acme "$t.pub" --purpose package --reason "$t" >/dev/null; done
genkey stranger p256
mkdir -p pkg/bin pkg/etc && echo "#!/bin/sh" > pkg/bin/app && echo "conf=1" > pkg/etc/app.conf && head -c 5000 /dev/urandom > pkg/lib.bin

pack() { # DIR OUT: tar with the manifest at the root
	tar -cf "$2" -C "$1" .
}
for t in rsa2048 p256 ed25519 sm2; do
	rm -rf p && cp -r pkg p && manifest p "$t" acme app 1.2 > p/trustgate.intoto.jsonl && pack p "m-$t.tar"
	check_ok "manifest signed with $t: approved at tier 3 (product and version from the manifest)" -- "m-$t.tar"
	printf '%s' "$LAST_OUT" | jq -e '.product == "app" and .version == "1.2" and .supplier == "acme"' >/dev/null \
		&& ok "$t: verdict names product, version and supplier from the manifest" || bad "$t: verdict fields"
done
rm -rf p && cp -r pkg p && manifest p sm2 acme app 1.2 sm3 > p/trustgate.intoto.jsonl && pack p m-gm.tar
check_ok "GM profile: SM2 manifest with SM3 digests approved" -- m-gm.tar --gm
check_reason DIGEST_MISMATCH "GM profile: SM2 manifest without SM3 digests" -- m-sm2.tar --gm
check_reason GM_REQUIRED "GM profile: RSA manifest" -- m-rsa2048.tar --gm
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl && (cd p && zip -qr ../m.zip .)
check_ok "zip with a manifest approved" -- m.zip
tar -czf m.tgz -C p .; check_ok "tar.gz with a manifest approved" -- m.tgz
expect 0 "vendor manifest prints the statement" -- tg --json vendor manifest m-p256.tar
printf '%s' "$LAST_OUT" | jq -e '(.subject | length) == 3 and .predicate.product == "app"' >/dev/null && ok "statement lists 3 subjects" || bad "vendor manifest output"

# Forged twins.
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl
echo "conf=evil" > p/etc/app.conf && pack p f1.tar
check_reason DIGEST_MISMATCH "member changed after signing: DIGEST_MISMATCH" -- f1.tar
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl
echo evil > p/bin/extra && pack p f2.tar
check_reason ARCHIVE_UNLISTED "member added after signing: ARCHIVE_UNLISTED" -- f2.tar
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl
rm p/lib.bin && pack p f3.tar
check_reason ARCHIVE_MISSING "member removed after signing: ARCHIVE_MISSING" -- f3.tar
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl
jq -c '.payload = ("'"$(jq -r .payload p/trustgate.intoto.jsonl | base64 -d | sed 's/"1.2"/"9.9"/' | base64 -w0)"'")' p/trustgate.intoto.jsonl > x && mv x p/trustgate.intoto.jsonl && pack p f4.tar
check_reason SIG_INVALID "statement edited after signing (version 9.9): SIG_INVALID" -- f4.tar
rm -rf p && cp -r pkg p && manifest p stranger acme app 1.2 > p/trustgate.intoto.jsonl && pack p f5.tar
check_reason SIG_INVALID "manifest signed by a key not in the records: SIG_INVALID (no key of acme verifies)" -- f5.tar
rm -rf p && cp -r pkg p && manifest p p256 othersupplier app 1.2 > p/trustgate.intoto.jsonl && pack p f6.tar
check_reason SUPPLIER_MISMATCH "manifest naming another supplier: SUPPLIER_MISMATCH" -- f6.tar
check_reason MANIFEST_MISMATCH "--version contradicting the manifest: MANIFEST_MISMATCH" -- m-p256.tar --version 1.3
rm -rf p && cp -r pkg p && manifest p p256 acme app 0.9 > p/trustgate.intoto.jsonl && pack p f7.tar
check_reason ROLLBACK "manifest version below the floor: ROLLBACK" -- f7.tar
rm -rf p && cp -r pkg p && { manifest p p256 acme app 1.2; manifest p p256 acme app 1.2; } > p/trustgate.intoto.jsonl && pack p f8.tar
check_reason MANIFEST_INVALID "two envelopes in the manifest: MANIFEST_INVALID" -- f8.tar
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > "$WORK/st.line" && jq -r .payload "$WORK/st.line" | base64 -d > "$WORK/st.json" && envelope "$WORK/st.json" p256 "text/plain" > p/trustgate.intoto.jsonl && pack p f9.tar
check_reason MANIFEST_INVALID "other payloadType: MANIFEST_INVALID" -- f9.tar
tar -cf f10.tar -C pkg .
check_reason SIG_MISSING "package with neither manifest nor --sig: SIG_MISSING" -- f10.tar
rm -rf p && cp -r pkg p && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl && mkdir -p q && cp -r p q/inner && manifest p p256 acme app 1.2 > q/inner/x && tar -cf f11.tar -C p . -C ../q .
check_reason ARCHIVE_UNLISTED "member outside the signed set (second tree): ARCHIVE_UNLISTED" -- f11.tar
# Members larger than one read block (64 KiB and more), and a change deep
# inside one (a reader that lost part of a block once approved nothing).
rm -rf p && cp -r pkg p && head -c 300000 /dev/urandom > p/big.bin && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl && pack p big.tar
check_ok "manifest over a 300 KB member approved" -- big.tar
flip p/big.bin 200000 big.flipped && mv big.flipped p/big.bin; pack p big2.tar
check_reason DIGEST_MISMATCH "a byte changed 200 KB into a large member: DIGEST_MISMATCH" -- big2.tar
# Sparse members (GNU tar --sparse): holes, including a trailing one, are
# part of the member's bytes exactly as an extractor writes them.
rm -rf p && mkdir p && echo head > p/sparse.img && truncate -s 300000 p/sparse.img && printf tail >> p/sparse.img && truncate -s 600000 p/sparse.img
echo small > p/a.txt && manifest p p256 acme app 1.2 > p/trustgate.intoto.jsonl
tar --sparse --format=gnu -cf sp.tar -C p . && tar --sparse --format=pax -cf sp.pax -C p .
tar -tvf sp.tar | grep -q sparse.img && ok "sparse tar made" || bad "sparse tar"
check_ok "GNU sparse member with holes (trailing hole included) approved" -- sp.tar
check_ok "pax sparse member approved" -- sp.pax
rm -rf p2 && mkdir p2 && cp p/a.txt p2/ && echo head > p2/sparse.img && truncate -s 300000 p2/sparse.img && printf tai1 >> p2/sparse.img && truncate -s 600000 p2/sparse.img
cp p/trustgate.intoto.jsonl p2/ && tar --sparse --format=gnu -cf sp2.tar -C p2 .
check_reason DIGEST_MISMATCH "sparse member changed after signing: DIGEST_MISMATCH" -- sp2.tar
# A tar inside a tar, larger than any read block, listed by its digest.
rm -rf p && cp -r pkg p && head -c 700000 /dev/urandom > p/lib.bin && tar -cf inner.tar -C p . && rm -rf nq && mkdir nq && mv inner.tar nq/ && echo x > nq/readme
manifest nq p256 acme app 1.2 > nq/trustgate.intoto.jsonl && tar -cf nest.tar -C nq .
check_ok "nested 700 KB tar member: digest of every byte approved" -- nest.tar
