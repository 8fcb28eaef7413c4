#!/bin/bash
# Regressions for the false APPROVED verdicts found on real data (issue 10),
# each beside its twin that stays approved:
#  - a release recorded (and revoked) by its SHA-384, SHA-512 or SM3 digest
#    was not found: the policy looked releases up by SHA-256 only;
#  - version spellings dpkg treats as one version (2.00, 0:2.0, 2.0-0)
#    escaped the exact-string release lookup;
#  - a manifest-signed archive with bytes after its end was approved;
#  - records deleted with sqlite3 went unnoticed (check and audit verify).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/newc.sh"
setup_supplier
genkey k rsa3072
tg key add acme k.pub --reason r >/dev/null
tg product add acme fw --kind firmware --max-tier 5 --reason r >/dev/null
tg product add acme other --kind firmware --max-tier 5 --reason r >/dev/null
echo "known bad firmware" > bad.bin; sign k bad.bin bad.sig sha384
echo "good firmware" > good.bin; sign k good.bin good.sig sha384

# --- every digest algorithm a release may be recorded in
for alg in sha384 sha512 sm3; do
	hex=$(openssl dgst -"$alg" -r bad.bin | cut -d' ' -f1)
	expect 0 "release recorded by its $alg digest" -- tg release add acme fw "1.$alg" --digest "$alg:$hex" --reason "reviewed"
done
check_ok "twin: the recorded $alg release itself at tier 1 (found by digest, not revoked)" -- bad.bin --sig bad.sig --tier 1
for alg in sha384 sha512 sm3; do
	tg release revoke acme fw "1.$alg" --reason "CVE-2026-0001" >/dev/null
	check_reason RELEASE_REVOKED "revoked by $alg: refused under another version" -- bad.bin --sig bad.sig --product fw --version 9.0
	check_reason RELEASE_REVOKED "revoked by $alg: refused at tier 1 without a product" -- bad.bin --sig bad.sig --tier 1
	check_reason RELEASE_REVOKED "revoked by $alg: refused as another product" -- bad.bin --sig bad.sig --product other --version 1.0
done
check_ok "twin: other bytes of the same product are approved" -- good.bin --sig good.sig --product fw --version 9.0

# --- one version, many spellings
echo "firmware 2.0" > v2.bin; sign k v2.bin v2.sig sha384
echo "firmware 2.0, altered" > v2x.bin; sign k v2x.bin v2x.sig sha384
echo "firmware 3.0" > v3.bin; sign k v3.bin v3.sig sha384
tg product add acme dev --kind firmware --max-tier 5 --reason r >/dev/null
expect 0 "release 2.0 recorded" -- tg release add acme dev 2.0 --file v2.bin --reason r
bad_input "release 2.00 after 2.0 refused: one version" "already in the records" -- tg release add acme dev 2.00 --file v2x.bin --reason r
check_ok "twin: 2.0 with its own bytes" -- v2.bin --sig v2.sig --product dev --version 2.0 --tier 3
check_ok "twin: 2.0 with its own bytes as --version 2.00" -- v2.bin --sig v2.sig --product dev --version 2.00 --tier 3
expect 0 "release 0:3.00-0 recorded in its canonical spelling" -- tg --json release add acme dev 0:3.00-0 --file v3.bin --reason r
printf '%s' "$LAST_OUT" | jq -e '.version == "3.0"' >/dev/null && ok "stored as 3.0" || bad "canonical release version: $LAST_OUT"
for v in 2.00 0:2.0 2.0-0 02.0; do
	check_reason DIGEST_MISMATCH "other bytes as --version $v: the recorded release 2.0 must match" -- v2x.bin --sig v2x.sig --product dev --version "$v" --tier 3
done
check_ok "version 3.00 is release 3.0" -- v3.bin --sig v3.sig --product dev --version 3.00
printf '%s' "$LAST_OUT" | jq -e '.version == "3.0"' >/dev/null && ok "verdict reports the canonical version" || bad "verdict version: $(printf '%s' "$LAST_OUT" | jq -c .version)"
expect 0 "release 2.0 revoked by the spelling 2.00" -- tg release revoke acme dev 2.00 --reason "CVE-2026-0002"
for v in 2.0 2.00 0:2.0 2.0-0; do
	check_reason RELEASE_REVOKED "revoked 2.0 as --version $v" -- v2.bin --sig v2.sig --product dev --version "$v" --tier 3
done
check_reason ROLLBACK "2.00 is older than approved 3.0 whatever its spelling" -- v2x.bin --sig v2x.sig --product dev --version 2.00 --tier 3
expect 0 "audit verify after canonical revocations" -- tg audit verify
tg product add acme floor --kind firmware --min-version 02.0 --reason r >/dev/null
check_reason ROLLBACK "floor given as 02.0: 1.99 is below it" -- good.bin --sig good.sig --product floor --version 1.99
check_ok "twin: floor given as 02.0: 2.0-0 is not below it" -- good.bin --sig good.sig --product floor --version 2.0-0

