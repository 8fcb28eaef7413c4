#!/bin/bash
# Records: db init, suppliers, keys (every algorithm, SPKI and X.509),
# products, releases; every mutation audited with its actor and reason.
. "$(dirname "$0")/lib.sh"

expect 0 "db init creates the records" -- tg db init
expect 2 "db init refuses an existing file" -- tg db init
if sqlite_only "database is in WAL mode"; then
	[ "$(db_sql 'pragma journal_mode')" = wal ] && ok "database is in WAL mode" || bad "database is in WAL mode"
fi

expect 0 "supplier add" -- tg supplier add acme --country CN --max-tier 4 --review SR-1 --review-expires 2099-01-01 --reason "onboarding"
expect 2 "supplier add twice is refused" -- tg supplier add acme --reason again
expect 2 "supplier add without --reason" -- tg supplier add other
expect 2 "supplier add with a path-like name" -- tg supplier add ../evil --reason x
expect 2 "supplier add with a bad date" -- tg supplier add s2 --review R --review-expires 2025-02-30 --reason x
expect 0 "supplier add pending" -- tg supplier add beta --status pending --reason "under review"
expect 0 "supplier list" -- tg supplier list
printf '%s' "$LAST_OUT" | grep -q '^acme .*approved' && ok "supplier list shows acme approved" || bad "supplier list shows acme approved"
expect 0 "supplier show --json" -- tg --json supplier show acme
printf '%s' "$LAST_OUT" | jq -e '.max_tier == 4 and .review == "SR-1" and .country == "CN"' >/dev/null \
	&& ok "supplier show fields" || bad "supplier show fields"
expect 0 "supplier set suspended" -- tg supplier set beta --status suspended --reason "audit finding"
expect 0 "supplier set revoked" -- tg supplier set beta --status revoked --reason "compromise"
expect 2 "revocation of a supplier is final" -- tg supplier set beta --status approved --reason "oops"

for t in rsa2048 rsa3072 rsa4096 p256 p384 ed25519 sm2; do
	genkey "$t" "$t"
	expect 0 "key add $t (PEM SPKI)" -- tg --json key add acme "$t.pub" --reason "key $t"
	want=$(fpr "$t.pub")
	got=$(printf '%s' "$LAST_OUT" | jq -r .fingerprint)
	[ "$got" = "$want" ] && ok "fingerprint of $t equals openssl's SPKI sha256" || bad "fingerprint of $t ($got vs $want)"
done
# X.509 certificates, PEM and DER: same key, same fingerprint.
genkey certkey p256
openssl req -new -x509 -key certkey.pem -subj "/CN=acme signing/O=acme" -days 365 -out cert.pem 2>/dev/null
openssl x509 -in cert.pem -outform DER -out cert.der
expect 0 "key add X.509 PEM certificate" -- tg --json key add acme cert.pem --reason "cert"
[ "$(printf '%s' "$LAST_OUT" | jq -r .fingerprint)" = "$(fpr certkey.pub)" ] && ok "certificate fingerprint is its SPKI's" || bad "certificate fingerprint is its SPKI's"
printf '%s' "$LAST_OUT" | jq -e '.not_after != null' >/dev/null && ok "certificate validity bounds the key" || bad "certificate validity bounds the key"
expect 2 "the same key again (DER certificate) is refused" -- tg key add acme cert.der --reason dup
genkey certkey2 rsa2048
openssl req -new -x509 -key certkey2.pem -subj "/CN=acme2" -days 365 -outform DER -out cert2.der 2>/dev/null
expect 0 "key add X.509 DER certificate" -- tg key add acme cert2.der --reason "der cert"
openssl pkey -pubin -in p384.pub -outform DER -out p384.spki.der
expect 2 "key already present as DER SPKI is refused" -- tg key add acme p384.spki.der --reason dup

expect 2 "key add to an unknown supplier" -- tg key add nobody rsa2048.pub --reason x
expect 2 "key add with an unknown purpose" -- tg key add acme certkey2.pub --purpose signing --reason x
expect 2 "key add with a hash the key cannot use" -- tg key add acme certkey2.pub --hash sm3 --reason x
expect 0 "key list" -- tg key list acme
[ "$(printf '%s\n' "$LAST_OUT" | wc -l)" -eq 9 ] && ok "key list shows 9 keys" || bad "key list shows 9 keys ($(printf '%s\n' "$LAST_OUT" | wc -l))"
f=$(fpr rsa2048.pub)
expect 0 "key revoke" -- tg key revoke "$f" --reason "lost HSM"
expect 2 "key revoke twice" -- tg key revoke "$f" --reason again
expect 2 "key revoke of an unknown fingerprint" -- tg key revoke "$(printf '0%.0s' {1..64})" --reason x
tg --json key list | jq -e --arg f "$f" '.[] | select(.fingerprint == $f) | .revoked_at != null and .revoke_reason == "lost HSM"' >/dev/null \
	&& ok "revoked key listed with time and reason" || bad "revoked key listed with time and reason"

