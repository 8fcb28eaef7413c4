#!/bin/bash
# make bench (attestation): quote + L-event log verification with an
# RSA-2048 AK, `trustgate attest --batch` over N enrolled hosts, side by
# side in one run with tpm2_checkquote + tpm2_eventlog per host (one
# process each, as a script does it).  L = 10, 50, 100, 1000 events.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=${TG_BENCH_BIN:-$ROOT/build/trustgate}
. "$ROOT/tests/e2e/evlog.sh"
HOSTS=${BENCH_HOSTS:-5000}
PEER_HOSTS=${BENCH_PEER_HOSTS:-100}
LENGTHS=${BENCH_LENGTHS:-"10 50 100 1000"}
W=$(mktemp -d /tmp/tg-bench-attest.XXXXXX)
cleanup() { [ -f "$W/swtpm.pid" ] && kill "$(cat "$W/swtpm.pid")" 2>/dev/null; rm -rf "$W"; }
[ -n "${BENCH_KEEP:-}" ] || trap cleanup EXIT
command -v swtpm >/dev/null && command -v tpm2_checkquote >/dev/null || { echo "swtpm/tpm2-tools missing"; exit 1; }
t2() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; }
now() { date +%s.%N; }

printf '\n%-8s %7s %18s %22s %8s\n' "events" "hosts" "trustgate hosts/s" "tpm2-tools hosts/s" "ratio"
for L in $LENGTHS; do
	D=$W/L$L; mkdir -p "$D/tpm" && cd "$D"
	export TRUSTGATE_DB=$D/tg.db TRUSTGATE_ACTOR=bench
	swtpm socket --tpmstate dir="$D/tpm" --tpm2 --server type=unixio,path="$D/s" --ctrl type=unixio,path="$D/s.ctrl" \
		--flags not-need-init,startup-clear --daemon --pid file="$W/swtpm.pid"
	sleep 0.3
	export TPM2TOOLS_TCTI="swtpm:path=$D/s"
	t2 tpm2_createek -c ek.ctx -G rsa -u ek.pub
	t2 tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.tpm2b
	t2 tpm2_readpublic -c ak.ctx -f pem -o ak.pem
	# L events: L-8 loads spread over PCRs 0-7, then the 8 separators.
	: > log.hex; specid_hdr >> log.hex; ext=()
	for i in $(seq $((L - 8))); do
		p=$((i % 8)); data=$(printf 'component %06d' "$i" | xxd -p | tr -d '\n')
		event2 "$p" 13 "$data" >> log.hex
		ext+=("$p:sha1=$(dig sha1 "$data"),sha256=$(dig sha256 "$data")")
	done
	for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000 >> log.hex; ext+=("$p:sha1=$(dig sha1 00000000),sha256=$(dig sha256 00000000)"); done
	xxd -r -p log.hex > eventlog.bin
	for ((k = 0; k < ${#ext[@]}; k += 16)); do t2 tpm2_pcrextend "${ext[@]:k:16}"; done
	nonce=$(openssl rand -hex 20)
	t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$nonce" -m attest.bin -s sig.bin -o pcrs.bin -g sha256
	kill "$(cat "$W/swtpm.pid")"; rm -f "$W/swtpm.pid"
	"$TG" db init >/dev/null
	"$TG" reference import --eventlog eventlog.bin --model bench --reason bench >/dev/null
	n=$HOSTS; [ "$L" -eq 50 ] || n=$((HOSTS / 5))
	mkdir hosts
	for i in $(seq "$n"); do
		h=h$i; mkdir "hosts/$h"
		ln attest.bin "hosts/$h/attest.bin"; ln sig.bin "hosts/$h/sig.bin"; ln eventlog.bin "hosts/$h/eventlog.bin"
		echo "$nonce" > "hosts/$h/nonce"
		"$TG" host enroll "$h" --no-challenge --ak ak.tpm2b --model bench --reason bench >/dev/null
	done
	cp tg.db tg.db.fresh
	best=""
	for run in 1 2 3; do
		cp tg.db.fresh tg.db; rm -f tg.db-wal tg.db-shm
		t0=$(now); "$TG" attest --batch hosts > out.txt 2>/dev/null; rc=$?; t1=$(now)
		[ "$rc" -eq 0 ] && [ "$(grep -c '^TRUSTED' out.txt)" -eq "$n" ] || { echo "batch run failed (exit $rc)"; head -3 out.txt; exit 1; }
		t=$(echo "$t1 - $t0" | bc -l)
		[ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" -eq 1 ] && best=$t
	done
	ours=$(echo "$n / $best" | bc -l)
	t0=$(now)
	for i in $(seq "$PEER_HOSTS"); do
		tpm2_checkquote -u ak.pem -m attest.bin -s sig.bin -f pcrs.bin -g sha256 -q "$nonce" >/dev/null 2>&1 || { echo "tpm2_checkquote failed"; exit 1; }
		tpm2_eventlog eventlog.bin >/dev/null 2>&1 || { echo "tpm2_eventlog failed"; exit 1; }
	done
	t1=$(now)
	peer=$(echo "$PEER_HOSTS / ($t1 - $t0)" | bc -l)
	printf '%-8s %7d %18.0f %22.0f %7.1fx\n' "$L" "$n" "$ours" "$peer" "$(echo "$ours / $peer" | bc -l)"
	[ -n "${BENCH_KEEP:-}" ] || { cd "$W"; rm -rf "$D"; }
done
echo "(trustgate: best of 3 batch runs, every host TRUSTED, verdicts recorded; tpm2-tools: $PEER_HOSTS hosts; $(nproc) cores)"
