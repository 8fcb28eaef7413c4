#!/bin/bash
# Offline edits of the records with the sqlite3 CLI (THREATS case 57): every
# record a decision relies on is re-derived from its audit history, so an
# edit that bypassed trustgate is RECORD_TAMPERED, never an approval.
. "$(dirname "$0")/lib.sh"
setup_supplier
genkey k3072 rsa3072
tg key add acme k3072.pub --reason r >/dev/null
tg product add acme fw --kind firmware --max-tier 5 --min-version 2.0 --reason r >/dev/null
echo "firmware 2.5" > fw.bin
sign k3072 fw.bin fw.sig sha384
tg release add acme fw 2.5 --file fw.bin --reason "reviewed" >/dev/null
db_save pristine
fresh() { db_restore pristine; }
sqlq() { db_sql "$1"; }

check_ok "control: untouched records approve at tier 4" -- fw.bin --sig fw.sig --product fw --version 2.5 --tier 4

# A suspended supplier flipped back to approved.
tg supplier set acme --status suspended --reason "audit finding" >/dev/null
check_reason SUPPLIER_NOT_APPROVED "control: suspended supplier rejected" -- fw.bin --sig fw.sig --tier 4
sqlq "update supplier set status = 'approved' where name = 'acme'"
check_reason RECORD_TAMPERED "supplier status flipped with sqlite3: RECORD_TAMPERED" -- fw.bin --sig fw.sig --tier 4

# A revoked key un-revoked.
fresh
tg key revoke "$(fpr k3072.pub)" --reason "leaked" >/dev/null
sqlq "update key set revoked_at = NULL, revoke_reason = NULL"
check_reason RECORD_TAMPERED "revocation removed with sqlite3: RECORD_TAMPERED" -- fw.bin --sig fw.sig --tier 4

# An attacker key inserted for the supplier.
fresh
genkey evil rsa3072
openssl pkey -pubin -in evil.pub -outform DER -out evil.der
sign evil fw.bin evil.sig sha384
sqlq "insert into key (supplier_id, fingerprint, algorithm, bits, hashes, purposes, spki, added_at)
      values (1, '$(fpr evil.pub)', 'rsa3072', 3072, 'sha384', 'package,firmware', $(db_blob evil.der), '2026-01-01T00:00:00Z')"
check_reason RECORD_TAMPERED "attacker key inserted with sqlite3: RECORD_TAMPERED" -- fw.bin --sig evil.sig --tier 4
# ... and a key whose stored SPKI no longer matches its fingerprint.
fresh
sqlq "update key set spki = $(db_blob evil.der)"
expect 2 "SPKI swapped under a recorded fingerprint: exit 2" -- tg check fw.bin --sig evil.sig --tier 4

# Key pin widened to SHA-1, supplier tier raised, product floor lowered.
fresh
sqlq "update key set hashes = 'sha1,sha256,sha384'"
check_reason RECORD_TAMPERED "key digest pin widened: RECORD_TAMPERED" -- fw.bin --sig fw.sig --tier 4
fresh
tg supplier add small --max-tier 2 --review S --review-expires 2099-01-01 --reason r >/dev/null
genkey ks p256
tg key add small ks.pub --reason r >/dev/null
sign ks fw.bin ks.sig sha256
check_reason SUPPLIER_TIER "control: tier-2 supplier rejected at tier 3" -- fw.bin --sig ks.sig --tier 3
sqlq "update supplier set max_tier = 5 where name = 'small'"
check_reason RECORD_TAMPERED "supplier max tier raised: RECORD_TAMPERED" -- fw.bin --sig ks.sig --tier 3
fresh
echo "firmware 1.0" > old.bin
sign k3072 old.bin old.sig sha384
check_reason ROLLBACK "control: version below the floor rejected" -- old.bin --sig old.sig --product fw --version 1.0
sqlq "update product set min_version = '0.1'"
check_reason RECORD_TAMPERED "product floor lowered: RECORD_TAMPERED" -- old.bin --sig old.sig --product fw --version 1.0

