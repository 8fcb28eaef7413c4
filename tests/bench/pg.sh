#!/bin/bash
# make bench (records on PostgreSQL), run inside a throwaway cluster of
# pg_virtualenv (tests/bench/run.sh starts it):
#  1. attestations/s and checks/s over HTTPS with 1, 2 and 4 `serve`
#     processes on one PostgreSQL database, beside one `serve` on a SQLite
#     file, same load: AGENTS agents (tests/bench/attest_load, spread over
#     the services) and CHECKS checks of a 4 KiB signed blob (curl --parallel,
#     16 at a time, spread the same way).  Each service runs one worker, so
#     the process count is the figure.
#  2. `audit verify` and `reevaluate` over VERDICTS verdict rows on
#     PostgreSQL (cloned from one real approved check, as records.sh does for
#     SQLite; an audit chain of as many rows written by audit_chain.py), in
#     rows/s, with the indexes the plans use.
#   BENCH_PG_VERDICTS=N  BENCH_PG_KEYS=N (the revoked key signed VERDICTS/KEYS of them)
#   BENCH_PG_AGENTS=N  BENCH_PG_QUOTES=N  BENCH_PG_CHECKS=N
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=${TG_BENCH_BIN:-$ROOT/build/trustgate}
LOAD=$(dirname "$TG")/bench/attest_load
NV=${BENCH_PG_VERDICTS:-10000000}
AGENTS=${BENCH_PG_AGENTS:-32}
QUOTES=${BENCH_PG_QUOTES:-40}
CHECKS=${BENCH_PG_CHECKS:-400}
NK=${BENCH_PG_KEYS:-1000}
. "$ROOT/tests/e2e/evlog.sh"
W=$(mktemp -d /tmp/tg-bench-pg.XXXXXX)
PIDS=()
stop_all() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=(); }
trap 'stop_all; rm -rf "$W"' EXIT
[ -x "$LOAD" ] || { echo "build $LOAD first (make bench)"; exit 1; }
psql -X -At -c 'select 1' >/dev/null || { echo "no PostgreSQL cluster (run inside pg_virtualenv)"; exit 1; }
cd "$W"
export TRUSTGATE_ACTOR=bench
now() { date +%s.%N; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The boot log and PCR digest attest_load quotes (as service.sh).
: > log.hex; specid_hdr >> log.hex; : > ev.txt
for i in $(seq 42); do
	p=$((i % 8)); data=$(printf 'component %06d' "$i" | xxd -p | tr -d '\n')
	event2 "$p" 13 "$data" >> log.hex; echo "$p $data" >> ev.txt
done
for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000 >> log.hex; echo "$p 00000000" >> ev.txt; done
xxd -r -p log.hex > eventlog.bin
PCRD=$(python3 -c '
import hashlib
pcr = [bytes(32)] * 8
for line in open("ev.txt"):
    p, d = line.split()
    pcr[int(p)] = hashlib.sha256(pcr[int(p)] + hashlib.sha256(bytes.fromhex(d)).digest()).digest()
print(hashlib.sha256(b"".join(pcr)).hexdigest())')
mkdir keys
"$LOAD" keys "$AGENTS" keys
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out v.pem 2>/dev/null
openssl pkey -in v.pem -pubout -out v.pub
head -c 4096 /dev/urandom > fw.bin
openssl dgst -sha256 -sign v.pem -out fw.sig fw.bin

# Records at $1 with a CA in $2: the hosts, their certificates, a buyer.
setup() {
	export TRUSTGATE_DB=$1 TRUSTGATE_CA=$2
	"$TG" db init >/dev/null
	"$TG" reference import --eventlog eventlog.bin --model bench --reason bench >/dev/null
	"$TG" supplier add acme --country CN --max-tier 5 --review R --review-expires 2099-12-31 --reason bench >/dev/null
	"$TG" key add acme v.pub --hash sha256 --reason bench >/dev/null
	"$TG" ca init >/dev/null
	rm -rf certs; mkdir certs
	for i in $(seq "$AGENTS"); do
		"$TG" host enroll "h$i" --no-challenge --ak "keys/h$i.tpm2b" --model bench --reason bench >/dev/null
		"$TG" user add "h$i" --role host --out certs >/dev/null
	done
	"$TG" user add buyer --role procurement --out certs >/dev/null
}

# run LABEL TARGET N: N services on TARGET; attestations/s, checks/s.
run() {
	local label=$1 target=$2 n=$3 ports=() list="" ca=$W/ca-$1
	setup "$target" "$ca"
	for _ in $(seq "$n"); do
		local p; p=$(port)
		"$TG" --tier 2 serve --listen "127.0.0.1:$p" --workers 1 --spool "$W" >"serve-$p.out" 2>"serve-$p.log" &
		PIDS+=($!)
		ports+=("$p")
	done
	for p in "${ports[@]}"; do
		for _ in $(seq 100); do grep -q listening "serve-$p.out" 2>/dev/null && break; sleep 0.1; done
		list=${list:+$list,}$p
	done
	local res rate
	res=$("$LOAD" run "$list" "$ca/ca.pem" certs keys eventlog.bin "$PCRD" "$QUOTES" "$AGENTS" 2>load.err) || { echo "$label: load failed: $res $(head -3 load.err)"; stop_all; return 1; }
	rate=$(sed 's/.* rate \([0-9]*\).*/\1/' <<<"$res")
	# Checks: one curl, 16 transfers at a time, round robin over the services.
	: > checks.cfg
	for i in $(seq "$CHECKS"); do
		p=${ports[$((i % n))]}
		[ "$i" -gt 1 ] && echo next >> checks.cfg
		printf 'url = "https://127.0.0.1:%s/v1/check"\ncacert = "%s/ca.pem"\ncert = "certs/buyer.pem"\nkey = "certs/buyer.key"\nform = "file=@fw.bin"\nform = "sig=@fw.sig"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$p" "$ca" >> checks.cfg
	done
	local t0 t1 okc
	t0=$(now)
	curl -s --no-progress-meter --parallel --parallel-max 16 -K checks.cfg > checks.st 2>checks.err
	t1=$(now)
	okc=$(grep -c '^200$' checks.st)
	[ "$okc" = "$CHECKS" ] || echo "$label: check answers: $(sort checks.st | uniq -c | tr "\n" " ") $(head -c 200 checks.err)"
	stop_all
	local trusted
	trusted=$("$TG" --json audit verify >/dev/null 2>&1 && echo "chain intact" || echo "CHAIN BROKEN")
	printf '%-34s %14s %12.0f   (%s/%s checks 200; %s)\n' "$label" "$rate" "$(echo "$okc / ($t1 - $t0)" | bc -l)" \
		"$okc" "$CHECKS" "$trusted"
	eval "R_$4=$rate C_$4=$(echo "$okc / ($t1 - $t0)" | bc -l)"
}

# What one statement costs here, whatever the statement: a service's worker
# waits for each round trip, so this bounds one worker's rate.  Measured
# alone, with two clients, and alone beside a busy loop: on a VM the wake-up
# of an idle virtual CPU can be most of a round trip.
if command -v pgbench >/dev/null; then
	createdb rtt && pgbench -i -q rtt >/dev/null 2>&1
	rtt() { pgbench -n -S -M prepared -T 3 "$@" rtt 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'; }
	r1=$(rtt -c 1); r2=$(rtt -c 2 -j 2)
	timeout 4 sh -c 'while :; do :; done' & busy=$!
	rb=$(rtt -c 1); kill "$busy" 2>/dev/null; wait "$busy" 2>/dev/null
	echo "one statement's round trip (pgbench -S, prepared, $(psql -X -At -c 'select coalesce(inet_server_addr()::text, '"'unix socket'"')')): 1 client ${r1:-?} ms; 2 clients ${r2:-?} ms each; 1 client beside a busy loop ${rb:-?} ms"
	dropdb rtt
fi
echo "== attestations/s and checks/s over HTTPS: $AGENTS agents x $QUOTES attestations, $CHECKS checks (4 KiB blob), $(nproc) cores, one worker per service"
printf '%-34s %14s %12s\n' "records, services" "attest/s" "checks/s"
run "SQLite file, 1 serve" "$W/s.db" 1 s1
createdb bench1; run "PostgreSQL, 1 serve" "postgresql:///bench1" 1 p1
createdb bench2; run "PostgreSQL, 2 serves" "postgresql:///bench2" 2 p2
createdb bench4; run "PostgreSQL, 4 serves" "postgresql:///bench4" 4 p4
printf 'PostgreSQL 1 serve / SQLite 1 serve: attestations %.2fx, checks %.2fx\n' "$(echo "$R_p1 / $R_s1" | bc -l)" "$(echo "$C_p1 / $C_s1" | bc -l)"
printf 'PostgreSQL 4 serves / 1 serve: attestations %.2fx, checks %.2fx\n' "$(echo "$R_p4 / $R_p1" | bc -l)" "$(echo "$C_p4 / $C_p1" | bc -l)"

# ---- 2. VERDICTS verdict rows on PostgreSQL (BENCH_PG_VERDICTS=0: not run)
[ "$NV" -gt 0 ] || exit 0
echo
echo "== records on PostgreSQL: $NV verdicts and $NV audit rows"
createdb big
export TRUSTGATE_DB=postgresql:///big
"$TG" db init >/dev/null
"$TG" supplier add acme --review R-1 --review-expires 2099-01-01 --reason bench >/dev/null
"$TG" product add acme fw --kind firmware --reason bench >/dev/null
for i in $(seq "$NK"); do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k$i.pem 2>/dev/null
	openssl pkey -in k$i.pem -pubout -out k$i.pub
	"$TG" key add acme k$i.pub --purpose firmware --reason bench >/dev/null
	echo "$i $(openssl pkey -pubin -in k$i.pub -outform DER | sha256sum | cut -d' ' -f1)"
done > keys.txt
openssl dgst -sha256 -sign k1.pem -out fw1.sig fw.bin
"$TG" release add acme fw 1.0 --file fw.bin --reason bench >/dev/null
"$TG" check fw.bin --sig fw1.sig --product fw --version 1.0 >/dev/null || { echo "the template check was not approved" >&2; exit 1; }
fp1=$(sed -n 1p keys.txt | cut -d' ' -f2)
t0=$(now)
psql -X -q -v ON_ERROR_STOP=1 <<SQL -d big
CREATE TEMP TABLE k (i BIGINT PRIMARY KEY, fp TEXT COLLATE "C");
\copy k FROM 'keys.txt' WITH (FORMAT text, DELIMITER ' ')
INSERT INTO verdict (time, actor, command, kind, subject_path, subject_sha256, subject_size, result, tier, cii, gm,
                     supplier, product, version, key_fingerprint, report)
SELECT t.time, t.actor, t.command, t.kind, t.subject_path, t.subject_sha256, t.subject_size, t.result, t.tier,
       t.cii, t.gm, t.supplier, t.product, t.version, k.fp, replace(t.report, '$fp1', k.fp)
FROM generate_series(1, $NV - 1) n, verdict t, k WHERE t.id = 1 AND k.i = (n % $NK) + 1;
ANALYZE verdict;
SQL
t1=$(now)
printf 'verdict rows: %s (cloned in %.0f s)\n' "$(psql -X -At -d big -c 'select count(*) from verdict')" "$(echo "$t1 - $t0" | bc -l)"
t0=$(now)
python3 "$ROOT/tests/bench/audit_chain.py" --copy "$NV" audit.copy "$(psql -X -At -d big -c "select seq || ' ' || hash from audit order by seq desc limit 1")" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d big -c "\\copy audit FROM 'audit.copy'" \
	-c "UPDATE meta SET value = (SELECT seq || ':' || hash FROM audit ORDER BY seq DESC LIMIT 1) WHERE name = 'audit_head'" \
	-c "UPDATE meta SET value = CAST((SELECT count(*) FROM audit WHERE action NOT IN ('check', 'attest', 'reevaluate')) AS TEXT) WHERE name = 'audit_record_rows'" \
	-c "ANALYZE audit"
t1=$(now)
NA=$(psql -X -At -d big -c 'select count(*) from audit')
printf 'audit rows: %s (written in %.0f s); database %s\n' "$NA" "$(echo "$t1 - $t0" | bc -l)" "$(psql -X -At -d big -c "select pg_size_pretty(pg_database_size('big'))")"

t0=$(now); "$TG" audit verify > verify.txt; rc=$?; t1=$(now)
av=$(echo "$t1 - $t0" | bc -l)
printf '%-52s %8.1f s %12.0f rows/s   (%s)\n' "audit verify ($NA rows, one cursor)" "$av" "$(echo "$NA / $av" | bc -l)" "$(head -1 verify.txt)"
[ "$rc" = 0 ] || echo "audit verify did not find the chain intact (exit $rc)"
"$TG" key revoke "${fp1:0:16}" --reason bench > /dev/null
t0=$(now); "$TG" --json reevaluate > re.json; rc=$?; t1=$(now)
re=$(echo "$t1 - $t0" | bc -l)
changed=$(jq -r .changed re.json)
printf '%-52s %8.1f s %12.0f verdicts/s   (exit %d; %s)\n' "reevaluate after revoking 1 of $NK keys" "$re" \
	"$(echo "$changed / $re" | bc -l)" "$rc" "$(jq -c '{considered, changed, unchanged}' re.json)"
echo "plans: $(psql -X -At -d big -c "EXPLAIN SELECT v.id FROM verdict v WHERE v.key_fingerprint = 'x' AND v.result = 'approved'" | head -1 | sed 's/  */ /g')"
echo "indexes on verdict: $(psql -X -At -d big -c "select string_agg(indexname, ', ' order by indexname) from pg_indexes where tablename = 'verdict'")"
echo "PostgreSQL $(psql -X -At -c 'show server_version'), shared_buffers $(psql -X -At -c 'show shared_buffers'), $(nproc) cores"
