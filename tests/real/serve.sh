#!/bin/bash
# Real packages through the service: a sample of the apt cache (every Nth
# .deb, at most $TG_REAL_SERVE_N, default 24), each signed by an approved
# supplier key, uploaded to a live `trustgate serve` and checked by the CLI;
# the two verdicts must agree (result, kind, reasons, digest, components), a
# copy with one byte flipped must be REJECTED by both, and the service must
# not report a sanitizer error.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG_BIN=${TG_BIN:-$ROOT/build/trustgate}
DEBS=${TG_REAL_DEBS:-/var/cache/apt/archives}
N=${TG_REAL_SERVE_N:-24}
mapfile -t all < <(ls "$DEBS"/*.deb 2>/dev/null | sort)
if [ ${#all[@]} -eq 0 ]; then
	echo "skip - real/serve: no .deb files in $DEBS"
	exit 0
fi
command -v curl >/dev/null || { echo "skip - real/serve: curl not installed"; exit 0; }
step=$(( ${#all[@]} / N )); [ "$step" -ge 1 ] || step=1
list=()
for ((i = 0; i < ${#all[@]} && ${#list[@]} < N; i += step)); do list+=("${all[i]}"); done
W=$(mktemp -d /tmp/tg-real-serve.XXXXXX)
SERVE=
cleanup() { [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
cd "$W"
export TRUSTGATE_DB=$W/tg.db TRUSTGATE_CA=$W/ca TRUSTGATE_ACTOR=real-data
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out key.pem 2>/dev/null
openssl pkey -in key.pem -pubout -out key.pub
"$TG_BIN" db init >/dev/null
"$TG_BIN" supplier add debian --max-tier 3 --review DEB-REVIEW-1 --review-expires 2099-12-31 --reason "real data" >/dev/null
"$TG_BIN" key add debian key.pub --purpose package --reason "real data" >/dev/null
for d in "${list[@]}"; do dpkg-deb -f "$d" Package; done | sort -u | while read -r n; do
	"$TG_BIN" product add debian "$n" --kind package --reason "real data" >/dev/null
done
"$TG_BIN" ca init >/dev/null && mkdir certs && "$TG_BIN" user add buyer --role procurement --out certs >/dev/null \
	|| { echo "not ok - real/serve: set-up"; exit 0; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TG_BIN" serve --listen "127.0.0.1:$PORT" --max-upload-mb 1024 --spool "$W" >serve.out 2>serve.log &
SERVE=$!
for _ in $(seq 300); do grep -q listening serve.out 2>/dev/null && break; sleep 0.1; done
grep -q listening serve.out || { echo "not ok - real/serve: serve did not start: $(head -2 serve.log)"; exit 0; }

flip() { # FILE OFFSET OUT: a copy with one byte flipped
	cp "$1" "$3"
	printf "%02x" $(( 0x$(xxd -s "$2" -l 1 -p "$3") ^ 0x01 )) | xxd -r -p | dd of="$3" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
shape='[.verdict, .kind, [.reasons[].code], .subject.sha256, .subject.size, (.components // [] | length)]'
same=0 differ=0 forged=0
for d in "${list[@]}"; do
	name=$(dpkg-deb -f "$d" Package) version=$(dpkg-deb -f "$d" Version)
	openssl dgst -sha256 -sign key.pem -out p.sig "$d"
	# Half with the signature first: a package is spooled either way.
	if [ $(( (same + differ) % 2 )) = 0 ]; then order=(-F "file=@$d" -F "sig=@p.sig"); else order=(-F "sig=@p.sig" -F "file=@$d"); fi
	timeout 300 curl -s -o served.json --cacert ca/ca.pem --cert certs/buyer.pem --key certs/buyer.key \
		"${order[@]}" -F "product=$name" -F "version=$version" "https://127.0.0.1:$PORT/v1/check"
	"$TG_BIN" --json check "$d" --sig p.sig --product "$name" --version "$version" >cli.json 2>/dev/null
	a=$(jq -c "$shape" served.json 2>/dev/null) b=$(jq -c "$shape" cli.json 2>/dev/null)
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		same=$((same + 1))
	else
		differ=$((differ + 1))
		echo "not ok - real/serve: ${d##*/}: service ${a:-$(head -c 200 served.json)} vs CLI ${b:-none}"
	fi
	# The forged twin: one byte in the middle of the package flipped.
	flip "$d" $(( $(stat -c %s "$d") / 2 )) f.deb
	timeout 300 curl -s -o fs.json --cacert ca/ca.pem --cert certs/buyer.pem --key certs/buyer.key \
		-F "file=@f.deb;filename=${d##*/}" -F "sig=@p.sig" -F "product=$name" -F "version=$version" \
		"https://127.0.0.1:$PORT/v1/check"
	if jq -e '.verdict == "rejected"' fs.json >/dev/null 2>&1 &&
	   ! "$TG_BIN" check f.deb --sig p.sig --product "$name" --version "$version" >/dev/null 2>&1; then
		forged=$((forged + 1))
	else
		echo "not ok - real/serve: ${d##*/} with one byte flipped was not rejected by both: $(head -c 200 fs.json)"
	fi