# A release inserted to pass the tier-4 "approved by digest" rule, and a
# revoked release restored.
fresh
echo "firmware 3.0" > fw3.bin
sign k3072 fw3.bin fw3.sig sha384
check_reason RELEASE_UNKNOWN "control: unapproved release rejected at tier 4" -- fw3.bin --sig fw3.sig --product fw --version 3.0 --tier 4
sqlq "insert into release (product_id, version, digest_alg, digest, status, created_at)
      values (1, '3.0', 'sha256', '$(sha256sum fw3.bin | cut -d' ' -f1)', 'approved', '2026-01-01T00:00:00Z')"
check_reason RECORD_TAMPERED "release inserted with sqlite3: RECORD_TAMPERED" -- fw3.bin --sig fw3.sig --product fw --version 3.0 --tier 4
fresh
tg release revoke acme fw 2.5 --reason CVE >/dev/null
sqlq "update release set status = 'approved', revoked_at = NULL"
check_reason RECORD_TAMPERED "release revocation undone: RECORD_TAMPERED" -- fw.bin --sig fw.sig --product fw --version 2.5 --tier 4
# The audit row itself edited to match the forged record: its hash breaks.
fresh
sqlq "update supplier set max_tier = 1 where name = 'acme'"
sqlq "update audit set detail = replace(detail, '\"max_tier\":5', '\"max_tier\":1') where action = 'supplier.add'"
check_reason RECORD_TAMPERED "audit row edited to match a forged record: RECORD_TAMPERED" -- fw.bin --sig fw.sig --tier 1

# A forged history row, its own hash right, slipped in after the head but
# naming another row as its predecessor (the record-change tally raised to
# match): the replay's link check refuses it.
fresh
tg supplier set acme --status suspended --reason "audit finding" >/dev/null
db_sql "update supplier set status = 'approved' where name = 'acme'" >/dev/null
last=$(db_sql "select seq || '|' || time || '|' || actor || '|' || object || '|' || detail from audit where action = 'supplier.set' order by seq desc limit 1")
wrong=$(db_sql "select hash from audit where seq = 1")
forged=$(python3 - "$last" "$wrong" <<'PY'
import hashlib, struct, sys
seq, time, actor, obj, detail = sys.argv[1].split("|", 4)
seq = int(seq) + 1
detail = detail.replace('"suspended"', '"approved"')
lp = lambda s: struct.pack(">I", len(s.encode())) + s.encode()
h = hashlib.sha256(b"tg-audit-v1" + struct.pack(">Q", seq) + lp(time) + lp(actor) + lp("supplier.set") + lp(obj)
                   + lp(detail) + bytes.fromhex(sys.argv[2])).hexdigest()
q = lambda s: "'" + s.replace("'", "''") + "'"
print("insert into audit (seq, time, actor, action, object, detail, prev_hash, hash) values (%d, %s, %s, 'supplier.set', %s, %s, %s, %s)"
      % (seq, q(time), q(actor), q(obj), q(detail), q(sys.argv[2]), q(h)))
PY
)
db_sql "$forged" >/dev/null
db_sql "update meta set value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) where name = 'audit_record_rows'" >/dev/null
check_reason RECORD_TAMPERED "forged history row not linked to its predecessor: RECORD_TAMPERED" -- fw.bin --sig fw.sig --tier 4
printf '%s' "$LAST_OUT" | grep -q "of acme does not link to row" && ok "... named: the row does not link" || bad "link finding: $(printf '%s' "$LAST_OUT" | head -c 400)"

