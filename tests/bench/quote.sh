#!/bin/bash
# make bench (appliance): `trustgate quote` against swtpm (unix socket),
# side by side with the equivalent `tpm2_quote` call (same persisted AK,
# same PCRs, same nonce size); mean of 20 quotes each after one warm-up.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG=$ROOT/build/trustgate
W=$(mktemp -d /tmp/tg-bench-quote.XXXXXX)
cd "$W"
mkdir st
swtpm socket --tpmstate dir="$W/st" --tpm2 --server type=unixio,path="$W/s" --ctrl type=unixio,path="$W/s.ctrl" \
	--flags not-need-init,startup-clear --daemon --pid file="$W/pid" || { echo "swtpm failed"; exit 1; }
trap 'kill "$(cat "$W/pid")" 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 50); do [ -S "$W/s" ] && break; sleep 0.1; done
export TPM2TOOLS_TCTI="swtpm:path=$W/s"
"$TG" quote --nonce "$(openssl rand -hex 20)" --out warm >/dev/null || exit 1
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
s=$(date +%s%N)
for i in $(seq 20); do "$TG" quote --nonce "$(openssl rand -hex 20)" --out "q$i" >/dev/null || exit 1; done
tg=$(ms "$s")
s=$(date +%s%N)
for i in $(seq 20); do
	tpm2_quote -c 0x81010010 -l sha256:0,1,2,3,4,5,6,7 -q "$(openssl rand -hex 20)" -m "t$i.msg" -s "t$i.sig" -o "t$i.pcrs" -g sha256 >/dev/null 2>&1 || exit 1
done
tq=$(ms "$s")
printf '\n%-60s %8s\n' "quote of PCRs 0-7 (sha256), RSA-2048 AK, swtpm" "ms each"
printf '%-60s %8s\n' "trustgate quote --out DIR (bundle: attest, sig, AK, PCRs)" "$((tg / 20))"
printf '%-60s %8s\n' "tpm2_quote -m -s -o (attest, sig, PCRs)" "$((tq / 20))"
printf '\nratio: %.2fx\n' "$(echo "$tg / $tq" | bc -l)"
