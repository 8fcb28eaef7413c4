#!/bin/bash
# Tier rules (DESIGN.md): each reason code has its own scenario, and each
# approved case sits next to the twin that the rule rejects.
. "$(dirname "$0")/lib.sh"
setup_supplier
genkey k3072 rsa3072
genkey k2048 rsa2048
genkey ksm2 sm2
genkey kp384 p384
tg key add acme k3072.pub --reason r >/dev/null
tg key add acme k2048.pub --reason r >/dev/null
tg key add acme ksm2.pub --reason r >/dev/null
tg key add acme kp384.pub --reason r >/dev/null
tg product add acme fw --kind firmware --max-tier 5 --min-version 1.0 --reason r >/dev/null
echo "firmware image 1.5" > fw-1.5.bin
echo "firmware image 2.0" > fw-2.0.bin
for f in fw-1.5.bin fw-2.0.bin; do
	sign k3072 $f $f.sha384.sig sha384
	sign k3072 $f $f.sha256.sig sha256
	sign ksm2 $f $f.sm2.sig
done

# --- tier 3 (default): product and version are needed
check_ok "tier 3: signed, product and version named: approved" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product fw --version 1.5
check_reason PRODUCT_UNKNOWN "tier 3: no product named: PRODUCT_UNKNOWN" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig
check_reason PRODUCT_UNKNOWN "tier 3: unknown product: PRODUCT_UNKNOWN" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product nosuch --version 1.5
check_reason VERSION_UNKNOWN "tier 3: no version: VERSION_UNKNOWN" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product fw
check_ok "tier 2: no product is only a warning" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --tier 2
printf '%s' "$LAST_OUT" | jq -e '[.warnings[].code] | index("PRODUCT_UNKNOWN") != null' >/dev/null \
	&& ok "tier 2: PRODUCT_UNKNOWN listed as a warning" || bad "tier 2: PRODUCT_UNKNOWN listed as a warning"
check_reason SIG_MISSING "no signature: SIG_MISSING" -- fw-1.5.bin --product fw --version 1.5 --tier 1

# --- rollback: floor and highest approved release
check_reason ROLLBACK "version below the floor: ROLLBACK" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product fw --version 0.9
tg release add acme fw 2.0 --file fw-2.0.bin --reason "reviewed 2.0" >/dev/null
check_ok "release 2.0 approved by digest" -- fw-2.0.bin --sig fw-2.0.bin.sha256.sig --product fw --version 2.0
check_ok "the release is found by digest alone (product, version inferred)" -- fw-2.0.bin --sig fw-2.0.bin.sha256.sig
printf '%s' "$LAST_OUT" | jq -e '.product == "fw" and .version == "2.0"' >/dev/null && ok "inferred product and version reported" || bad "inferred product and version reported"
check_reason ROLLBACK "older than the highest approved release: ROLLBACK" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product fw --version 1.5
check_reason ROLLBACK "dpkg ordering: 2.0~rc1 < 2.0: ROLLBACK" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product fw --version 2.0~rc1
check_reason DIGEST_MISMATCH "other bytes under an approved version: DIGEST_MISMATCH" -- fw-1.5.bin --sig fw-1.5.bin.sha256.sig --product fw --version 2.0
check_reason DIGEST_MISMATCH "approved bytes claimed as another version: DIGEST_MISMATCH" -- fw-2.0.bin --sig fw-2.0.bin.sha256.sig --product fw --version 2.1
tg release revoke acme fw 2.0 --reason "CVE-2099-1" >/dev/null
check_reason RELEASE_REVOKED "revoked release: RELEASE_REVOKED" -- fw-2.0.bin --sig fw-2.0.bin.sha256.sig --product fw --version 2.0
check_reason RELEASE_REVOKED "revoked release is refused at tier 1 too" -- fw-2.0.bin --sig fw-2.0.bin.sha256.sig --tier 1