# Every kind of record against the set of objects its history created (one
# statement answers for all kinds, db/integrity.c): a row inserted outside
# trustgate has no history; a record renamed outside trustgate leaves the
# name its history created missing.  `audit verify` names the first.
fresh
. "$ROOT/tests/e2e/evlog.sh"
{ specid_hdr; event2 0 1 "$(strhex "firmware 2.5")"; for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000; done; } | xxd -r -p > golden.log
BAD=$(printf 'known bad' | sha256sum | cut -d' ' -f1)
tg reference revoke --digest "sha256:$BAD" --reason "known bad" >/dev/null
tg reference import --eventlog golden.log --model edge --reason golden >/dev/null || bad "reference import"
expect 0 "control: every kind recorded through trustgate verifies" -- tg audit verify
db_save kinds
now="'2026-01-01T00:00:00Z'"
kind_case() { # LABEL EXPECTED SQL
	db_restore kinds
	db_sql "$3" >/dev/null
	expect 1 "$1: audit verify fails" -- tg audit verify
	printf '%s' "$LAST_OUT" | grep -qF "$2" && ok "$1: named ($2)" || bad "$1: audit verify said: $(printf '%s' "$LAST_OUT" | head -3)"
}
kind_case "supplier inserted" "supplier mallory is in the records but has no audit history" \
	"insert into supplier (name, country, status, max_tier, cii, created_at, updated_at) values ('mallory', 'CN', 'approved', 5, 0, $now, $now)"
kind_case "supplier renamed" "supplier acme is in the audit history but missing" "update supplier set name = 'acme2' where name = 'acme'"
kind_case "key inserted" "key $(fpr evil.pub) is in the records but has no audit history" \
	"insert into key (supplier_id, fingerprint, algorithm, bits, hashes, purposes, spki, added_at)
	 values (1, '$(fpr evil.pub)', 'rsa3072', 3072, 'sha384', 'package,firmware', $(db_blob evil.der), $now)"
kind_case "key fingerprint rewritten" "key $(fpr k3072.pub) is in the audit history but missing" \
	"update key set fingerprint = '$(fpr evil.pub)'"
kind_case "product inserted" "product acme/fw2 is in the records but has no audit history" \
	"insert into product (supplier_id, name, kind, max_tier, created_at) values (1, 'fw2', 'firmware', 5, $now)"
kind_case "product renamed" "product acme/fw is in the audit history but missing" "update product set name = 'fw9'"
kind_case "release inserted" "release acme/fw/9.0 is in the records but has no audit history" \
	"insert into release (product_id, version, digest_alg, digest, status, created_at) values (1, '9.0', 'sha256', '$BAD', 'approved', $now)"
kind_case "release version rewritten" "release acme/fw/2.5 is in the audit history but missing" "update release set version = '2.6'"
kind_case "host inserted" "host rogue is in the records but has no audit history" \
	"insert into host (name, tier, ak_public, ak_name, ak_fingerprint, status, enrolled_at) values ('rogue', 3, $(db_blob evil.der), 'x', 'y', 'enrolled', $now)"
kind_case "reference set inserted" "reference set rogue-model is in the records but has no audit history" \
	"insert into reference (model, pcr, alg, digest, event_type, created_at) values ('rogue-model', 0, 'sha256', '$BAD', 1, $now)"
kind_case "reference set deleted" "reference set edge is in the audit history but missing" "delete from reference where model = 'edge'"
kind_case "revoked measurement inserted" "revoked measurement sha1:$(printf x | sha1sum | cut -d' ' -f1) is in the records but has no audit history" \
	"insert into measurement_revoked (alg, digest, reason, created_at) values ('sha1', '$(printf x | sha1sum | cut -d' ' -f1)', 'r', $now)"
kind_case "revoked measurement deleted" "revoked measurement sha256:$BAD is in the audit history but missing" "delete from measurement_revoked"
# The newest record-change row deleted with its record and the head moved
# back: the chain alone cannot tell; the tally of record-change rows can.
db_restore kinds
db_sql "delete from reference where model = 'edge'" >/dev/null
db_sql "delete from audit where action = 'reference.import'" >/dev/null
db_sql "update meta set value = (select seq || ':' || hash from audit order by seq desc limit 1) where name = 'audit_head'" >/dev/null
check_reason RECORD_TAMPERED "record and its history row deleted, head moved back: RECORD_TAMPERED" -- fw.bin --sig fw.sig --tier 4
printf '%s' "$LAST_OUT" | grep -q "rows of record changes" && ok "... named: the tally of record-change rows differs" || bad "tally finding: $(printf '%s' "$LAST_OUT" | head -c 300)"
db_restore kinds