expect 0 "product add" -- tg product add acme router-fw --kind firmware --max-tier 4 --min-version 2.0 --guid 3F0E3D2E-1111-4A4A-8B8B-0123456789AB --reason "approved line"
expect 2 "product add twice" -- tg product add acme router-fw --kind firmware --reason x
expect 2 "product add with a bad kind" -- tg product add acme p2 --kind toaster --reason x
expect 2 "product add with a bad version floor" -- tg product add acme p2 --kind package --min-version "1 0" --reason x
echo "firmware 2.1" > fw-2.1.bin
expect 0 "release add --file" -- tg release add acme router-fw 2.1 --file fw-2.1.bin --reason "reviewed"
expect 0 "release add --digest" -- tg release add acme router-fw 2.2 --digest "sha256:$(printf 'ab%.0s' {1..32})" --reason "reviewed"
expect 2 "release add with a sha1 digest is refused" -- tg release add acme router-fw 2.3 --digest "sha1:$(printf 'ab%.0s' {1..20})" --reason x
expect 2 "release add with a short digest" -- tg release add acme router-fw 2.3 --digest "sha256:abcd" --reason x
expect 2 "release add twice" -- tg release add acme router-fw 2.1 --file fw-2.1.bin --reason x
expect 0 "release revoke" -- tg release revoke acme router-fw 2.2 --reason "CVE"
expect 2 "release revoke twice" -- tg release revoke acme router-fw 2.2 --reason x

# Every change above has exactly one audit row with actor and reason.
n=$(db_sql "select count(*) from audit")
[ "$n" -eq 19 ] && ok "one audit row per change (19)" || bad "one audit row per change (got $n)"
db_sql "select count(*) from audit where actor != 'e2e-tester'" | grep -qx 0 \
	&& ok "actor from \$TRUSTGATE_ACTOR recorded" || bad "actor from \$TRUSTGATE_ACTOR recorded"
tg --actor alice supplier add gamma --reason "by alice" >/dev/null
db_sql "select actor from audit order by seq desc limit 1" | grep -qx alice \
	&& ok "--actor recorded" || bad "--actor recorded"
db_sql "select detail from audit where action='key.revoke'" | jq -e '.reason == "lost HSM"' >/dev/null \
	&& ok "reason recorded in the audit detail" || bad "reason recorded in the audit detail"
expect 0 "audit log --json" -- tg --json audit log
printf '%s' "$LAST_OUT" | jq -e 'length == 20 and .[0].action == "db.init"' >/dev/null && ok "audit log lists every row" || bad "audit log lists every row"
expect 0 "audit log --since" -- tg audit log --since 2099-01-01
[ -z "$LAST_OUT" ] && ok "audit log --since filters" || bad "audit log --since filters"
expect 0 "audit verify on an intact log" -- tg audit verify

# Migrations: a version-1 database is upgraded when opened; a database from
# a newer trustgate is refused, untouched.
sqlite3 v1.db < "$ROOT/db/schema.sql"
sqlite3 v1.db "PRAGMA application_id = $((0x54475431)); PRAGMA journal_mode = WAL; INSERT INTO schema_version VALUES (1, '2026-01-01T00:00:00Z');" >/dev/null
expect 0 "a version-1 database opens" -- tg --db v1.db supplier list
[ "$(sqlite3 v1.db 'select max(version) from schema_version')" = 7 ] && sqlite3 v1.db 'select count(*) from host' >/dev/null 2>&1 \
	&& sqlite3 v1.db 'select fit_required, fit_mode, fit_group from key' >/dev/null 2>&1 \
	&& sqlite3 v1.db 'select allow from product' >/dev/null 2>&1 \
	&& ok "version 1 migrated to 5 (host table, key fit_* and product allow columns present)" || bad "version 1 migrated to 5"
sqlite3 v1.db "INSERT INTO schema_version VALUES (99, '2099-01-01T00:00:00Z')"
bad_input "a database from a newer trustgate refused" "schema version 99" -- tg --db v1.db supplier list
