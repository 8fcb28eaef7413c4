#!/bin/bash
# TPM-anchored audit (issue 6 item 4): `audit anchor` binds the records to
# an NV counter and an NV head index of a swtpm; every audit row reaches the
# TPM before its transaction commits; `audit verify --tpm` finds an older
# copy of the database, a truncated chain (even one made consistent again),
# and an anchor written back to an older value.
. "$(dirname "$0")/lib.sh"
command -v swtpm >/dev/null && command -v tpm2_nvread >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
TCTI=$TPM2TOOLS_TCTI
tg db init >/dev/null
expect 0 "audit anchor" -- tg audit anchor --tcti "$TCTI"
t2 tpm2_nvreadpublic 0x01500010 && t2 tpm2_nvreadpublic 0x01500011 && ok "NV counter 0x01500010 and head 0x01500011 defined" || bad "NV indices"
for s in alpha beta gamma; do tg supplier add "$s" --reason "supplier $s" >/dev/null; done
expect 0 "audit verify --tpm: intact and anchored" -- tg audit verify --tpm
# check --batch on anchored records: every verdict's audit row anchored
# (one worker: the TPM connection is one client at a time).
for f in a b c; do echo "$f" > "$f.bin"; printf '{"file":"%s.bin"}\n' "$f"; done > anc.jsonl
expect 1 "check --batch on anchored records: three unsigned files rejected" -- tg --tier 1 check --batch anc.jsonl --workers 2
expect 0 "audit verify --tpm after the batch: intact and anchored" -- tg audit verify --tpm
# An older copy of the database put back.
pg_mode || db_sql "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
db_save old
tg supplier add delta --reason r >/dev/null; tg supplier add epsilon --reason r >/dev/null
db_save new; db_restore old
expect 0 "the older copy alone passes the plain audit verify" -- tg audit verify
expect 1 "audit verify --tpm on the older copy: exit 1" -- tg audit verify --tpm
printf '%s' "$LAST_OUT" | grep -q "missing" && ok "it names the missing rows: $(printf '%s' "$LAST_OUT" | tail -1 | cut -c1-100)" || bad "missing rows: $LAST_OUT"
db_restore new
expect 0 "the current copy: anchored" -- tg audit verify --tpm
# Truncated by hand and made consistent again (head moved back).  Rows that
# created records are missed by the plain verify too (the records have no
# history left); rows of verdicts only the TPM can miss.
n=$(db_sql "select max(seq) from audit")
db_sql "delete from audit where seq >= $((n - 1)); update meta set value = (select seq || ':' || hash from audit order by seq desc limit 1) where name = 'audit_head';"
expect 1 "a truncation that took records' history is found by the plain audit verify (records without history)" -- tg audit verify
printf '%s' "$LAST_OUT" | grep -q "supplier .* has no audit history" && ok "plain verify names a supplier without history" || bad "plain verify: $LAST_OUT"
db_restore new
db_sql "delete from supplier where name in ('delta', 'epsilon'); delete from audit where seq >= $((n - 1)); update meta set value = (select seq || ':' || hash from audit order by seq desc limit 1) where name = 'audit_head';"
expect 1 "records and history truncated together: the tally of record-change rows gives it away" -- tg audit verify
printf '%s' "$LAST_OUT" | grep -q "rows of record changes" && ok "plain verify names the missing record-change rows" || bad "tally: $LAST_OUT"
db_sql "update meta set value = CAST(CAST(value AS BIGINT) - 2 AS TEXT) where name = 'audit_record_rows';"
expect 0 "records, history and tally truncated together, consistently: the plain audit verify cannot tell" -- tg audit verify
expect 1 "audit verify --tpm on the truncated chain: exit 1" -- tg audit verify --tpm
printf '%s' "$LAST_OUT" | grep -q "rows $((n - 1)) to $n are missing" && ok "names rows $((n - 1)) to $n" || bad "truncation: $LAST_OUT"
db_restore new
# The anchor itself written back to an older value (with the owner's
# authority): the monotonic counter has moved on.
t2 tpm2_nvread 0x01500011 -C o -s 48 -o head-old.bin
tg supplier add zeta --reason r >/dev/null
db_save z
t2 tpm2_nvwrite 0x01500011 -C o -i head-old.bin
db_restore new
expect 1 "anchor rolled back together with the database: exit 1" -- tg audit verify --tpm
printf '%s' "$LAST_OUT" | grep -q "rewritten or rolled back" && ok "the counter gives the rollback away" || bad "rollback: $LAST_OUT"
# Records never anchored, checked against this TPM.
TRUSTGATE_DB=$WORK/other.db tg db init >/dev/null
TRUSTGATE_DB=$WORK/other.db expect 1 "other records against this TPM's anchor: exit 1" -- tg audit verify --tpm --tcti "$TCTI"
# A TPM without an anchor.
mkdir -p st2
swtpm socket --tpmstate dir="$WORK/st2" --tpm2 --server type=unixio,path="$WORK/t2.sock" \
	--ctrl type=unixio,path="$WORK/t2.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$WORK/sw2.pid"
for _ in $(seq 50); do [ -S "$WORK/t2.sock" ] && break; sleep 0.1; done
db_restore z
expect 1 "a TPM that holds no anchor: exit 1" -- tg audit verify --tpm --tcti "swtpm:path=$WORK/t2.sock"
printf '%s' "$LAST_OUT" | grep -q "no audit anchor" && ok "says so" || bad "no anchor: $LAST_OUT"
kill "$(cat "$WORK/sw2.pid")" 2>/dev/null
bad_input "--tcti without --tpm" "--tpm" -- tg audit verify --tcti "$TCTI"
TRUSTGATE_DB=$WORK/other.db bad_input "--tpm on records never anchored says so (not a TCTI failure)" "records not anchored" -- tg audit verify --tpm
# The anchoring TPM unreachable: a change is refused and nothing is written.
stop_swtpm
bad_input "anchored records, TPM gone: supplier add refused, records unchanged" "TPM" -- tg supplier add eta --reason r
