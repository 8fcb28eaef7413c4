#!/bin/bash
# The TPM agent side (issue 6 item 1): `trustgate quote --nonce --out` against
# a real swtpm (started here on a unix socket): the AK is created under the
# EK and persisted (RSA and ECC), the bundle is what `quote verify --bundle`
# and `attest --bundle` read unchanged.  Forged twins: other nonce, a changed
# byte, the AK of another TPM; TPM errors are one line, exit 2.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v swtpm >/dev/null && command -v tpm2_pcrextend >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
tg db init >/dev/null

# A measured boot: events extended into the TPM, the log kept beside it.
fw=$(strhex "platform firmware 2.0"); boot=$(strhex "shim 15.8"); sep=00000000
events=("0 1 $fw" "4 2147483651 $boot")
for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > boot.log
for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done

N=$(openssl rand -hex 20)
expect 0 "trustgate quote: AK created under the EK, quote written" -- tg --json quote --nonce "$N" --out b1 --eventlog boot.log
printf '%s' "$LAST_OUT" | jq -e '.ak_created == true and .eventlog == true' >/dev/null && ok "first quote created the AK" || bad "quote json: $LAST_OUT"
for f in attest.bin sig.bin ak.tpm2b pcrs.json eventlog.bin; do [ -s "b1/$f" ] || bad "bundle lacks $f"; done
ok "bundle holds attest.bin, sig.bin, ak.tpm2b, pcrs.json, eventlog.bin"
t2 tpm2_readpublic -c 0x81010010 -o persisted.pub && ok "AK persisted at 0x81010010 (tpm2_readpublic sees it)" || bad "AK not persisted"
expect 0 "quote verify --bundle: TRUSTED" -- tg quote verify --bundle b1 --nonce "$N" --ak b1/ak.tpm2b --eventlog b1/eventlog.bin
N2=$(openssl rand -hex 20)
expect 0 "second quote" -- tg --json quote --nonce "$N2" --out b2 --eventlog boot.log
printf '%s' "$LAST_OUT" | jq -e '.ak_created == false' >/dev/null && ok "second quote loaded the persisted AK" || bad "AK recreated"
cmp -s b1/ak.tpm2b b2/ak.tpm2b && ok "same AK public both times" || bad "AK changed"
# tpm2-tools quoting with the same persisted AK gives a quote we accept too.
t2 tpm2_quote -c 0x81010010 -l sha256:0,1,2,3,4,5,6,7 -q "$N2" -m tq.msg -s tq.sig -o tq.pcrs -g sha256
expect 0 "tpm2_quote with trustgate's AK: TRUSTED by quote verify" -- tg quote verify --ak b1/ak.tpm2b --msg tq.msg --sig tq.sig --pcrs tq.pcrs --nonce "$N2"

# Enrol the host with the AK of its bundle; attest from the bundle.
expect 0 "reference import from the boot log" -- tg reference import --eventlog boot.log --model m1 --reason golden
expect 0 "host enroll with the bundle's AK" -- tg host enroll h1 --no-challenge --ak b1/ak.tpm2b --model m1 --reason "agent AK"
N3=$(openssl rand -hex 20)
t2 tg quote --nonce "$N3" --out b3 --eventlog boot.log
expect 0 "attest --bundle from trustgate quote: TRUSTED" -- tg attest h1 --bundle b3 --nonce "$N3"
# Forged twins.
N4=$(openssl rand -hex 20)
t2 tg quote --nonce "$N4" --out b4 --eventlog boot.log
expect 1 "bundle checked against another nonce: refused" -- tg quote verify --bundle b4 --nonce "$(openssl rand -hex 20)" --ak b4/ak.tpm2b
cp -r b4 b5; flip b4/attest.bin 40 b5/attest.bin
expect 1 "bundle with a changed attest byte: refused" -- tg quote verify --bundle b5 --nonce "$N4" --ak b4/ak.tpm2b
N6=$(openssl rand -hex 20)
expect 0 "ECC AK: quote" -- tg --json quote --nonce "$N6" --out b6 --ak-alg ecc --eventlog boot.log
printf '%s' "$LAST_OUT" | jq -e '.ak_handle == 2164326417' >/dev/null && ok "ECC AK at 0x81010011" || bad "ecc handle"
expect 0 "ECC AK: quote verify --bundle TRUSTED" -- tg quote verify --bundle b6 --nonce "$N6" --ak b6/ak.tpm2b
# The AK of another TPM (a second swtpm) is not the enrolled one.
mkdir -p st2
swtpm socket --tpmstate dir="$WORK/st2" --tpm2 --server type=unixio,path="$WORK/tpm2.sock" \
	--ctrl type=unixio,path="$WORK/tpm2.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$WORK/swtpm2.pid"
for _ in $(seq 50); do [ -S "$WORK/tpm2.sock" ] && break; sleep 0.1; done
N7=$(openssl rand -hex 20)
t2 tg quote --nonce "$N7" --out b7 --eventlog boot.log --tcti "swtpm:path=$WORK/tpm2.sock"
kill "$(cat "$WORK/swtpm2.pid")" 2>/dev/null
cmp -s b1/ak.tpm2b b7/ak.tpm2b && bad "two TPMs made the same AK" || ok "another TPM has another AK"
out=$(tg --json attest h1 --bundle b7 --nonce "$N7" 2>/dev/null); rc=$?
[ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '.verdict == "untrusted"' >/dev/null && ok "bundle from another TPM: UNTRUSTED for h1 ($(printf '%s' "$out" | jq -r '[.reasons[].code] | join(",")'))" \
	|| bad "another TPM's bundle: rc $rc $out"
# Bad input and TPM errors: exit 2, one line.
bad_input "quote without --out" "--out" -- tg quote --nonce "$N"
bad_input "quote with a short nonce" "--nonce" -- tg quote --nonce abcd --out bx
bad_input "bundle directory already there" "b1" -- tg quote --nonce "$N" --out b1
bad_input "unreachable TPM" "TPM" -- tg quote --nonce "$N" --out by --tcti "swtpm:path=$WORK/nothing.sock"
[ ! -e by ] && ok "a failed quote leaves no bundle directory" || bad "partial bundle left"
bad_input "unknown --ak-alg" "--ak-alg" -- tg quote --nonce "$N" --out bz --ak-alg dsa
