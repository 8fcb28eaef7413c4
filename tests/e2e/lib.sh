# Shared helpers for trustgate's end-to-end tests.  Each test prints one
# line "ok - NAME", "not ok - NAME" or "skip - NAME"; tests/run.sh counts.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TG_BIN=${TG_BIN:-$ROOT/build/trustgate}
WORK=$(mktemp -d /tmp/tg-e2e.XXXXXX)
[ -n "${TG_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
export TRUSTGATE_DB=$WORK/tg.db
export TRUSTGATE_ACTOR=e2e-tester
cd "$WORK"

# The records' engine.  SQLite files by default; with
# TG_TEST_ENGINE=postgresql (tests/run.sh, inside a throwaway cluster of
# pg_virtualenv, which sets PGHOST/PGPORT/PGUSER/PGPASSWORD) each test file
# has a PostgreSQL database of its own as $TRUSTGATE_DB.  Records named by an
# explicit file path stay SQLite files either way.
TG_ENGINE=${TG_TEST_ENGINE:-sqlite}
if [ "$TG_ENGINE" = postgresql ]; then
	PGDB=tg_$(basename "$WORK" | tr -c 'a-zA-Z0-9\n' _ | tr 'A-Z' 'a-z')
	createdb "$PGDB" || { echo "not ok - createdb $PGDB"; exit 1; }
	export TRUSTGATE_DB="postgresql:///$PGDB"
	export TRUSTGATE_STATE_DIR=$WORK
fi
# The appliance's own files kept beside the records (appliance key,
# decision log) are named $TG_LOCAL.appliance.pem, $TG_LOCAL.decisions.
if [ "$TG_ENGINE" = postgresql ]; then TG_LOCAL=$WORK/$PGDB; else TG_LOCAL=$TRUSTGATE_DB; fi
pg_mode() { [ "$TG_ENGINE" = postgresql ]; }
# db_sql SQL: run SQL on the records behind the tool's back (psql or
# sqlite3, both printing rows as a|b).
db_sql() {
	if pg_mode; then psql -X -q -At -v ON_ERROR_STOP=1 -d "$PGDB" -c "$1"
	else sqlite3 "$TRUSTGATE_DB" "$1"; fi
}
# db_save NAME / db_restore NAME: a copy of the whole records, and back.
db_save() {
	if pg_mode; then dropdb --if-exists "${PGDB}_$1" 2>/dev/null; createdb -T "$PGDB" "${PGDB}_$1"
	else sqlite3 "$TRUSTGATE_DB" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; cp "$TRUSTGATE_DB" "$WORK/$1.saved"; fi
}
db_restore() {
	if pg_mode; then dropdb "$PGDB" && createdb -T "${PGDB}_$1" "$PGDB"
	else cp "$WORK/$1.saved" "$TRUSTGATE_DB"; rm -f "$TRUSTGATE_DB-wal" "$TRUSTGATE_DB-shm"; fi
}
# db_blob FILE: the file's bytes as an SQL literal of the engine.
db_blob() {
	if pg_mode; then printf "decode('%s', 'hex')" "$(xxd -p "$1" | tr -d '\n')"
	else printf "X'%s'" "$(xxd -p "$1" | tr -d '\n')"; fi
}
# db_drop: the records deleted; db_exists: whether there are any.
db_drop() {
	if pg_mode; then dropdb "$PGDB"; else rm -f "$TRUSTGATE_DB" "$TRUSTGATE_DB-wal" "$TRUSTGATE_DB-shm"; fi
}
db_exists() {
	if pg_mode; then psql -X -At -d postgres -c "select 1 from pg_database where datname = '$PGDB'" | grep -qx 1
	else [ -e "$TRUSTGATE_DB" ]; fi
}
# sqlite_only NAME: true on SQLite; on PostgreSQL says NAME is skipped (a
# check of the SQLite file itself).
sqlite_only() { pg_mode || return 0; skip "$1 (a check of the SQLite file)"; return 1; }

tg() { "$TG_BIN" "$@"; }

ok()   { echo "ok - $*"; }
bad()  { echo "not ok - $*"; }
skip() { echo "skip - $*"; }

# expect CODE NAME -- command...: exit status must be CODE.
expect() {
	local want=$1 name=$2; shift 3
	local out rc
	out=$("$@" 2>"$WORK/.stderr"); rc=$?
	LAST_OUT=$out
	LAST_ERR=$(cat "$WORK/.stderr")
	if [ "$rc" -eq "$want" ]; then ok "$name"; return 0; fi
	bad "$name (exit $rc, want $want)"
	printf '%s\n' "$out" | head -20 | sed 's/^/#   /'
	printf '%s\n' "$LAST_ERR" | head -5 | sed 's/^/#   stderr: /'
	return 1
}

# check_reason CODE NAME -- check args...: exit 1 with CODE among reasons.
check_reason() {
	local code=$1 name=$2; shift 3
	local out rc
	out=$(tg --json check "$@" 2>"$WORK/.stderr"); rc=$?
	LAST_OUT=$out
	if [ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e --arg c "$code" \
		'.verdict == "rejected" and ([.reasons[].code] | index($c)) != null' >/dev/null; then
		ok "$name"; return 0
	fi
	bad "$name (exit $rc, want 1 with $code)"
	printf '%s\n' "$out" | jq -c '.reasons' 2>/dev/null | sed 's/^/#   /'
	sed 's/^/#   stderr: /' "$WORK/.stderr" | head -3
	return 1
}

# check_ok NAME -- check args...: exit 0, verdict approved, no reasons.
check_ok() {
	local name=$1; shift 2
	local out rc
	out=$(tg --json check "$@" 2>"$WORK/.stderr"); rc=$?
	LAST_OUT=$out
	if [ "$rc" -eq 0 ] && printf '%s' "$out" | jq -e '.verdict == "approved" and (.reasons|length) == 0' >/dev/null; then
		ok "$name"; return 0
	fi
	bad "$name (exit $rc, want 0/approved)"
	printf '%s\n' "$out" | jq -c '.reasons' 2>/dev/null | sed 's/^/#   /'
	sed 's/^/#   stderr: /' "$WORK/.stderr" | head -3
	return 1
}

# Bad input: exit 2, exactly one stderr line that names WHAT, and the
# database unchanged.  Usage: bad_input NAME WHAT -- command...
db_state() {
	local q="select count(*) from audit; select count(*) from verdict; select count(*) from key; select count(*) from supplier; select count(*) from product; select count(*) from release;"
	if pg_mode; then psql -X -q -At -d "$PGDB" -c "$q" 2>/dev/null | tr '\n' ' '; return 0; fi
	[ -f "$TRUSTGATE_DB" ] || return 0; sqlite3 -readonly "$TRUSTGATE_DB" "$q" 2>/dev/null | tr '\n' ' '; }
bad_input() {
	local name=$1 what=$2; shift 3
	local before after rc lines
	before=$(db_state)
	"$@" >/dev/null 2>"$WORK/.stderr"; rc=$?
	after=$(db_state)
	lines=$(wc -l <"$WORK/.stderr")
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$what" "$WORK/.stderr" && [ "$before" = "$after" ]; then
		ok "$name"; return 0
	fi
	bad "$name (exit $rc, $lines stderr lines, db ${before:-none} -> ${after:-none})"
	sed 's/^/#   stderr: /' "$WORK/.stderr" | head -3
	return 1
}

fpr() { openssl pkey -pubin -in "$1" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1; }

# A fresh database with one approved supplier "acme" (tier <= 5, CII, review
# valid) and keys of every algorithm.  Keys in $WORK/keys.
setup_supplier() {
	tg db init >/dev/null
	tg supplier add acme --country CN --max-tier 5 --cii --review SR-2026-01 \
		--review-expires 2099-12-31 --reason "e2e supplier" >/dev/null
}

genkey() { # NAME TYPE...
	local n=$1; shift
	case "$1" in
	rsa*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${1#rsa} -out "$n.pem" 2>/dev/null ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$n.pem" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$n.pem" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$n.pem" ;;
	sm2) openssl genpkey -algorithm SM2 -out "$n.pem" ;;
	esac
	openssl pkey -in "$n.pem" -pubout -out "$n.pub"
}

# sign KEY FILE OUT [DIGEST] [extra openssl args]
sign() {
	local key=$1 file=$2 out=$3 dg=${4:-sha256}; shift 3; [ $# -gt 0 ] && shift
	local text; text=$(openssl pkey -in "$key.pem" -noout -text 2>/dev/null)
	case "$text" in
	*ED25519*) openssl pkeyutl -sign -rawin -inkey "$key.pem" -in "$file" -out "$out" ;;
	*"ASN1 OID: SM2"*) openssl dgst -sm3 -sign "$key.pem" -sigopt distid:1234567812345678 -out "$out" "$file" ;;
	*) openssl dgst -"$dg" -sign "$key.pem" "$@" -out "$out" "$file" ;;
	esac
}

