#!/bin/bash
# Two appliances on one set of records (PostgreSQL), each anchoring in its
# own TPM the audit head it last wrote: `audit verify --tpm` on either finds
# the shared records rolled back or a row it anchored rewritten, while the
# other appliance's later rows are not "missing anchors".  Each appliance's
# anchor setting and decision log stay on its own disk.
. "$(dirname "$0")/lib.sh"
pg_mode || { skip "two appliances on shared records (PostgreSQL; run by tests/pg.sh)"; exit 0; }
command -v swtpm >/dev/null && command -v tpm2_nvread >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
TCTI_A=$TPM2TOOLS_TCTI
mkdir -p tpmB stateA stateB
swtpm socket --tpmstate dir="$WORK/tpmB" --tpm2 --server type=unixio,path="$WORK/tpmB.sock" \
	--ctrl type=unixio,path="$WORK/tpmB.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$WORK/swtpmB.pid" \
	|| { bad "second swtpm starts"; exit 0; }
trap 'stop_swtpm; kill "$(cat "$WORK/swtpmB.pid")" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do [ -S "$WORK/tpmB.sock" ] && break; sleep 0.1; done
TCTI_B="swtpm:path=$WORK/tpmB.sock"
A() { TRUSTGATE_STATE_DIR=$WORK/stateA "$TG_BIN" "$@"; }
B() { TRUSTGATE_STATE_DIR=$WORK/stateB "$TG_BIN" "$@"; }

A db init >/dev/null
expect 0 "appliance A anchors the shared records in its TPM" -- A audit anchor --tcti "$TCTI_A"
expect 0 "appliance B anchors them in its own" -- B audit anchor --tcti "$TCTI_B"
[ -f "stateA/$PGDB.local.json" ] && [ -f "stateB/$PGDB.local.json" ] && ! db_sql "select name from meta" | grep -q tpm_anchor \
	&& ok "each appliance's anchor setting is on its own disk, not in the shared records" || bad "anchor settings: $(ls stateA stateB)"
A supplier add a1 --reason "written by A" >/dev/null
B supplier add b1 --reason "written by B" >/dev/null
A supplier add a2 --reason "written by A" >/dev/null
B supplier add b2 --reason "written by B" >/dev/null
expect 0 "audit verify --tpm on A: the rows it anchored are there (B's later rows are not missing anchors)" -- A audit verify --tpm
expect 0 "audit verify --tpm on B" -- B audit verify --tpm
# The shared records rolled back (restored from an older copy) behind both.
db_save before
A supplier add a3 --reason "A's last" >/dev/null
B supplier add b3 --reason "B's last" >/dev/null
db_save after
db_restore before
expect 1 "the records rolled back: A finds its anchored row missing" -- A audit verify --tpm
printf '%s' "$LAST_OUT" | grep -q "missing" && ok "... naming the missing rows" || bad "A: $LAST_OUT"
expect 1 "... and so does B, from its own TPM" -- B audit verify --tpm
db_restore after
expect 0 "put back: A intact" -- A audit verify --tpm
# A row A anchored (its last), edited by a database administrator.
seq=$(db_sql "select seq from audit where object = 'a3' order by seq desc limit 1")
db_sql "update audit set actor = 'mallory' where seq = $seq"
expect 1 "a row A anchored, edited: A finds it" -- A audit verify --tpm
db_restore after
B audit verify --tpm >/dev/null && ok "B (whose anchored row is untouched) is intact" || bad "B after restore"