# --- tier 4: exact release by digest, SHA-384, RSA >= 3072
echo "firmware image 3.0" > fw-3.0.bin
sign k3072 fw-3.0.bin fw-3.0.sha384.sig sha384
sign k3072 fw-3.0.bin fw-3.0.sha256.sig sha256
sign k2048 fw-3.0.bin fw-3.0.k2048.sig sha384
sign ksm2 fw-3.0.bin fw-3.0.sm2.sig
sign kp384 fw-3.0.bin fw-3.0.p384.sig sha384
check_reason RELEASE_UNKNOWN "tier 4: release not approved by digest: RELEASE_UNKNOWN" -- fw-3.0.bin --sig fw-3.0.sha384.sig --product fw --version 3.0 --tier 4
check_ok "tier 3: a new version passes on the signature alone" -- fw-3.0.bin --sig fw-3.0.sha384.sig --product fw --version 3.0 --tier 3
tg release add acme fw 3.0 --file fw-3.0.bin --reason "reviewed 3.0" >/dev/null
check_ok "tier 4: approved release, RSA-3072, SHA-384: approved" -- fw-3.0.bin --sig fw-3.0.sha384.sig --product fw --version 3.0 --tier 4
check_ok "tier 4: ECDSA P-384/SHA-384 approved" -- fw-3.0.bin --sig fw-3.0.p384.sig --tier 4
check_reason WEAK_ALGORITHM "tier 4: SHA-256 signature: WEAK_ALGORITHM" -- fw-3.0.bin --sig fw-3.0.sha256.sig --tier 4
check_reason KEY_WEAK "tier 4: RSA-2048 key: KEY_WEAK" -- fw-3.0.bin --sig fw-3.0.k2048.sig --tier 4
check_ok "CII: SM2/SM3 approved" -- fw-3.0.bin --sig fw-3.0.sm2.sig --cii
check_reason WEAK_ALGORITHM "CII: SHA-256 signature: WEAK_ALGORITHM" -- fw-3.0.bin --sig fw-3.0.sha256.sig --cii

# --- GM profile: SM2 with SM3 only
check_ok "--gm: SM2/SM3 approved" -- fw-3.0.bin --sig fw-3.0.sm2.sig --gm
check_reason GM_REQUIRED "--gm: RSA signature: GM_REQUIRED" -- fw-3.0.bin --sig fw-3.0.sha384.sig --gm

# --- SHA-1: warns at tier 1-2, refused from tier 3
genkey ksha1 rsa2048
tg key add acme ksha1.pub --hash sha1,sha256 --reason "legacy signer" >/dev/null
sign ksha1 fw-1.5.bin fw-1.5.sha1.sig sha1
check_ok "tier 2: SHA-1 signature approved with a warning" -- fw-1.5.bin --sig fw-1.5.sha1.sig --tier 2
printf '%s' "$LAST_OUT" | jq -e '[.warnings[].code] | index("WEAK_ALGORITHM") != null' >/dev/null \
	&& ok "tier 2: WEAK_ALGORITHM warning for SHA-1" || bad "tier 2: WEAK_ALGORITHM warning for SHA-1"
check_reason WEAK_ALGORITHM "tier 3: SHA-1 signature: WEAK_ALGORITHM" -- fw-1.5.bin --sig fw-1.5.sha1.sig --product fw --version 3.1
genkey kdef rsa2048
tg key add acme kdef.pub --reason "default pins" >/dev/null
sign kdef fw-1.5.bin fw-1.5.kdef-sha1.sig sha1
check_reason WEAK_ALGORITHM "SHA-1 with a key not pinned to it is refused even at tier 1" -- fw-1.5.bin --sig fw-1.5.kdef-sha1.sig --tier 1

# --- supplier state
tg supplier add lowtier --max-tier 2 --review SR-9 --review-expires 2099-01-01 --reason r >/dev/null
genkey klow p256
tg key add lowtier klow.pub --reason r >/dev/null
tg product add lowtier widget --kind package --reason r >/dev/null
sign klow fw-1.5.bin w.sig sha256
check_ok "supplier approved up to tier 2, checked at tier 2: approved" -- fw-1.5.bin --sig w.sig --product widget --version 1.0 --tier 2
check_reason SUPPLIER_TIER "supplier approved up to tier 2, checked at tier 3: SUPPLIER_TIER" -- fw-1.5.bin --sig w.sig --product widget --version 1.0
check_reason SUPPLIER_TIER "supplier not approved for CII: SUPPLIER_TIER" -- fw-1.5.bin --sig w.sig --product widget --version 1.0 --tier 2 --cii
check_reason SUPPLIER_MISMATCH "product of another supplier: SUPPLIER_MISMATCH" -- fw-1.5.bin --sig w.sig --product fw --version 9.0 --tier 2

