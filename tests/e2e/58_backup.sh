#!/bin/bash
# Moving and keeping the records: `db copy` (file <-> PostgreSQL), `db
# backup` (a signed snapshot) and `db restore` (signature, digest, chain, and
# on an anchored appliance the TPM anchor).  Forged twins: a backup edited by
# one byte (snapshot and statement), another appliance's backup, an older
# backup past the TPM anchor, a copy of a broken chain.  Runs on SQLite and
# (tests/pg.sh) on PostgreSQL.
. "$(dirname "$0")/lib.sh"

setup_supplier
genkey k p256
tg key add acme k.pub --purpose firmware --reason k >/dev/null
echo "fw" > fw.bin; sign k fw.bin fw.sig
tg --tier 1 check fw.bin --sig fw.sig >/dev/null
tg --json appliance-key init > /dev/null
tg appliance-key show > app.pub
listing() { tg --db "$1" supplier list; tg --db "$1" key list; tg --db "$1" --json verdict list 2>/dev/null | jq -c '[.[].id]'; }

# --- db copy: to a SQLite file, and (on PostgreSQL) back to a new database
expect 0 "db copy to a new SQLite file" -- tg db copy --to "$WORK/copy.db" --reason "e2e copy"
printf '%s' "$LAST_OUT" | grep -q "each table's SHA-256 equal on both, audit chain intact" && ok "the copy says it was verified" || bad "copy output: $LAST_OUT"
[ "$(listing "$WORK/copy.db")" = "$(listing "$TRUSTGATE_DB")" ] && ok "the copy lists the same records" || bad "copy differs"
expect 0 "the copy's audit chain verifies" -- tg --db "$WORK/copy.db" audit verify
[ "$(sqlite3 "$WORK/copy.db" "select action from audit order by seq desc limit 1")" = db.copy ] && ok "the copy records db.copy last" || bad "db.copy row"
check_ok "the copy decides like its source" -- --db "$WORK/copy.db" --tier 1 fw.bin --sig fw.sig
if pg_mode; then
	createdb "${PGDB}_back"
	expect 0 "db copy from the file back to PostgreSQL" -- tg --db "$WORK/copy.db" db copy --to "postgresql:///${PGDB}_back" --reason back
	expect 0 "the PostgreSQL copy's chain verifies" -- tg --db "postgresql:///${PGDB}_back" audit verify
	[ "$(tg --db "postgresql:///${PGDB}_back" supplier list)" = "$(tg supplier list)" ] && ok "same suppliers after the round trip" || bad "round trip"
	tg --db "postgresql:///${PGDB}_back" supplier add after-copy --reason "ids continue" >/dev/null \
		&& ok "new rows after a copy get new ids (identity moved past the copied rows)" || bad "insert after copy"
else
	skip "db copy back to PostgreSQL (run by tests/pg.sh)"
fi
bad_input "db copy onto existing records" "already exists" -- tg db copy --to "$WORK/copy.db" --reason again
bad_input "db copy without --reason" "--reason" -- tg db copy --to "$WORK/c2.db"
# A broken chain is not copied (and no copy is left behind).
db_save pristine
db_sql "update audit set actor = 'mallory' where seq = 2"
bad_input "db copy of records whose chain is broken" "audit chain is broken at row 2" -- tg db copy --to "$WORK/c3.db" --reason x
[ ! -e "$WORK/c3.db" ] && ok "no copy left behind" || bad "a copy of broken records was left"
db_restore pristine

# --- db backup
expect 0 "db backup" -- tg db backup --out "$WORK/b1.tgb"
head -1 "$WORK/b1.tgb" | grep -qx "trustgate-backup v1" && ok "first line: trustgate-backup v1" || bad "magic"
sed -n 2p "$WORK/b1.tgb" > env.json
jq -r .payload env.json | base64 -d > stmt.json
jq -e '.audit_head.seq > 0 and .snapshot.format == "sqlite3" and (.snapshot.sha256 | length) == 64' stmt.json >/dev/null \
	&& ok "the signed statement names the audit head and the snapshot's SHA-256" || bad "statement: $(cat stmt.json)"
# The snapshot is a SQLite database whose digest is the signed one.
tail -n +3 "$WORK/b1.tgb" > snap.db
[ "$(sha256sum snap.db | cut -d' ' -f1)" = "$(jq -r .snapshot.sha256 stmt.json)" ] && ok "sha256sum of the snapshot is the signed digest" || bad "snapshot digest"
[ "$(sqlite3 snap.db "select count(*) from supplier")" = "$(db_sql "select count(*) from supplier")" ] && ok "sqlite3 reads the snapshot" || bad "snapshot unreadable"
# The signature with openssl alone (DSSE PAE over the payload).
type=$(jq -r .payloadType env.json)
{ printf 'DSSEv1 %d %s %d ' "${#type}" "$type" "$(stat -c %s stmt.json)"; cat stmt.json; } > pae.bin
jq -r '.signatures[0].sig' env.json | base64 -d > sig.bin
openssl pkeyutl -verify -pubin -inkey app.pub -rawin -in pae.bin -sigfile sig.bin >/dev/null 2>&1 && ok "openssl verifies the backup's signature" || bad "openssl signature"
bad_input "db backup over an existing file" "already exists" -- tg db backup --out "$WORK/b1.tgb"
[ "$(db_sql "select action from audit order by seq desc limit 1")" = db.backup ] && ok "the backup is recorded (db.backup)" || bad "db.backup row"

# --- db restore: onto a machine whose records are gone (needs --key), and over records (needs --replace)
tg supplier add later --reason "after the backup" >/dev/null
bad_input "restore over records without --replace" "--replace" -- tg db restore "$WORK/b1.tgb" --reason r
expect 0 "restore into new records with the appliance's public key" -- tg --db "$WORK/new.db" db restore "$WORK/b1.tgb" --key app.pub --reason "new machine"
expect 0 "the restored records verify" -- tg --db "$WORK/new.db" audit verify
tg --db "$WORK/new.db" supplier show later >/dev/null 2>&1 && bad "restored records hold what came after the backup" || ok "restored to the backup's state"
bad_input "restore onto nothing without --key" "--key" -- tg --db "$WORK/none.db" db restore "$WORK/b1.tgb" --reason r
[ ! -e "$WORK/none.db" ] && ok "nothing created" || bad "records created"
expect 0 "restore --replace over the current records" -- tg db restore "$WORK/b1.tgb" --replace --reason "roll back on purpose"
! tg supplier show later >/dev/null 2>&1 && ok "the records are the backup's again" || bad "replace did not replace"
[ "$(db_sql "select action from audit order by seq desc limit 1")" = db.restore ] && ok "the restore is recorded (db.restore)" || bad "db.restore row"
expect 0 "audit verify after the restore" -- tg audit verify

# --- forged twins
python3 - "$WORK/b1.tgb" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\n", b.index(b"\n") + 1) + 5000          # a byte of the snapshot
b[i] ^= 1
open("snapbyte.tgb", "wb").write(b)
b = bytearray(open(sys.argv[1], "rb").read())
j = b.index(b'"payload":"') + 40                         # a byte of the signed statement
b[j] = ord("A") if b[j] != ord("A") else ord("B")
open("stmtbyte.tgb", "wb").write(b)
EOF
bad_input "a backup whose snapshot was edited by one byte" "not the one the backup's statement signed" -- tg db restore snapbyte.tgb --replace --reason r
bad_input "a backup whose statement was edited by one byte" "signature does not verify" -- tg db restore stmtbyte.tgb --replace --reason r
# Another appliance's backup (its own records and key).
(export TRUSTGATE_DB=$WORK/other.db; tg db init >/dev/null; tg supplier add acme --reason r >/dev/null; tg appliance-key init >/dev/null; tg db backup --out "$WORK/other.tgb" >/dev/null)
bad_input "another appliance's backup" "signature does not verify under appliance key" -- tg db restore "$WORK/other.tgb" --replace --reason r
bad_input "not a backup at all" "not a trustgate backup" -- tg db restore fw.bin --replace --reason r

# --- an anchored appliance: an older backup is a rollback
if command -v swtpm >/dev/null && start_swtpm; then
	TCTI=$TPM2TOOLS_TCTI
	tg audit anchor --tcti "$TCTI" >/dev/null
	tg db backup --out "$WORK/anchored-old.tgb" >/dev/null
	tg supplier add gamma --reason "after the old backup" >/dev/null
	expect 0 "verify --tpm before" -- tg audit verify --tpm
	bad_input "restoring a backup older than the TPM anchor is refused" "rolls the records back" -- \
		tg db restore "$WORK/anchored-old.tgb" --replace --reason r
	tg supplier show gamma >/dev/null && ok "the records untouched" || bad "records changed by a refused restore"
	expect 0 "a fresh backup of the anchored appliance restores" -- tg db backup --out "$WORK/anchored-new.tgb"
	expect 0 "... without --accept-rollback" -- tg db restore "$WORK/anchored-new.tgb" --replace --reason "same state"
	expect 0 "--accept-rollback restores the older one" -- tg db restore "$WORK/anchored-old.tgb" --replace --accept-rollback --reason "disk lost, last good backup"
	db_sql "select detail from audit order by seq desc limit 1" | jq -e '.rollback.anchored_seq > .rollback.backup_seq' >/dev/null \
		&& ok "the rollback is audited with the anchored row" || bad "rollback detail: $(db_sql "select detail from audit order by seq desc limit 1")"
	expect 0 "the TPM anchor follows the restored head (verify --tpm intact)" -- tg audit verify --tpm
	stop_swtpm
else
	skip "rollback past the TPM anchor (swtpm not available)"
fi