flip() { # flip one byte of FILE at OFFSET into OUT
	cp "$1" "$3"
	local b; b=$(xxd -s "$2" -l 1 -p "$1")
	printf "%02x" $(( 0x$b ^ 0x01 )) | xxd -r -p | dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# swtpm on a unix socket inside $WORK, started and stopped by the test.
start_swtpm() {
	mkdir -p "$WORK/tpmstate"
	swtpm socket --tpmstate dir="$WORK/tpmstate" --tpm2 \
		--server type=unixio,path="$WORK/tpm.sock" --ctrl type=unixio,path="$WORK/tpm.sock.ctrl" \
		--flags not-need-init,startup-clear --daemon --pid file="$WORK/swtpm.pid" || return 1
	for _ in $(seq 50); do [ -S "$WORK/tpm.sock" ] && break; sleep 0.1; done
	export TPM2TOOLS_TCTI="swtpm:path=$WORK/tpm.sock"
	trap 'stop_swtpm; rm -rf "$WORK"' EXIT
}
stop_swtpm() { [ -f "$WORK/swtpm.pid" ] && kill "$(cat "$WORK/swtpm.pid")" 2>/dev/null; rm -f "$WORK/swtpm.pid"; }
# tpm2-tools without a resource manager: flush transient objects and
# sessions after each command.
t2() { "$@" >/dev/null 2>"$WORK/.t2err" || { echo "# $* failed: $(head -2 "$WORK/.t2err")"; return 1; }; tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; return 0; }
