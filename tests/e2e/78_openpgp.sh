#!/bin/bash
# OpenPGP: supplier keys from `gpg --export` (binary and armored), detached
# signatures from `gpg --detach-sign` (binary and armored), verified by gpgv
# on the very bytes trustgate hashes.  Each good case has forged twins.
. "$(dirname "$0")/lib.sh"
command -v gpg >/dev/null && command -v gpgv >/dev/null || { skip "gpg/gpgv not installed"; exit 0; }
export GNUPGHOME=$WORK/gnupg; mkdir -m 700 "$GNUPGHOME"
g() { gpg --batch --no-tty --passphrase '' --pinentry-mode loopback "$@" 2>/dev/null; }
g --quick-gen-key "acme rsa <rsa@acme.invalid>" rsa3072 sign never
g --quick-gen-key "acme ed <ed@acme.invalid>" ed25519 sign never
g --quick-gen-key "acme p256 <p256@acme.invalid>" nistp256 sign never
g --quick-gen-key "mallory <m@evil.invalid>" rsa3072 sign never
g --quick-gen-key "acme weak <weak@acme.invalid>" rsa1024 sign never
fpr() { gpg --with-colons --fingerprint "$1" 2>/dev/null | awk -F: '/^fpr:/ {print tolower($10); exit}'; }
setup_supplier
tg product add acme app --kind package --reason r >/dev/null
g --export "acme rsa" > rsa.gpg
g --armor --export "acme ed" > ed.asc
g --export "acme p256" > p256.gpg
expect 0 "key add: binary gpg --export (RSA-3072)" -- tg --json key add acme rsa.gpg --reason "gpg key"
[ "$(printf '%s' "$LAST_OUT" | jq -r .fingerprint)" = "$(fpr 'acme rsa')" ] && ok "OpenPGP fingerprint recorded" || bad "OpenPGP fingerprint"
expect 0 "key add: armored gpg --export (Ed25519)" -- tg key add acme ed.asc --reason "gpg key"
expect 0 "key add: NIST P-256 OpenPGP key" -- tg key add acme p256.gpg --reason "gpg key"
g --export "acme weak" > weak.gpg
bad_input "RSA-1024 OpenPGP key refused" "weak.gpg" -- tg key add acme weak.gpg --reason r
g --export-secret-keys "acme rsa" > secret.gpg
bad_input "secret key export refused" "secret.gpg" -- tg key add acme secret.gpg --reason r

head -c 200000 /dev/urandom > fw.bin
g --detach-sign -u "acme rsa" -o fw.sig fw.bin
g --armor --detach-sign -u "acme ed" -o fw.asc fw.bin
g --detach-sign -u "acme p256" -o fw.p256.sig fw.bin
check_ok "binary detached signature (RSA) approved" -- fw.bin --sig fw.sig --tier 2
printf '%s' "$LAST_OUT" | jq -e --arg f "$(fpr 'acme rsa')" '.key.fingerprint == $f' >/dev/null && ok "signer named by its OpenPGP fingerprint" || bad "signer fingerprint"
check_ok "armored detached signature (Ed25519) approved" -- fw.bin --sig fw.asc --tier 2
check_ok "P-256 detached signature approved" -- fw.bin --sig fw.p256.sig --tier 2
mkdir -p pkg && echo a > pkg/a && tar -cf p.tar -C pkg . && g --detach-sign -u "acme rsa" -o p.tar.sig p.tar
check_ok "OpenPGP-signed package approved (gpgv reads the walked bytes)" -- p.tar --sig p.tar.sig --product app --version 1.0
flip fw.bin 100000 fw2.bin
check_reason KEY_UNKNOWN "flipped byte in the file: rejected" -- fw2.bin --sig fw.sig --tier 2
g --detach-sign -u "mallory" -o evil.sig fw.bin
check_reason KEY_UNKNOWN "signed by a key not in the records: KEY_UNKNOWN" -- fw.bin --sig evil.sig --tier 2
echo "small payload" > small.txt && g --armor --sign -u "acme rsa" -o inline.asc small.txt
check_reason SIG_INVALID "inline-signed message given as .sig (THREATS 36a): SIG_INVALID" -- fw.bin --sig inline.asc --tier 2
cat fw.sig evil.sig > two.sig
signed_two=$(tg --json check fw.bin --sig two.sig --tier 2 2>/dev/null); rc=$?
[ "$rc" -ne 0 ] && ok "two concatenated signatures refused (exit $rc)" || bad "two signatures approved"
g --digest-algo SHA1 --detach-sign -u "acme rsa" -o sha1.sig fw.bin
check_reason WEAK_ALGORITHM "SHA-1 OpenPGP signature at tier 3: WEAK_ALGORITHM" -- fw.bin --sig sha1.sig --product app --version 1.0
tg key revoke "$(fpr 'acme ed')" --reason "lost" >/dev/null
check_reason KEY_REVOKED "revoked OpenPGP key: KEY_REVOKED" -- fw.bin --sig fw.asc --tier 2
# Raw signatures still work beside OpenPGP keys (the detector needs a whole
# OpenPGP packet, not just a first byte that ~2% of raw signatures share).
genkey raw rsa2048
tg key add acme raw.pub --reason raw >/dev/null
ok_raw=0
for i in $(seq 12); do
	head -c 1000 /dev/urandom > r$i.bin; sign raw r$i.bin r$i.sig sha256
	tg check r$i.bin --sig r$i.sig --tier 1 >/dev/null 2>&1 && ok_raw=$((ok_raw + 1))
done
[ "$ok_raw" -eq 12 ] && ok "12 raw RSA signatures approved beside OpenPGP keys" || bad "raw RSA signatures: $ok_raw of 12"
ls /tmp | grep -q '^tg-gpg' && bad "a private GnuPG home was left behind" || ok "no private GnuPG home left behind"
