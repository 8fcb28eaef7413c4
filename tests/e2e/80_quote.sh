#!/bin/bash
# trustgate quote verify against a real software TPM: swtpm started here on
# a unix socket, tpm2-tools creating the EK and AKs, extending PCRs and
# quoting.  Each good quote has its forged twins (THREATS cases 44-48, 51).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
N1=$(openssl rand -hex 20); N2=$(openssl rand -hex 20)

t2 tpm2_createek -c ek.ctx -G rsa -u ek.pub || exit 0
t2 tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.tpm2b -n ak.name
t2 tpm2_readpublic -c ak.ctx -f pem -o ak.pem
t2 tpm2_readpublic -c ak.ctx -f tpmt -o ak.tpmt

# Measured "boot": a log built here and the same digests extended into the
# TPM, so the log and the quote must agree.
d1=$(strhex "firmware volume"); d2=$(strhex "bootloader"); sep=00000000
{ specid_hdr; event2 0 1 "$d1"; event2 4 2147483651 "$d2"; event2 0 4 "$sep"; event2 4 4 "$sep"; } | xxd -r -p > boot.log
for ev in "0 $d1" "4 $d2" "0 $sep" "4 $sep"; do
	set -- $ev
	t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$2"),sha256=$(dig sha256 "$2")"
done
t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$N1" -m q.msg -s q.sig -o q.pcrs -g sha256

expect 0 "RSA AK (TPM2B_PUBLIC), quote over PCRs 0-7, tpm2-tools PCR file: TRUSTED" -- \
	tg --json quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
printf '%s' "$LAST_OUT" | jq -e '.verdict == "trusted" and .quote.pcr_selection.sha256 == [0,1,2,3,4,5,6,7] and (.ak.name | length) == 68' >/dev/null \
	&& ok "verdict shows selection and AK name" || bad "verdict shows selection and AK name"
expect 0 "AK as PEM: TRUSTED" -- tg quote verify --ak ak.pem --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
expect 0 "AK as TPMT_PUBLIC: TRUSTED" -- tg quote verify --ak ak.tpmt --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
expect 0 "PCR values from the replayed event log: TRUSTED" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --eventlog boot.log --nonce "$N1"
expect 0 "PCR file and event log together: TRUSTED" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs --eventlog boot.log --nonce "$N1"
tg --json quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --eventlog boot.log --nonce "$N1" >/dev/null
printf '{"sha256": {%s}}' "$(tg --json eventlog boot.log | jq -r '.pcrs.sha256 | to_entries | map("\"\(.key)\": \"\(.value)\"") | join(",")'),\"1\": \"$(printf '0%.0s' {1..64})\",\"2\": \"$(printf '0%.0s' {1..64})\",\"3\": \"$(printf '0%.0s' {1..64})\",\"5\": \"$(printf '0%.0s' {1..64})\",\"6\": \"$(printf '0%.0s' {1..64})\",\"7\": \"$(printf '0%.0s' {1..64})\"" > pcrs.json
expect 0 "PCR values as JSON: TRUSTED" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs pcrs.json --nonce "$N1"