tg supplier add oldreview --review SR-1 --review-expires 2020-06-30 --reason r >/dev/null
genkey kold p256
tg key add oldreview kold.pub --reason r >/dev/null
tg product add oldreview thing --kind package --reason r >/dev/null
sign kold fw-1.5.bin old.sig sha256
check_reason REVIEW_EXPIRED "security review expired: REVIEW_EXPIRED" -- fw-1.5.bin --sig old.sig --product thing --version 1.0
check_ok "expired review only matters from tier 3" -- fw-1.5.bin --sig old.sig --product thing --version 1.0 --tier 2
tg supplier add noreview --reason r >/dev/null
genkey knorev p256
tg key add noreview knorev.pub --reason r >/dev/null
tg product add noreview gizmo --kind package --reason r >/dev/null
sign knorev fw-1.5.bin norev.sig sha256
check_reason REVIEW_MISSING "no security review on record at tier 3: REVIEW_MISSING" -- fw-1.5.bin --sig norev.sig --product gizmo --version 1.0

tg supplier set lowtier --status suspended --reason "audit" >/dev/null
check_reason SUPPLIER_NOT_APPROVED "suspended supplier: SUPPLIER_NOT_APPROVED" -- fw-1.5.bin --sig w.sig --product widget --version 1.0 --tier 1
tg supplier add pend --status pending --reason r >/dev/null
genkey kpend p256
tg key add pend kpend.pub --reason r >/dev/null
sign kpend fw-1.5.bin pend.sig sha256
check_reason SUPPLIER_NOT_APPROVED "pending supplier: SUPPLIER_NOT_APPROVED" -- fw-1.5.bin --sig pend.sig --tier 1

# --- key validity window
genkey kexp p256
tg key add acme kexp.pub --not-after 2021-01-01 --reason "expired" >/dev/null
sign kexp fw-1.5.bin exp.sig sha256
check_reason KEY_EXPIRED "key past --not-after: KEY_EXPIRED" -- fw-1.5.bin --sig exp.sig --tier 1
genkey kfut p256
tg key add acme kfut.pub --not-before 2098-01-01 --reason "future" >/dev/null
sign kfut fw-1.5.bin fut.sig sha256
check_reason KEY_EXPIRED "key before --not-before: KEY_EXPIRED" -- fw-1.5.bin --sig fut.sig --tier 1
genkey kak p256
tg key add acme kak.pub --purpose ak --reason "attestation key" >/dev/null
sign kak fw-1.5.bin ak.sig sha256
check_reason KEY_PURPOSE "attestation key signing a blob: KEY_PURPOSE" -- fw-1.5.bin --sig ak.sig --tier 1

# --- every verdict recorded with its audit row
nv=$(db_sql "select count(*) from verdict")
na=$(db_sql "select count(*) from audit where action='check'")
[ "$nv" -gt 30 ] && [ "$nv" -eq "$na" ] && ok "every verdict has its audit row ($nv)" || bad "every verdict has its audit row ($nv verdicts, $na audit rows)"
db_sql "select report from verdict order by id desc limit 1" | jq -e '.verdict == "rejected" and .reasons[0].code == "KEY_PURPOSE"' >/dev/null \
	&& ok "verdict row keeps the JSON report" || bad "verdict row keeps the JSON report"
expect 0 "audit chain intact after all checks" -- tg audit verify

# --- the JSON document has exactly the CLI.md shape
tg --json check fw-3.0.bin --sig fw-3.0.sha384.sig --tier 4 > doc.json
jq -e 'keys == ["actor","audit","components","facts","id","key","kind","policy","product","reasons","records","subject","supplier","time","tool","verdict","version","warnings"]
	and (.subject | keys) == ["path","sha256","size"] and (.policy | keys) == ["cii","gm","records_sha256","tier"]
	and (.audit | keys) == ["hash","seq"] and (.tool | keys) == ["build_sha256","commit","name","version"]
	and (.key | keys) == ["algorithm","fingerprint"] and .kind == "blob" and .key.algorithm == "rsa3072"
	and .subject.sha256 == "'"$(sha256sum fw-3.0.bin | cut -d' ' -f1)"'"' doc.json >/dev/null \
	&& ok "JSON verdict has the CLI.md shape and the file's sha256" || bad "JSON verdict has the CLI.md shape"
out=$(tg check fw-3.0.bin --sig fw-3.0.sha384.sig --tier 4 --json 2>/dev/null)
printf '%s' "$out" | jq -e . >/dev/null && ok "--json after the command gives only JSON on stdout" || bad "--json after the command gives only JSON on stdout"