# --- manifest-signed archives: every byte accounted for
genkey vk p256
tg key add acme vk.pub --purpose package --reason r >/dev/null
tg product add acme pkg --kind package --reason r >/dev/null
mkdir -p src/bin && echo "#!/bin/sh" > src/bin/init && echo data > src/bin/tool
(cd src && find . -mindepth 1 | sort | cpio -o -H newc --quiet > ../a.cpio)
tar -czf a.tgz -C src .
(cd src && zip -qr ../a.zip .)
for f in a.cpio a.tgz a.zip; do
	tg vendor sign "$f" --key vk.pem --product pkg --version 1.0 --out "s-$f" >/dev/null 2>&1 || bad "vendor sign $f"
	check_ok "twin: manifest-signed $f approved" -- "s-$f"
done
# A second cpio archive after the first (the kernel's initramfs unpacker
# reads it and lets its /init win), zero padding being fine.
mkdir -p evil/bin && echo "#!/bin/sh evil" > evil/bin/init
(cd evil && find . -mindepth 1 | sort | cpio -o -H newc --quiet > ../evil.cpio)
cat s-a.cpio evil.cpio > c2.cpio
check_reason ARCHIVE_TRAILING_DATA "a second cpio archive after the signed one" -- c2.cpio
{ cat s-a.cpio; head -c 4096 /dev/zero; } > c3.cpio
check_ok "twin: zero padding after the cpio trailer" -- c3.cpio
{ cat s-a.cpio; printf 'X'; } > c4.cpio
check_reason ARCHIVE_TRAILING_DATA "one byte after the cpio trailer" -- c4.cpio
# gzip: bytes after the stream, and a second gzip member.
{ cat s-a.tgz; printf 'appended'; } > t2.tgz
check_reason ARCHIVE_TRAILING_DATA "bytes after the gzip stream" -- t2.tgz
{ cat s-a.tgz; gzip -c evil.cpio; } > t3.tgz
out=$(tg --json check t3.tgz 2>&1); rc=$?
[ "$rc" -ne 0 ] && ok "a second gzip member after the signed one refused (exit $rc)" || bad "second gzip member approved"
{ cat s-a.zip; printf 'tail'; } > z2.zip
check_reason ARCHIVE_TRAILING_DATA "bytes after the zip's end record" -- z2.zip
# A detached signature covers every byte: what follows a compressed stream
# is the signer's.  (Not after a cpio trailer: the kernel would unpack a
# second archive there, so that is refused under any signature.)
sign k t2.tgz t2.sig sha384
check_ok "twin: bytes after the gzip stream under a detached signature" -- t2.tgz --sig t2.sig --product pkg --version 1.0
sign k c4.cpio c4.sig sha384
check_reason ARCHIVE_TRAILING_DATA "one byte after the cpio trailer under a detached signature too" -- c4.cpio --sig c4.sig --product pkg --version 1.0

# --- records deleted with sqlite3
tg product add acme rb --kind firmware --max-tier 5 --reason r >/dev/null
echo "rb 1" > rb1.bin; sign k rb1.bin rb1.sig sha384
echo "rb 2" > rb2.bin; sign k rb2.bin rb2.sig sha384
echo "rb 3 bad" > rb3.bin; sign k rb3.bin rb3.sig sha384
tg release add acme rb 2.0 --file rb2.bin --reason r >/dev/null
tg release add acme rb 3.0 --file rb3.bin --reason r >/dev/null
tg release revoke acme rb 3.0 --reason "known bad" >/dev/null
check_reason RELEASE_REVOKED "twin: revoked release refused" -- rb3.bin --sig rb3.sig --tier 1
check_reason ROLLBACK "twin: 1.0 below approved 2.0" -- rb1.bin --sig rb1.sig --product rb --version 1.0
db_save before
db_sql "DELETE FROM release WHERE version = '3.0' AND product_id = (SELECT id FROM product WHERE name = 'rb')"
check_reason RECORD_TAMPERED "revoked release deleted with sqlite3: RECORD_TAMPERED" -- rb3.bin --sig rb3.sig --tier 1
expect 1 "audit verify names the deleted release" -- tg audit verify
printf '%s' "$LAST_OUT" | grep -q "release acme/rb/3.0 is in the audit history but missing" && ok "audit verify: the missing release is named" || bad "audit verify output: $LAST_OUT"
db_restore before
db_sql "DELETE FROM release WHERE version = '2.0' AND product_id = (SELECT id FROM product WHERE name = 'rb')"
check_reason RECORD_TAMPERED "newest approved release deleted to allow a rollback: RECORD_TAMPERED" -- rb1.bin --sig rb1.sig --product rb --version 1.0
db_restore before
db_sql "DELETE FROM audit WHERE seq = 5"
check_reason RECORD_TAMPERED "an audit row deleted from the middle: RECORD_TAMPERED" -- good.bin --sig good.sig --product fw --version 9.1
db_restore before
expect 0 "twin: the untouched records verify" -- tg audit verify
check_ok "twin: the untouched records approve" -- good.bin --sig good.sig --product fw --version 9.2
