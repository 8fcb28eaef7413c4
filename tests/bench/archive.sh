#!/bin/bash
# make bench (packages): `trustgate check` of a 1 GiB tar of 10,000 members
# (detached RSA-3072 signature) beside `openssl dgst -sha256` of the same
# file, and the same content as .tar.zst beside `zstd -dc | openssl dgst
# -sha256`; best of 3, peak RSS from GNU time.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=$ROOT/build/trustgate
MEMBERS=${BENCH_MEMBERS:-10000}
SIZE_MB=${BENCH_MB:-1024}
W=$(mktemp -d /tmp/tg-bench-archive.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
export TRUSTGATE_DB=$W/b.db TRUSTGATE_ACTOR=bench
echo "preparing a ${SIZE_MB} MiB tar of $MEMBERS members..."
mkdir c
per=$((SIZE_MB * 1024 * 1024 / MEMBERS))
head -c $((SIZE_MB * 1024 * 1024)) /dev/zero | openssl enc -aes-128-ctr -pass pass:bench -nosalt 2>/dev/null |
	split -a 5 -d -b "$per" - c/m
tar -cf p.tar -C c .
# The same members with an embedded manifest (P-256 signer).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out e.pem 2>/dev/null
openssl pkey -in e.pem -pubout -out e.pub
(cd c && find . -type f | sort | xargs sha256sum) |
	awk '{printf "{\"name\":\"%s\",\"digest\":{\"sha256\":\"%s\"}}\n", substr($2,3), $1}' |
	jq -sc '{"_type": "https://in-toto.io/Statement/v1", subject: ., predicateType: "https://trustgate.dev/package/v1", predicate: {supplier: "bench", product: "pkg", version: "1.0"}}' > st.json
{ printf 'DSSEv1 28 application/vnd.in-toto+json %d ' "$(stat -c %s st.json)"; cat st.json; } > pae
openssl dgst -sha256 -sign e.pem -out pae.sig pae
base64 -w0 st.json > st.b64; base64 -w0 pae.sig > sig.b64
jq -cn --rawfile p st.b64 --rawfile s sig.b64 '{payloadType: "application/vnd.in-toto+json", payload: $p, signatures: [{keyid: "", sig: $s}]}' > c/trustgate.intoto.jsonl
tar -cf m.tar -C c . && rm -rf c
zstd -q -1 -T2 p.tar -o p.tar.zst
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out k.pem 2>/dev/null
openssl pkey -in k.pem -pubout -out k.pub
openssl dgst -sha256 -sign k.pem -out p.tar.sig p.tar
openssl dgst -sha256 -sign k.pem -out p.tar.zst.sig p.tar.zst
"$TG" db init >/dev/null
"$TG" supplier add bench --review B --review-expires 2099-01-01 --reason b >/dev/null
"$TG" key add bench k.pub --purpose package --reason b >/dev/null
"$TG" key add bench e.pub --purpose package --reason b >/dev/null
"$TG" product add bench pkg --kind package --reason b >/dev/null
cat p.tar p.tar.zst m.tar >/dev/null

best() { # VAR command...: best of 3 wall seconds, and the RSS of that run
	local var=$1 b="" m=""; shift
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %M" -o t.txt bash -c "$*" >/dev/null 2>&1 || { echo "failed: $*"; exit 1; }
		read -r t r < <(tail -1 t.txt)
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; m=$r; fi
	done
	eval "$var=$b; ${var}_rss=$m"
}
best tg_tar "'$TG' check p.tar --sig p.tar.sig --product pkg --version 1.0"
best ossl_tar "openssl dgst -sha256 p.tar"
best tg_zst "'$TG' check p.tar.zst --sig p.tar.zst.sig --product pkg --version 1.0"
best ossl_zst "zstd -dc p.tar.zst | openssl dgst -sha256"
best tg_man "'$TG' check m.tar"
best ossl_man "openssl dgst -sha256 m.tar"
best ossl_two "openssl dgst -sha256 m.tar & openssl dgst -sha256 m.tar & wait"
printf '\n%-52s %9s %10s\n' "1 GiB, $MEMBERS members (best of 3)" seconds "peak RSS"
printf '%-52s %9s %7.1f MiB\n' "trustgate check p.tar (detached RSA-3072)" "$tg_tar" "$(echo "$tg_tar_rss/1024" | bc -l)"
printf '%-52s %9s %7.1f MiB\n' "openssl dgst -sha256 p.tar" "$ossl_tar" "$(echo "$ossl_tar_rss/1024" | bc -l)"
printf '%-52s %9s %7.1f MiB\n' "trustgate check p.tar.zst" "$tg_zst" "$(echo "$tg_zst_rss/1024" | bc -l)"
printf '%-52s %9s %7.1f MiB\n' "zstd -dc p.tar.zst | openssl dgst -sha256" "$ossl_zst" "$(echo "$ossl_zst_rss/1024" | bc -l)"
printf '%-52s %9s %7.1f MiB\n' "trustgate check m.tar (embedded manifest)" "$tg_man" "$(echo "$tg_man_rss/1024" | bc -l)"
printf '%-52s %9s %7.1f MiB\n' "openssl dgst -sha256 m.tar" "$ossl_man" "$(echo "$ossl_man_rss/1024" | bc -l)"
printf '%-52s %9s\n' "two openssl dgst -sha256 m.tar at once (2 cores?)" "$ossl_two"
printf '\nmanifest: %.2fx of openssl; two SHA-256 passes in parallel take %.2fx of one here\n' \
	"$(echo "$tg_man / $ossl_man" | bc -l)" "$(echo "$ossl_two / $ossl_man" | bc -l)"
printf '\ntar: %.2fx of openssl (target <= 1.2x); tar.zst: %.2fx of zstd|openssl (target <= 1.2x)\n' \
	"$(echo "$tg_tar / $ossl_tar" | bc -l)" "$(echo "$tg_zst / $ossl_zst" | bc -l)"
