#!/bin/bash
# make bench (the service): trustgate serve on loopback, measured from this
# machine only, bounded in time.
#  1. attestations per second over HTTPS: AGENTS concurrent agents, each on
#     one keep-alive TLS connection with its own host certificate: first
#     each asks for QUOTES nonces and quotes them (the TPM's work, done by
#     the generator in software, not timed: on a 2-core machine its RSA
#     signing would otherwise take the service's cores), then all submit
#     their attestations (RSA-2048 AK, 50-event log), timed: every verdict
#     TRUSTED and recorded; p50/p99 per attestation; peak RSS of the
#     service.  Beside it, `attest --batch` through the CLI.
#  2. memory per idle connection (TLS handshake done, no request).
#  3. a 1 GiB check uploaded (curl) vs the same check by the local CLI.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=${TG_BENCH_BIN:-$ROOT/build/trustgate}
LOAD=$(dirname "$TG")/bench/attest_load
AGENTS=${BENCH_AGENTS:-64}
QUOTES=${BENCH_QUOTES:-400}
CLI_HOSTS=${BENCH_CLI_HOSTS:-2000}
IDLE=${BENCH_IDLE:-1000}
BIG_MB=${BENCH_BIG_MB:-1024}
. "$ROOT/tests/e2e/evlog.sh"
W=$(mktemp -d /tmp/tg-bench-service.XXXXXX)
SERVE=
cleanup() { [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT
[ -x "$LOAD" ] || { echo "build $LOAD first (make bench)"; exit 1; }
cd "$W"
export TRUSTGATE_DB=$W/tg.db TRUSTGATE_CA=$W/ca TRUSTGATE_ACTOR=bench
now() { date +%s.%N; }
rss_kib() { # PID...: sum of VmRSS (or VmHWM with hwm)
	local f=${RSS_FIELD:-VmRSS} t=0 p
	for p in "$@"; do t=$((t + $(awk -v f="$f:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done
	echo "$t"
}

# A 50-event boot log (42 loads over PCRs 0-7, 8 separators) and the
# SHA-256 PCR digest a TPM that measured it would quote.
: > log.hex; specid_hdr >> log.hex; : > ev.txt
for i in $(seq 42); do
	p=$((i % 8)); data=$(printf 'component %06d' "$i" | xxd -p | tr -d '\n')
	event2 "$p" 13 "$data" >> log.hex; echo "$p $data" >> ev.txt
done
for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000 >> log.hex; echo "$p 00000000" >> ev.txt; done
xxd -r -p log.hex > eventlog.bin
PCRD=$(python3 -c '
import hashlib, sys
pcr = [bytes(32)] * 8
for line in open("ev.txt"):
    p, d = line.split()
    pcr[int(p)] = hashlib.sha256(pcr[int(p)] + hashlib.sha256(bytes.fromhex(d)).digest()).digest()
print(hashlib.sha256(b"".join(pcr)).hexdigest())')

"$TG" db init >/dev/null
"$TG" reference import --eventlog eventlog.bin --model bench --reason bench >/dev/null
"$TG" ca init >/dev/null
mkdir keys certs
"$LOAD" keys "$AGENTS" keys
for i in $(seq "$AGENTS"); do
	"$TG" host enroll "h$i" --no-challenge --ak "keys/h$i.tpm2b" --model bench --reason bench >/dev/null
	"$TG" user add "h$i" --role host --out certs >/dev/null
done
"$TG" user add bench-admin --role admin --out certs >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TG" --tier 2 serve --listen "127.0.0.1:$PORT" --max-per-ip $((IDLE + AGENTS)) --max-connections $((IDLE + AGENTS + 64)) \
	--spool "$W" >serve.out 2>serve.log &
SERVE=$!
for _ in $(seq 100); do grep -q listening serve.out 2>/dev/null && break; sleep 0.1; done
grep -q listening serve.out || { echo "serve did not start"; head -3 serve.log; exit 1; }
WORKERS=$(pgrep -P "$SERVE" | tr '\n' ' ')

echo
echo "== attestations over HTTPS ($AGENTS agents x $QUOTES, keep-alive, RSA-2048 AK, 50-event log, $(nproc) cores)"
res=$("$LOAD" run "$PORT" ca/ca.pem certs keys eventlog.bin "$PCRD" "$QUOTES" "$AGENTS") || { echo "load run failed: $res"; exit 1; }
peak=$(RSS_FIELD=VmHWM rss_kib "$SERVE" $WORKERS)
rate=$(sed 's/.* rate \([0-9]*\).*/\1/' <<<"$res")
echo "$res"
recorded=$(sqlite3 tg.db "select count(*) from verdict where command='attest' and result='trusted'")
echo "verdicts recorded trusted: $recorded; service peak RSS $((peak / 1024)) MiB (supervisor + $(wc -w <<<"$WORKERS") workers)"

# The same attestations through the CLI: CLI_HOSTS hosts, attest --batch.
mkdir cli && (
	cd cli
	export TRUSTGATE_DB=$W/cli/tg.db
	"$TG" db init >/dev/null
	"$TG" reference import --eventlog ../eventlog.bin --model bench --reason bench >/dev/null
	mkdir keys bundles
	# One AK for every host of the batch (key generation is not measured).
	cp ../keys/h1.key keys/h1.key
	N=$(openssl rand -hex 32)
	"$LOAD" files 1 keys ../eventlog.bin "$PCRD" "$N" bundles
	for i in $(seq 2 "$CLI_HOSTS"); do mkdir "bundles/h$i"; for f in attest.bin sig.bin eventlog.bin nonce; do ln "bundles/h1/$f" "bundles/h$i/$f"; done; done
	for i in $(seq "$CLI_HOSTS"); do "$TG" host enroll "h$i" --no-challenge --ak ../keys/h1.tpm2b --model bench --reason bench >/dev/null; done
	t0=$(now); "$TG" attest --batch bundles > out.txt; t1=$(now)
	n=$(grep -c '^TRUSTED' out.txt)
	cli=$(echo "$n / ($t1 - $t0)" | bc -l)
	printf 'attest --batch (CLI): %d hosts in %.2f s = %.0f hosts/s\n' "$n" "$(echo "$t1 - $t0" | bc -l)" "$cli"
	printf 'service / CLI batch: %.2fx\n' "$(echo "$rate / $cli" | bc -l)"
)

echo
echo "== memory per idle connection ($IDLE TLS connections, handshake done, no request)"
before=$(rss_kib $WORKERS)
"$LOAD" idle "$PORT" ca/ca.pem certs/bench-admin.pem certs/bench-admin.key "$IDLE" 8 > idle.out &
IDLER=$!
for _ in $(seq 200); do grep -q open idle.out 2>/dev/null && break; sleep 0.1; done
sleep 1
during=$(rss_kib $WORKERS)
opened=$(sed 's/open //' idle.out)
wait "$IDLER"
printf '%s connections open: workers RSS %d -> %d KiB = %.1f KiB per idle connection\n' "$opened" "$before" "$during" \
	"$(echo "($during - $before) / ${opened:-1}" | bc -l)"

echo
echo "== a ${BIG_MB} MiB check: upload over HTTPS vs the local CLI"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out v.pem 2>/dev/null
openssl pkey -in v.pem -pubout -out v.pub
"$TG" supplier add acme --country CN --max-tier 5 --review R --review-expires 2099-12-31 --reason bench >/dev/null
"$TG" key add acme v.pub --hash sha256 --reason bench >/dev/null
"$TG" user add buyer --role procurement --out certs >/dev/null
head -c $((BIG_MB * 1024 * 1024)) /dev/urandom > big.bin
openssl dgst -sha256 -sign v.pem -out big.sig big.bin
cat big.bin > /dev/null
# The transport alone: the same bytes over TLS on loopback (curl -T) to a
# server that only decrypts them and throws them away.
SINKPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$ROOT/tests/bench/tls_sink.py" "$SINKPORT" ca/server.pem ca/server.key 3 > sink.out &
SINK=$!
for _ in $(seq 50); do grep -q ready sink.out 2>/dev/null && break; sleep 0.1; done
upload() { # FIRST-FIELD SECOND-FIELD: seconds of one upload + check, approved
	local t0 t1 st
	t0=$(now)
	st=$(curl -s -o up.json -w '%{http_code}' --cacert ca/ca.pem --cert certs/buyer.pem --key certs/buyer.key \
		-F "$1" -F "$2" "https://127.0.0.1:$PORT/v1/check")
	t1=$(now)
	[ "$st" = 200 ] && grep -q '"verdict":"approved"' up.json || { echo "upload check failed: $st $(head -c 300 up.json)" >&2; return 1; }
	echo "$t1 - $t0" | bc -l
}
min() { [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ] && echo "$2" || echo "$1"; }
best_cli=; best_up=; best_spool=; best_floor=
for run in 1 2 3; do
	t0=$(now); "$TG" --tier 2 check big.bin --sig big.sig >/dev/null; rc=$?; t1=$(now)
	[ "$rc" = 0 ] || { echo "CLI check failed ($rc)"; exit 1; }
	best_cli=$(min "$best_cli" "$(echo "$t1 - $t0" | bc -l)")
	t=$(upload "sig=@big.sig" "file=@big.bin") || exit 1
	best_up=$(min "$best_up" "$t")
	t=$(upload "file=@big.bin" "sig=@big.sig") || exit 1
	best_spool=$(min "$best_spool" "$t")
	t0=$(now)
	curl -s -o /dev/null --cacert ca/ca.pem -H "Expect:" -T big.bin "https://127.0.0.1:$SINKPORT/sink"
	t1=$(now)
	best_floor=$(min "$best_floor" "$(echo "$t1 - $t0" | bc -l)")
done
wait "$SINK"
grep -c '"upload":"streamed"' serve.log | grep -qx 3 || echo "warning: the signature-first uploads were not all streamed"
printf 'CLI check %.2f s (best of 3 each)\n' "$best_cli"
printf 'HTTPS upload + check, signature first (checked as it arrives): %.2f s = %.2fx the CLI\n' "$best_up" \
	"$(echo "$best_up / $best_cli" | bc -l)"
printf 'HTTPS upload + check, file first (spooled, then checked): %.2f s = %.2fx\n' "$best_spool" \
	"$(echo "$best_spool / $best_cli" | bc -l)"
printf 'the transport alone (curl -T over TLS to a sink that only decrypts): %.2f s = %.2fx; sink CPU %s s per upload\n' \
	"$best_floor" "$(echo "$best_floor / $best_cli" | bc -l)" "$(awk '/^got/ {print $4}' sink.out | sort -n | head -1)"
