#!/bin/bash
# attest --batch: many hosts in one process with worker processes; one line
# per host in input order; every verdict recorded; an unreadable bundle is
# an error line, never a verdict.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
tg db init >/dev/null
t2 tpm2_createek -c ek.ctx -G rsa -u ek.pub || exit 0
t2 tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.tpm2b
fw=$(strhex "platform firmware 1.0"); boot=$(strhex "shim+grub 15.7"); sep=00000000
events=("0 1 $fw" "4 2147483651 $boot"); for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > golden.log
for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done
tg reference import --eventlog golden.log --model edge --reason golden >/dev/null
mkdir hosts
mk() { # HOST [skip-enroll]
	local h=$1 n; n=$(openssl rand -hex 20)
	mkdir -p "hosts/$h"
	t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$n" -m "hosts/$h/attest.bin" -s "hosts/$h/sig.bin" -g sha256
	cp golden.log "hosts/$h/eventlog.bin"; echo "$n" > "hosts/$h/nonce"
	[ -n "${2:-}" ] || tg host enroll "$h" --no-challenge --ak ak.tpm2b --model edge --reason r >/dev/null
}
for h in a1 a2 a3 a4 a5 a6; do mk "$h"; done
mk zz-unknown skip
{ specid_hdr; event2 0 1 "$fw"; } | xxd -r -p > "hosts/a3/eventlog.bin"          # log does not match
openssl rand -hex 20 > hosts/a4/nonce                                               # another nonce
rm hosts/a5/sig.bin                                                                  # unreadable bundle
expect 2 "batch over a directory: exit 2 when one bundle is unreadable" -- tg attest --batch hosts --workers 2
want="TRUSTED    a1
TRUSTED    a2
UNTRUSTED  a3  EVENTLOG_REPLAY_MISMATCH,SEPARATOR_INVALID
UNTRUSTED  a4  QUOTE_NONCE
TRUSTED    a6
UNTRUSTED  zz-unknown  HOST_UNKNOWN"
got=$(printf '%s\n' "$LAST_OUT" | grep -v '^ERROR' | sed 's/  *$//')
[ "$got" = "$want" ] && ok "one line per host, in order, with reason codes" || { bad "batch lines"; printf '%s\n' "$LAST_OUT" | sed 's/^/#   /'; }
printf '%s\n' "$LAST_OUT" | grep -q '^ERROR      a5  .*sig.bin' && ok "the unreadable bundle is an ERROR line naming the file" || bad "error line for a5"
n=$(db_sql "select count(*) from verdict where command='attest'")
[ "$n" -eq 6 ] && ok "6 verdicts recorded (none for the error)" || bad "6 verdicts recorded ($n)"
expect 0 "audit chain intact after a batch" -- tg audit verify
# The same nonces again: every host's nonce was consumed.
rm -rf hosts/a5 hosts/zz-unknown
expect 1 "the same batch replayed: every host untrusted" -- tg attest --batch hosts
[ "$(printf '%s\n' "$LAST_OUT" | grep -c QUOTE_NONCE)" -eq 5 ] && ok "replayed batch: QUOTE_NONCE for all 5 hosts" || bad "replayed batch nonces"
# JSON lines on stdin, and --json output (one document per line).
for h in a1 a2; do mk "$h-b" skip; tg host enroll "$h-b" --no-challenge --ak ak.tpm2b --model edge --reason r >/dev/null; done
printf '{"host": "a1-b", "nonce": "%s", "bundle": "%s"}\n{"host": "a2-b", "nonce": "%s", "bundle": "%s"}\n' \
	"$(cat hosts/a1-b/nonce)" "$PWD/hosts/a1-b" "$(cat hosts/a2-b/nonce)" "$PWD/hosts/a2-b" > jobs.jsonl
out=$(tg --json attest --batch - < jobs.jsonl 2>/dev/null); rc=$?
[ "$rc" -eq 0 ] && [ "$(printf '%s\n' "$out" | jq -s 'map(.verdict) == ["trusted","trusted"] and map(.host) == ["a1-b","a2-b"]')" = true ] \
	&& ok "JSON lines on stdin, --json results in order" || { bad "stdin batch (exit $rc)"; printf '%s\n' "$out" | head -3; }
echo '{"host": "x"}' > badjobs.jsonl
bad_input "malformed JSON line refused" "stdin line 1" -- sh -c "$TG_BIN attest --batch - < badjobs.jsonl"
