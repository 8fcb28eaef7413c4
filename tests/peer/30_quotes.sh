#!/bin/bash
# Peer corpus: quotes from keylime and go-attestation (EXPECTED.json
# "quotes").  Good quotes are TRUSTED with their own PCR selection; the
# negative vectors are refused, including the PCR file that tpm2_checkquote
# 5.4 wrongly accepts; the Windows/GCP SHA-1 quote is UNTRUSTED by policy
# (SHA-1, no nonce) while its PCR digest and event log replay still agree.
. "$(dirname "$0")/../e2e/lib.sh"
PEER=${TG_PEER:-$ROOT/../shared/fixtures/peer}
if [ ! -f "$PEER/EXPECTED.json" ]; then
	skip "peer corpus not present ($PEER)"
	exit 0
fi
K=$PEER/keylime/keylime/tpm/tpm_util_test.checkquote
if [ -d "$K" ]; then
	N=$(tr -d '\n' <"$K/nonce.txt" | xxd -p | tr -d '\n')
	expect 0 "keylime checkquote: good quote TRUSTED" -- tg quote verify --ak "$K/ak_pub.pem" --msg "$K/quote.tpms_attest" \
		--sig "$K/quote.tpmt_signature" --pcrs "$K/quote.pcrs_tpm2tools" --nonce "$N" --pcr-list 16
	# The collector's sidecar has no bank level; CLI.md's JSON form does.
	jq '{sha256: .}' "$K/quote.pcrs.json" > keylime-pcrs.json
	expect 0 "keylime checkquote: PCR values as CLI.md JSON TRUSTED" -- tg quote verify --ak "$K/ak_pub.pem" --msg "$K/quote.tpms_attest" \
		--sig "$K/quote.tpmt_signature" --pcrs keylime-pcrs.json --nonce "$N" --pcr-list 16
	out=$(tg quote verify --ak "$K/ak_pub.pem" --msg "$K/quote.tpms_attest" --sig "$K/quote.tpmt_signature" \
		--pcrs "$K/neg_pcrs_byte5_flipped.pcrs_tpm2tools" --nonce "$N" --pcr-list 16 2>&1); rc=$?
	[ "$rc" -ne 0 ] && ok "keylime neg_pcrs_byte5_flipped refused (tpm2_checkquote 5.4 accepts it; exit $rc)" \
		|| bad "keylime neg_pcrs_byte5_flipped must be refused"
	out=$(tg quote verify --ak "$K/ak_pub.pem" --msg "$K/neg_quote_byte5_flipped.tpms_attest" --sig "$K/quote.tpmt_signature" \
		--pcrs "$K/quote.pcrs_tpm2tools" --nonce "$N" --pcr-list 16 2>&1); rc=$?
	[ "$rc" -ne 0 ] && ok "keylime neg_quote_byte5_flipped refused (exit $rc)" || bad "keylime neg_quote_byte5_flipped must be refused"
	out=$(tg --json quote verify --ak "$K/ak_pub.pem" --msg "$K/quote.tpms_attest" --sig "$K/quote.tpmt_signature" \
		--pcrs "$K/quote.pcrs_tpm2tools" --nonce "61${N:2}" --pcr-list 16 2>/dev/null); rc=$?
	[ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[].code] == ["QUOTE_NONCE"]' >/dev/null \
		&& ok "keylime: nonce with its first character replaced: QUOTE_NONCE" || bad "keylime: altered nonce must be QUOTE_NONCE"
	out=$(tg --json quote verify --ak "$K/ak_pub.pem" --msg "$K/quote.tpms_attest" --sig "$K/quote.tpmt_signature" \
		--pcrs "$K/quote.pcrs_tpm2tools" --nonce "$N" 2>/dev/null); rc=$?
	[ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[].code] == ["QUOTE_PCR_SELECTION"]' >/dev/null \
		&& ok "keylime: PCR 16 alone does not cover PCRs 0-7: QUOTE_PCR_SELECTION" || bad "keylime: selection subset must be QUOTE_PCR_SELECTION"
fi
F=$PEER/keylime/test-data/files
if [ -d "$F" ]; then
	for ak in akpub.pem ak.pub; do
		expect 0 "keylime test-data: quote TRUSTED with AK $ak" -- tg quote verify --ak "$F/$ak" --msg "$F/quote.out" --sig "$F/quotesig.out" \
			--pcrs "$F/quotepcr.out" --nonce db1db298db6d60e6385b7231743e9c3056a18003 --pcr-list 15,16,22
	done
	out=$(tg --json quote verify --ak "$F/ak.pub" --msg "$F/quote.out" --sig "$F/quotesig.out" --pcrs "$F/quotepcr.out" \
		--nonce "$(openssl rand -hex 20)" --pcr-list 15,16,22 2>/dev/null); rc=$?
	[ "$rc" -eq 1 ] && ok "keylime test-data: any other nonce is QUOTE_NONCE" || bad "keylime test-data: other nonce"
	name=$(tg --json quote verify --ak "$F/ak.pub" --msg "$F/quote.out" --sig "$F/quotesig.out" --pcrs "$F/quotepcr.out" \
		--nonce db1db298db6d60e6385b7231743e9c3056a18003 --pcr-list 15,16,22 2>/dev/null | jq -r .ak.name)
	[ "$name" = "$(xxd -p "$F/ak.name" | tr -d '\n')" ] && ok "keylime test-data: AK name equals ak.name" || bad "keylime test-data: AK name ($name)"
fi
W=$PEER/go-attestation/attest/testdata/windows_gcp_shielded_vm.extracted
if [ -d "$W" ]; then
	jq .pcrs "$W/pcrs_and_nonce.json" > win-pcrs.json
	out=$(tg --json quote verify --ak "$W/ak_public.tpmt_public" --msg "$W/quote.tpms_attest" --sig "$W/quote.tpmt_signature" \
		--pcrs win-pcrs.json --eventlog "$W/eventlog.bin" 2>/dev/null); rc=$?
	[ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[].code] | (index("QUOTE_SIG_INVALID") != null) and (index("QUOTE_PCR_DIGEST") == null) and (index("EVENTLOG_REPLAY_MISMATCH") == null)' >/dev/null \
		&& ok "windows GCP: SHA-1 quote UNTRUSTED by policy; its PCR digest and log replay agree" || { bad "windows GCP quote"; printf '%s' "$out" | jq -c .reasons; }
fi