done
streamed=$(grep -c '"upload":"streamed"' serve.log)
[ "$streamed" = 0 ] && echo "ok - real/serve: no package was checked as it arrived (packages are walked from a file)" \
	|| echo "not ok - real/serve: $streamed package uploads were streamed"

# Real blobs over 1 MiB (the kernel, the largest shared libraries), the
# signature sent first: checked as they arrive, the CLI's verdicts, and
# each with one byte flipped after its first MiB rejected by both.
mapfile -t blobs < <({ ls /boot/vmlinuz-* 2>/dev/null; find /usr/lib/x86_64-linux-gnu -maxdepth 1 -name '*.so*' -type f -size +1M 2>/dev/null | sort | head -5; } | head -6)
bsame=0 bforged=0 bapproved=0
"$TG_BIN" product add debian real-blob --kind package --reason "real data" >/dev/null
for b in "${blobs[@]}"; do
	openssl dgst -sha256 -sign key.pem -out b.sig "$b"
	timeout 300 curl -s -o served.json --cacert ca/ca.pem --cert certs/buyer.pem --key certs/buyer.key \
		-F "sig=@b.sig" -F "file=@$b" -F product=real-blob -F version=1.0 "https://127.0.0.1:$PORT/v1/check"
	"$TG_BIN" --json check "$b" --sig b.sig --product real-blob --version 1.0 >cli.json 2>/dev/null
	a=$(jq -c "$shape" served.json 2>/dev/null) c=$(jq -c "$shape" cli.json 2>/dev/null)
	if [ -n "$a" ] && [ "$a" = "$c" ] && grep '"path":"/v1/check"' serve.log | tail -1 | grep -q '"upload":"streamed"'; then
		bsame=$((bsame + 1))
		jq -e '.verdict == "approved"' served.json >/dev/null && bapproved=$((bapproved + 1))
	else
		echo "not ok - real/serve: ${b}: streamed ${a:-$(head -c 200 served.json)} vs CLI ${c:-none}"
	fi
	flip "$b" $(( 1048576 + ($(stat -c %s "$b") - 1048576) / 2 )) f.bin
	timeout 300 curl -s -o fs.json --cacert ca/ca.pem --cert certs/buyer.pem --key certs/buyer.key \
		-F "sig=@b.sig" -F "file=@f.bin" -F product=real-blob -F version=1.0 "https://127.0.0.1:$PORT/v1/check"
	if jq -e '.verdict == "rejected"' fs.json >/dev/null 2>&1 &&
	   ! "$TG_BIN" check f.bin --sig b.sig --product real-blob --version 1.0 >/dev/null 2>&1; then
		bforged=$((bforged + 1))
	else
		echo "not ok - real/serve: ${b} with one byte flipped was not rejected by both: $(head -c 200 fs.json)"
	fi
done
if [ ${#blobs[@]} -gt 0 ]; then
	[ "$bsame" = "${#blobs[@]}" ] && [ "$bapproved" = "$bsame" ] \
		&& echo "ok - real/serve: ${#blobs[@]} real blobs over 1 MiB checked as they arrived: APPROVED, the CLI's verdicts" \
		|| echo "not ok - real/serve: of ${#blobs[@]} streamed blobs $bsame agree with the CLI, $bapproved approved"
	[ "$bforged" = "${#blobs[@]}" ] && echo "ok - real/serve: each blob with one byte flipped: REJECTED by the service and the CLI"
else
	echo "skip - real/serve: no blob over 1 MiB found under /boot or /usr/lib"
fi
approved=$(sqlite3 "$TRUSTGATE_DB" "select count(*) from verdict where actor like 'CN=buyer,%' and result = 'approved'")
[ "$differ" = 0 ] && echo "ok - real/serve: ${#list[@]} real packages uploaded: every served verdict equals the CLI's ($approved approved)"
[ "$forged" = "${#list[@]}" ] && echo "ok - real/serve: each with one byte flipped: REJECTED by the service and the CLI"
if grep -q "ERROR: AddressSanitizer\|runtime error:" serve.log; then
	echo "not ok - real/serve: sanitizer report in the service"
	grep -A20 "ERROR: AddressSanitizer\|runtime error:" serve.log | head -30 | sed 's/^/#   /'
else
	echo "ok - real/serve: no sanitizer report from the service"
fi
