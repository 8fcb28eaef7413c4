#!/bin/bash
# make bench: `trustgate check` of a 1 GiB blob with an RSA-2048 signature,
# side by side in one run with `openssl dgst -sha256 -verify` and
# `sha256sum` on the same file.  Best of N wall-clock runs after a warm-up
# (the file is in the page cache for every tool), peak RSS from GNU time.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=$ROOT/build/trustgate
SIZE_MB=${BENCH_MB:-1024}
RUNS=${BENCH_RUNS:-3}
W=$(mktemp -d /tmp/tg-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
export TRUSTGATE_DB=$W/bench.db TRUSTGATE_ACTOR=bench

echo "preparing a ${SIZE_MB} MiB blob, an RSA-2048 key and signature..."
head -c $((SIZE_MB * 1024 * 1024)) /dev/zero | openssl enc -aes-128-ctr -pass pass:bench -nosalt 2>/dev/null > blob.bin
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem 2>/dev/null
openssl pkey -in k.pem -pubout -out k.pub
openssl dgst -sha256 -sign k.pem -out blob.sig blob.bin
"$TG" db init >/dev/null
"$TG" supplier add bench --review B-1 --review-expires 2099-01-01 --reason bench >/dev/null
"$TG" key add bench k.pub --reason bench >/dev/null
"$TG" product add bench blob --kind firmware --reason bench >/dev/null
cat blob.bin >/dev/null   # warm the page cache

# measure NAME command...: best wall time (s) and its peak RSS (KiB)
measure() {
	local name=$1; shift
	local best="" rss=""
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f "%e %M" -o "$W/t" "$@" >/dev/null 2>"$W/err" || { echo "$name failed: $(head -2 "$W/err")" >&2; exit 1; }
		read -r t m <"$W/t"
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; rss=$m; fi
	done
	eval "T_$name=$best; M_$name=$rss"
}

measure trustgate "$TG" check blob.bin --sig blob.sig --product blob --version 1.0
measure openssl openssl dgst -sha256 -verify k.pub -signature blob.sig blob.bin
measure sha256sum sha256sum blob.bin

peer=$T_openssl; peer_name=openssl
awk "BEGIN{exit !($T_sha256sum < $T_openssl)}" && { peer=$T_sha256sum; peer_name=sha256sum; }
ratio=$(awk "BEGIN{printf \"%.2f\", $T_trustgate / $peer}")

printf '\n%-44s %10s %12s\n' "tool (${SIZE_MB} MiB blob, best of $RUNS)" "seconds" "peak RSS"
printf '%-44s %10s %9s MiB\n' "trustgate check (RSA-2048, SHA-256)" "$T_trustgate" "$(awk "BEGIN{printf \"%.1f\", $M_trustgate/1024}")"
printf '%-44s %10s %9s MiB\n' "openssl dgst -sha256 -verify" "$T_openssl" "$(awk "BEGIN{printf \"%.1f\", $M_openssl/1024}")"
printf '%-44s %10s %9s MiB\n' "sha256sum" "$T_sha256sum" "$(awk "BEGIN{printf \"%.1f\", $M_sha256sum/1024}")"
printf '\ntrustgate / fastest peer (%s): %sx   (target <= 1.10x, peak RSS < 32 MiB)\n' "$peer_name" "$ratio"
echo "$(uname -m), $(nproc) cores, libgcrypt $(pkg-config --modversion libgcrypt), $(openssl version | cut -d' ' -f1-2)"

echo
echo "== attestation: quote + event log, attest --batch vs tpm2_checkquote + tpm2_eventlog"
bash "$ROOT/tests/bench/attest.sh"

echo
echo "== packages: 1 GiB tar of 10,000 members, trustgate check vs openssl / zstd|openssl"
bash "$ROOT/tests/bench/archive.sh"

echo
echo "== real packages: the apt cache, trustgate check vs dpkg-deb --fsys-tarfile | sha256sum"
bash "$ROOT/tests/bench/debs.sh"

echo
echo "== firmware: signed 64 MiB FIT, trustgate check vs openssl dgst -sha256"
bash "$ROOT/tests/bench/fit.sh"

echo
echo "== appliance: trustgate quote vs tpm2_quote against swtpm"
bash "$ROOT/tests/bench/quote.sh"

echo
echo "== records: reevaluate after a key revocation (100,000 verdicts), audit verify over 1,000,000 rows vs sha256sum"
bash "$ROOT/tests/bench/records.sh"

echo
echo "== the service: attestations over HTTPS (64 agents), idle connections, 1 GiB upload vs the CLI"
bash "$ROOT/tests/bench/service.sh"

echo
echo "== records on PostgreSQL: 1, 2, 4 services vs one on SQLite; audit verify and reevaluate over 10 million verdicts"
pg_virtualenv -t bash "$ROOT/tests/bench/pg.sh"

echo
echo "== appliance image: build time and boot-to-verdict"
bash "$ROOT/tests/bench/image.sh"
