#!/bin/bash
# make bench (real packages): every .deb of the apt cache through
# `trustgate check` (detached RSA-3072 signature, tier 1) beside
# `dpkg-deb --fsys-tarfile PKG | sha256sum` over the same files, in one run,
# one package at a time, page cache warm for both.  Both decompress
# everything; trustgate also reads the package once for its signature
# digest and walks and checks every member.  Total time, ratio, p50/p99 of
# trustgate's per-package latency.  A third row: the same files through one
# `trustgate check --batch` (one worker per core, each verdict still
# recorded with its audit row; p50/p99 from the time each check took in its
# worker, printed on its line), beside the peer run two at
# a time (xargs -P, one per core) for the same parallelism.
#   BENCH_DEBS_LIMIT=N   only the first N packages
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=$ROOT/build/trustgate
DEBS=${TG_REAL_DEBS:-/var/cache/apt/archives}
mapfile -t list < <(ls "$DEBS"/*.deb 2>/dev/null | sort)
[ -n "${BENCH_DEBS_LIMIT:-}" ] && list=("${list[@]:0:$BENCH_DEBS_LIMIT}")
if [ ${#list[@]} -eq 0 ]; then
	echo "no .deb files in $DEBS: skipped (scripts/fetch-real-debs.sh fills it)"
	exit 0
fi
W=$(mktemp -d /tmp/tg-bench-debs.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
export TRUSTGATE_DB=$W/b.db TRUSTGATE_ACTOR=bench
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out k.pem 2>/dev/null
openssl pkey -in k.pem -pubout -out k.pub
"$TG" db init >/dev/null
"$TG" supplier add debian --reason bench >/dev/null
"$TG" key add debian k.pub --purpose package --reason bench >/dev/null
echo "signing ${#list[@]} packages and warming the page cache..."
i=0
: > batch.jsonl
for d in "${list[@]}"; do
	i=$((i + 1))
	openssl dgst -sha256 -sign k.pem -out "$i.sig" "$d"
	cat "$d" >/dev/null
	jq -cn --arg f "$d" --arg s "$W/$i.sig" '{file: $f, sig: $s}' >> batch.jsonl
done
now() { date +%s%N; }
# trustgate, per package
i=0; : > tg.lat
t0=$(now)
for d in "${list[@]}"; do
	i=$((i + 1))
	s=$(now)
	"$TG" --tier 1 check "$d" --sig "$i.sig" >/dev/null 2>&1
	rc=$?
	e=$(now)
	[ $rc -le 1 ] || echo "trustgate exit $rc on $d" >&2
	echo "$(( (e - s) / 1000 ))" >> tg.lat
done
t1=$(now)
# the peer, per package
: > peer.lat
for d in "${list[@]}"; do
	s=$(now)
	dpkg-deb --fsys-tarfile "$d" | sha256sum >/dev/null
	e=$(now)
	echo "$(( (e - s) / 1000 ))" >> peer.lat
done
t2=$(now)
"$TG" --tier 1 check --batch batch.jsonl > batch.out 2>&1
rc=$?
t3=$(now)
[ $rc -le 1 ] || echo "trustgate --batch exit $rc: $(tail -1 batch.out)" >&2
printf '%s\0' "${list[@]}" | xargs -0 -P "$(nproc)" -I{} sh -c 'dpkg-deb --fsys-tarfile "$1" | sha256sum >/dev/null' _ {}
t4=$(now)
tg_s=$(awk "BEGIN{printf \"%.1f\", ($t1 - $t0) / 1e9}")
peer_s=$(awk "BEGIN{printf \"%.1f\", ($t2 - $t1) / 1e9}")
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i < 1) i = 1; printf "%.1f", a[i]/1000}'; }
mb=$(du -cm "${list[@]}" | tail -1 | cut -f1)
printf '\n%-52s %10s %10s %10s\n' "${#list[@]} packages, ${mb} MiB compressed" "total s" "p50 ms" "p99 ms"
printf '%-52s %10s %10s %10s\n' "trustgate --tier 1 check PKG --sig SIG" "$tg_s" "$(pct tg.lat 50)" "$(pct tg.lat 99)"
printf '%-52s %10s %10s %10s\n' "dpkg-deb --fsys-tarfile PKG | sha256sum" "$peer_s" "$(pct peer.lat 50)" "$(pct peer.lat 99)"
batch_s=$(awk "BEGIN{printf \"%.1f\", ($t3 - $t2) / 1e9}")
grep -E '^(APPROVED|REJECTED) ' batch.out | awk '{print int($(NF-1) * 1000)}' > batch.lat
printf '%-52s %10s %10s %10s\n' "trustgate --tier 1 check --batch LIST ($(nproc) workers)" "$batch_s" "$(pct batch.lat 50)" "$(pct batch.lat 99)"
ppeer_s=$(awk "BEGIN{printf \"%.1f\", ($t4 - $t3) / 1e9}")
printf '%-52s %10s %10s %10s\n' "dpkg-deb ... | sha256sum, xargs -P $(nproc)" "$ppeer_s" "-" "-"
printf '\ntrustgate / dpkg-deb|sha256sum: %sx per invocation; --batch %sx of the peer one at a time, %sx of the peer %s at a time   (target <= 1.0x)\n' \
	"$(awk "BEGIN{printf \"%.2f\", ($t1 - $t0) / ($t2 - $t1)}")" "$(awk "BEGIN{printf \"%.2f\", ($t3 - $t2) / ($t2 - $t1)}")" \
	"$(awk "BEGIN{printf \"%.2f\", ($t3 - $t2) / ($t4 - $t3)}")" "$(nproc)"