quote_reason() { # CODE NAME -- args
	local code=$1 name=$2; shift 3
	local out rc
	out=$(tg --json quote verify "$@" 2>"$WORK/.stderr"); rc=$?
	if [ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e --arg c "$code" '.verdict == "untrusted" and ([.reasons[].code] | index($c)) != null' >/dev/null; then
		ok "$name"
	else
		bad "$name (exit $rc, want 1 with $code)"; printf '%s' "$out" | jq -c .reasons 2>/dev/null | sed 's/^/#   /'; sed 's/^/#   /' "$WORK/.stderr" | head -2
	fi
}
# Forged twins.
quote_reason QUOTE_NONCE "other nonce: QUOTE_NONCE" -- --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N2"
quote_reason QUOTE_NONCE "no nonce: QUOTE_NONCE" -- --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs
t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q 0011223344556677 -m short.msg -s short.sig -g sha256
quote_reason QUOTE_NONCE "64-bit nonce: QUOTE_NONCE" -- --ak ak.tpm2b --msg short.msg --sig short.sig --pcrs q.pcrs --nonce 0011223344556677
jq '.sha256["4"] = "'"$(printf 'ab%.0s' {1..32})"'"' pcrs.json > pcrs-altered.json
quote_reason QUOTE_PCR_DIGEST "altered PCR value: QUOTE_PCR_DIGEST" -- --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs pcrs-altered.json --nonce "$N1"
quote_reason EVENTLOG_REPLAY_MISMATCH "PCR file disagreeing with the log: EVENTLOG_REPLAY_MISMATCH" -- --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs pcrs-altered.json --eventlog boot.log --nonce "$N1"
{ specid_hdr; event2 0 1 "$d1"; event2 4 2147483651 "$(strhex evil-loader)"; event2 0 4 "$sep"; event2 4 4 "$sep"; } | xxd -r -p > evil.log
quote_reason EVENTLOG_REPLAY_MISMATCH "log with another bootloader: EVENTLOG_REPLAY_MISMATCH" -- --ak ak.tpm2b --msg q.msg --sig q.sig --eventlog evil.log --nonce "$N1"
{ specid_hdr; event2 0 1 "$d1"; event2 0 4 "$sep"; event2 4 4 "$sep"; } | xxd -r -p > cut.log
quote_reason EVENTLOG_REPLAY_MISMATCH "log with an event removed: EVENTLOG_REPLAY_MISMATCH" -- --ak ak.tpm2b --msg q.msg --sig q.sig --eventlog cut.log --nonce "$N1"
head -c 100 boot.log > broken.log
quote_reason EVENTLOG_MALFORMED "truncated log: EVENTLOG_MALFORMED" -- --ak ak.tpm2b --msg q.msg --sig q.sig --eventlog broken.log --pcrs q.pcrs --nonce "$N1"
t2 tpm2_createak -C ek.ctx -c ak2.ctx -G rsa -g sha256 -s rsassa -u ak2.tpm2b
quote_reason QUOTE_SIG_INVALID "other AK: QUOTE_SIG_INVALID" -- --ak ak2.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
t2 tpm2_quote -c ak.ctx -l sha256:0 -q "$N1" -m sub.msg -s sub.sig -o sub.pcrs -g sha256
quote_reason QUOTE_PCR_SELECTION "selection subset (PCR 0 only): QUOTE_PCR_SELECTION" -- --ak ak.tpm2b --msg sub.msg --sig sub.sig --pcrs sub.pcrs --nonce "$N1"
expect 0 "the same subset is fine when only PCR 0 is required" -- tg quote verify --ak ak.tpm2b --msg sub.msg --sig sub.sig --pcrs sub.pcrs --nonce "$N1" --pcr-list 0
t2 tpm2_quote -c ak.ctx -l sha1:0,1,2,3,4,5,6,7 -q "$N1" -m s1.msg -s s1.sig -o s1.pcrs -g sha256
quote_reason QUOTE_PCR_SELECTION "SHA-1 bank only: QUOTE_PCR_SELECTION" -- --ak ak.tpm2b --msg s1.msg --sig s1.sig --pcrs s1.pcrs --nonce "$N1"
# Replayed old quote: yesterday's quote against today's nonce.
quote_reason QUOTE_NONCE "replayed quote under a fresh nonce: QUOTE_NONCE" -- --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N2"
# Certify presented as a quote (THREATS 45b).
t2 tpm2_certify -C ak.ctx -c ak2.ctx -g sha256 -o cert.msg -s cert.sig
quote_reason QUOTE_TYPE "TPM2_Certify attestation presented as a quote: QUOTE_TYPE" -- --ak ak.tpm2b --msg cert.msg --sig cert.sig --pcrs q.pcrs --nonce "$N1"
# An unrestricted signing key signs a look-alike attestation (THREATS 45a, 48a).
t2 tpm2_createprimary -C o -c prim.ctx
t2 tpm2_create -C prim.ctx -G rsa2048:rsassa-sha256 -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" -u signer.pub -r signer.priv
t2 tpm2_load -C prim.ctx -u signer.pub -r signer.priv -c signer.ctx
t2 tpm2_readpublic -c signer.ctx -f tpmt -o signer.tpmt
t2 tpm2_sign -c signer.ctx -g sha256 -s rsassa -f plain -o fake.sig q.msg
printf '0014000b0100' | xxd -r -p > fake.tpmt_sig; cat fake.sig >> fake.tpmt_sig
quote_reason AK_ATTRIBUTES "look-alike quote signed by an unrestricted key: AK_ATTRIBUTES" -- --ak signer.tpmt --msg q.msg --sig fake.tpmt_sig --pcrs q.pcrs --nonce "$N1"
# Bytes flipped in the attestation itself.
flip q.msg 40 q-flipped.msg
quote_reason QUOTE_SIG_INVALID "flipped attestation byte: QUOTE_SIG_INVALID" -- --ak ak.tpm2b --msg q-flipped.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"

# ECDSA P-256 and RSA-PSS AKs.
t2 tpm2_createak -C ek.ctx -c akec.ctx -G ecc -g sha256 -s ecdsa -u akec.tpm2b
t2 tpm2_quote -c akec.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$N1" -m qe.msg -s qe.sig -o qe.pcrs -g sha256
expect 0 "ECDSA P-256 AK quote: TRUSTED" -- tg quote verify --ak akec.tpm2b --msg qe.msg --sig qe.sig --pcrs qe.pcrs --nonce "$N1"
quote_reason QUOTE_SIG_INVALID "ECDSA quote checked with the RSA AK: QUOTE_SIG_INVALID" -- --ak ak.tpm2b --msg qe.msg --sig qe.sig --pcrs qe.pcrs --nonce "$N1"
t2 tpm2_createak -C ek.ctx -c akpss.ctx -G rsa -g sha256 -s rsapss -u akpss.tpm2b
t2 tpm2_quote -c akpss.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$N1" -m qp.msg -s qp.sig -o qp.pcrs -g sha256 --scheme rsapss
expect 0 "RSA-PSS AK quote: TRUSTED" -- tg quote verify --ak akpss.tpm2b --msg qp.msg --sig qp.sig --pcrs qp.pcrs --nonce "$N1"
{ printf '\x00\x14'; tail -c +3 qp.sig; } > qp-relabel.sig
quote_reason QUOTE_SIG_INVALID "PSS quote relabelled RSASSA: QUOTE_SIG_INVALID" -- --ak akpss.tpm2b --msg qp.msg --sig qp-relabel.sig --pcrs qp.pcrs --nonce "$N1"

# SM2 AK (libtpms has no SM3: the scheme hash is SHA-256).
t2 tpm2_createak -C ek.ctx -c aksm2.ctx -G ecc_sm2_p256 -g sha256 -s sm2 -u aksm2.tpm2b
t2 tpm2_quote -c aksm2.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$N1" -m qs.msg -s qs.sig -o qs.pcrs -g sha256 --scheme sm2
expect 0 "SM2 AK quote: TRUSTED" -- tg quote verify --ak aksm2.tpm2b --msg qs.msg --sig qs.sig --pcrs qs.pcrs --nonce "$N1"
quote_reason QUOTE_SIG_INVALID "SM2 quote checked with the ECDSA AK: QUOTE_SIG_INVALID" -- --ak akec.tpm2b --msg qs.msg --sig qs.sig --pcrs qs.pcrs --nonce "$N1"
flip qs.msg 120 qs-flipped.msg
quote_reason QUOTE_SIG_INVALID "SM2 quote with a flipped byte: QUOTE_SIG_INVALID" -- --ak aksm2.tpm2b --msg qs-flipped.msg --sig qs.sig --pcrs qs.pcrs --nonce "$N1"

# Malformed structures: exit 2, one line naming the file.
head -c 50 q.msg > trunc.msg
bad_input "truncated TPMS_ATTEST" "trunc.msg" -- tg quote verify --ak ak.tpm2b --msg trunc.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
cat q.msg q.msg > long.msg
bad_input "trailing bytes after TPMS_ATTEST" "long.msg" -- tg quote verify --ak ak.tpm2b --msg long.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
# sizeofSelect = 50 in the quote's PCR selection (THREATS 55): the TSS
# refuses it, and says nothing of its own on stderr.
off=$((4 + 2 + 2 + $(xxd -s 6 -l 2 -p q.msg | sed 's/^/0x/') ))
off=$((off + 2 + $(printf '%d' 0x$(xxd -s $off -l 2 -p q.msg)) + 17 + 8 + 4 + 2))
cp q.msg badsel.msg; printf '\x32' | dd of=badsel.msg bs=1 seek=$off conv=notrunc 2>/dev/null
bad_input "PCR selection with sizeofSelect 50" "badsel.msg" -- tg quote verify --ak ak.tpm2b --msg badsel.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
head -c 10 q.sig > trunc.sig
bad_input "truncated TPMT_SIGNATURE" "trunc.sig" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig trunc.sig --pcrs q.pcrs --nonce "$N1"
head -c 100 ak.tpm2b > trunc.ak
bad_input "truncated AK" "trunc.ak" -- tg quote verify --ak trunc.ak --msg q.msg --sig q.sig --pcrs q.pcrs --nonce "$N1"
head -c 200 q.pcrs > trunc.pcrs
bad_input "truncated PCR file" "trunc.pcrs" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs trunc.pcrs --nonce "$N1"
echo '{"sha256": {"24": "00"}}' > bad.json
bad_input "PCR JSON with index 24" "bad.json" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs bad.json --nonce "$N1"
bad_input "non-hex nonce" "--nonce" -- tg quote verify --ak ak.tpm2b --msg q.msg --sig q.sig --pcrs q.pcrs --nonce xyz
