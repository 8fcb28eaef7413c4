#!/bin/bash
# make bench (records): two figures of the records issue, in one run.
#
# 1. `trustgate reevaluate` after revoking one key, with 100,000 verdicts
#    recorded: 100 keys, each of which approved 1,000 of them (verdict rows
#    cloned from a real approved check, each naming its key), so revoking
#    one re-decides 1,000.  Target: <= 2 s on this 2-core machine.
# 2. `trustgate audit verify` over 1,000,000 audit rows (a valid chain,
#    written by tests/bench/audit_chain.py), in rows/s, beside `sha256sum`
#    of the same bytes.  Goal: <= 2x.
#   BENCH_VERDICTS=N  BENCH_KEYS=N  BENCH_AUDIT_ROWS=N   smaller runs
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=$ROOT/build/trustgate
NV=${BENCH_VERDICTS:-100000}
NK=${BENCH_KEYS:-100}
NA=${BENCH_AUDIT_ROWS:-1000000}
W=$(mktemp -d /tmp/tg-bench-rec.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
export TRUSTGATE_DB=$W/r.db TRUSTGATE_ACTOR=bench
now() { date +%s%N; }

echo "records: $NK keys, one approved check, cloned to $NV verdicts..."
"$TG" db init >/dev/null
"$TG" supplier add acme --review R-1 --review-expires 2099-01-01 --reason bench >/dev/null
"$TG" product add acme fw --kind firmware --reason bench >/dev/null
for i in $(seq "$NK"); do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k$i.pem 2>/dev/null
	openssl pkey -in k$i.pem -pubout -out k$i.pub
	"$TG" key add acme k$i.pub --purpose firmware --reason bench >/dev/null
done
head -c 4096 /dev/urandom > fw.bin
openssl dgst -sha256 -sign k1.pem -out fw.sig fw.bin
"$TG" release add acme fw 1.0 --file fw.bin --reason bench >/dev/null
"$TG" check fw.bin --sig fw.sig --product fw --version 1.0 >/dev/null || { echo "the template check was not approved" >&2; exit 1; }
fp1=$(openssl pkey -pubin -in k1.pub -outform DER | sha256sum | cut -d' ' -f1)
for i in $(seq "$NK"); do
	echo "$i $(openssl pkey -pubin -in k$i.pub -outform DER | sha256sum | cut -d' ' -f1)"
done > keys.txt
# Clone the template verdict: row n belongs to key (n mod NK) + 1, its
# report naming that key (what reevaluate reads).
sqlite3 r.db <<SQL
CREATE TEMP TABLE k (i INTEGER PRIMARY KEY, fp TEXT);
.mode list
.separator " "
.import keys.txt k
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $NV - 1)
INSERT INTO verdict (time, actor, command, kind, subject_path, subject_sha256, subject_size, result, tier, cii, gm,
                     supplier, product, version, key_fingerprint, report)
SELECT t.time, t.actor, t.command, t.kind, t.subject_path, t.subject_sha256, t.subject_size, t.result, t.tier,
       t.cii, t.gm, t.supplier, t.product, t.version, k.fp, replace(t.report, '$fp1', k.fp)
FROM n, verdict t, k WHERE t.id = 1 AND k.i = (n.x % $NK) + 1;
SQL
echo "verdicts recorded: $(sqlite3 r.db 'select count(*) from verdict')"
"$TG" key revoke "${fp1:0:16}" --reason bench > revoke.txt
echo "key revoke: $(sed -n 2p revoke.txt)"
t0=$(now)
"$TG" --json reevaluate > re.json
rc=$?
t1=$(now)
re_s=$(awk "BEGIN{printf \"%.2f\", ($t1 - $t0) / 1e9}")
printf '\n%-60s %10s\n' "reevaluate after revoking 1 of $NK keys ($NV verdicts)" "seconds"
printf '%-60s %10s   (exit %d; %s)\n' "trustgate reevaluate" "$re_s" "$rc" "$(jq -c '{considered, changed, unchanged}' re.json)"
echo "target: <= 2 s"

echo
echo "audit: a chain of $NA rows..."
rm -f a.db
TRUSTGATE_DB=$W/a.db "$TG" db init >/dev/null
python3 "$ROOT/tests/bench/audit_chain.py" a.db "$NA" rows.bin || exit 1
sync
cat rows.bin >/dev/null
t0=$(now)
TRUSTGATE_DB=$W/a.db "$TG" audit verify > verify.txt
rc=$?
t1=$(now)
sha256sum rows.bin >/dev/null
t2=$(now)
tg_s=$(awk "BEGIN{printf \"%.2f\", ($t1 - $t0) / 1e9}")
sh_s=$(awk "BEGIN{printf \"%.2f\", ($t2 - $t1) / 1e9}")
mb=$(du -m rows.bin | cut -f1)
printf '\n%-60s %10s %14s\n' "$NA audit rows ($mb MiB of hashed bytes)" "seconds" "rows/s"
printf '%-60s %10s %14s   (%s)\n' "trustgate audit verify" "$tg_s" "$(awk "BEGIN{printf \"%d\", $NA / $tg_s}")" "$(head -1 verify.txt)"
printf '%-60s %10s %14s\n' "sha256sum of the same bytes" "$sh_s" "$(awk "BEGIN{printf \"%d\", $NA / $sh_s}")"
printf '\ntrustgate / sha256sum: %sx   (goal <= 2x)\n' "$(awk "BEGIN{printf \"%.2f\", $tg_s / $sh_s}")"
[ $rc -eq 0 ] || { echo "audit verify did not find the chain intact" >&2; exit 1; }
