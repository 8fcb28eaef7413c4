#!/bin/bash
# Reference values that can be withdrawn: a vulnerable bootloader imported
# from a golden log is revoked by digest and every host measuring it turns
# UNTRUSTED (MEASUREMENT_REVOKED), even after a golden log listing it is
# imported again; a model's golden state revoked leaves its hosts with
# unknown measurements; a revocation undone with sqlite3 is RECORD_TAMPERED.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
tg db init >/dev/null
t2 tpm2_createek -c ek.ctx -G rsa -u ek.pub || exit 0
t2 tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.tpm2b

fw=$(strhex "platform firmware 1.0"); boot=$(strhex "shim+grub 15.7 (vulnerable)"); sep=00000000
events=("0 1 $fw" "4 2147483651 $boot")
for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > golden.log
for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done
quote() { t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7 -q "$1" -m "$2.msg" -s "$2.sig" -o "$2.pcrs" -g sha256; }
attest() { # NAME: a fresh quote and attest, JSON in LAST_OUT, exit in LAST_RC
	local n; n=$(openssl rand -hex 20); quote "$n" q
	LAST_OUT=$(tg --json attest h1 --msg q.msg --sig q.sig --eventlog golden.log --nonce "$n" 2>/dev/null); LAST_RC=$?
}
tg reference import --eventlog golden.log --model edge-1 --reason "golden 2026-11" >/dev/null
tg host enroll h1 --no-challenge --ak ak.tpm2b --ek ek.pub --model edge-1 --reason r >/dev/null
attest; [ "$LAST_RC" = 0 ] && ok "TRUSTED with the golden state" || bad "TRUSTED with the golden state: $LAST_OUT"
trusted_id=$(printf '%s' "$LAST_OUT" | jq -r .id)

# Twin first: a digest no attestation measured is revoked; reevaluate looks
# at the host's trusted attestation and leaves it trusted.
expect 0 "reference revoke --digest of a digest nobody measured" -- tg reference revoke --digest "sha256:$(printf 'other' | sha256sum | cut -c1-64)" --reason "unrelated advisory"
expect 0 "reevaluate: the trusted attestation measured nothing revoked, unchanged" -- tg --json reevaluate
printf '%s' "$LAST_OUT" | jq -e '.considered == 1 and .changed == 0 and .unchanged == 1' >/dev/null \
	&& ok "considered 1, changed 0" || bad "reevaluate twin: $LAST_OUT"

bootdig=$(dig sha256 "$boot")
expect 0 "reference revoke --digest of the vulnerable bootloader" -- tg --json reference revoke --digest "sha256:$bootdig" --reason "CVE-2026-2601"
printf '%s' "$LAST_OUT" | jq -e '.revoked_values == 1 and .models == ["edge-1"] and .impact.hosts == ["h1"]' >/dev/null \
	&& ok "the host that relied on it is named" || bad "revoke impact: $LAST_OUT"
# The host's last attestation, trusted when recorded, judged again from
# the measurements it recorded: the early warning before the host attests again.
nv=$(db_sql "select count(*) from verdict")
expect 1 "reevaluate --dry-run: the trusted attestation would turn untrusted (exit 1)" -- tg --json reevaluate --dry-run
[ "$(db_sql "select count(*) from verdict")" = "$nv" ] && ok "dry run records nothing" || bad "dry run recorded"
expect 1 "reevaluate: the trusted attestation is untrusted now (exit 1)" -- tg --json reevaluate
printf '%s' "$LAST_OUT" | jq -e --argjson t "$trusted_id" '.changed == 1 and .verdicts[0].reevaluates == $t
	and .verdicts[0].verdict == "untrusted" and .verdicts[0].kind == "attestation" and .verdicts[0].host == "h1"
	and ([.verdicts[0].reasons[].code] | index("MEASUREMENT_REVOKED") != null)' >/dev/null \
	&& ok "attestation $trusted_id re-decided: untrusted, MEASUREMENT_REVOKED, superseding it" || bad "reevaluate attestation: $LAST_OUT"
db_sql "select payload from notification where event='host.untrusted' and subject='h1'" | tail -1 | jq -e '.reevaluates and .result == "untrusted"' >/dev/null \
	&& ok "a host.untrusted notification queued for the re-decided attestation" || bad "reevaluate notification"
rid=$(printf '%s' "$LAST_OUT" | jq -r '.verdicts[0].id')
[ "$(db_sql "select command || ' ' || result || ' ' || supersedes from verdict where id = $rid")" = "reevaluate untrusted $trusted_id" ] \
	&& ok "recorded as a verdict superseding the attestation" || bad "superseding row"
expect 0 "verdict show of the re-decided attestation" -- tg verdict show "$rid"
expect 0 "reevaluate again: nothing left in force to change" -- tg --json reevaluate
printf '%s' "$LAST_OUT" | jq -e '.changed == 0' >/dev/null && ok "already superseded" || bad "second reevaluate: $LAST_OUT"
attest
[ "$LAST_RC" = 1 ] && printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] | index("MEASUREMENT_REVOKED") != null' >/dev/null \
	&& ok "the host measuring the revoked bootloader is UNTRUSTED: MEASUREMENT_REVOKED" || bad "after digest revoke: $LAST_OUT"
vid=$(printf '%s' "$LAST_OUT" | jq -r .id)
expect 0 "report of the UNTRUSTED attestation" -- tg report "$vid" --html host.html
if command -v chromium >/dev/null; then
	dom=$(timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" --dump-dom "file://$WORK/host.html" 2>/dev/null)
	printf '%s' "$dom" | grep -q '<div class="verdict">UNTRUSTED</div>' && printf '%s' "$dom" | grep -q 'MEASUREMENT_REVOKED' \
		&& printf '%s' "$dom" | grep -q 'id="host"' && printf '%s' "$dom" | grep -q 'tpm2_checkquote' \
		&& ok "host report in Chromium: banner, reason, host record, offline commands" || bad "host report DOM"
else
	skip "chromium not installed: host report DOM not checked"
fi
# The attestation's signed twin: an IETF RATS EAR (a JWT), verified with openssl.
tg appliance-key init >/dev/null
tg appliance-key show > appliance.pub
verify_jwt() { # JWT PUB
	cut -d. -f1,2 "$1" | tr -d '\n' > signed.txt
	local s; s=$(cut -d. -f3 "$1" | tr '_-' '/+')
	while [ $(( ${#s} % 4 )) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d > jsig.bin
	openssl pkeyutl -verify -pubin -inkey "$2" -rawin -in signed.txt -sigfile jsig.bin >/dev/null 2>&1
}
claims() { local c; c=$(cut -d. -f2 "$1" | tr '_-' '/+'); while [ $(( ${#c} % 4 )) -ne 0 ]; do c="$c="; done; printf '%s' "$c" | base64 -d; }
expect 0 "report --ear of the UNTRUSTED attestation" -- tg report "$vid" --ear untrusted.jwt
verify_jwt untrusted.jwt appliance.pub && ok "the EAR verifies with openssl (EdDSA JWT)" || bad "EAR openssl verification"
claims untrusted.jwt | jq -e '.eat_profile == "tag:github.com,2023:veraison/ear" and .submods.h1["ear.status"] == "contraindicated"
	and .submods.h1["ear.trustworthiness-vector"].executables == 99 and (.iat | type) == "number"
	and (.["ear.verifier-id"].build | startswith("trustgate"))' >/dev/null && ok "EAR: contraindicated, executables 99 (revoked)" || bad "EAR claims: $(claims untrusted.jwt)"
expect 0 "report --ear of the TRUSTED attestation" -- tg report "$trusted_id" --ear trusted.jwt
verify_jwt trusted.jwt appliance.pub && claims trusted.jwt | jq -e '.submods.h1["ear.status"] == "affirming"
	and ([.submods.h1["ear.trustworthiness-vector"][]] | all(. == 2))' >/dev/null && ok "EAR: affirming, every claim 2" || bad "trusted EAR: $(claims trusted.jwt)"
sed 's/\.[^.]*\./.'"$(printf '{"eat_profile":"x","submods":{"h1":{"ear.status":"affirming"}}}' | base64 -w0 | tr '/+' '_-' | tr -d '=')"'./' untrusted.jwt > forged.jwt
! verify_jwt forged.jwt appliance.pub && ok "twin: an EAR with its claims replaced does not verify" || bad "forged EAR verifies"
bad_input "--vsa of an attestation" "its signed twin is an EAR" -- tg report "$vid" --vsa x.json
expect 0 "reference list shows the value revoked" -- tg --json reference list --model edge-1
printf '%s' "$LAST_OUT" | jq -e --arg d "$bootdig" '[.[] | select(.digest == $d)][0].revoked == true' >/dev/null && ok "listed as revoked" || bad "reference list"
expect 0 "the golden log imported again" -- tg reference import --eventlog golden.log --model edge-1 --reason "re-import"
attest
[ "$LAST_RC" = 1 ] && printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] | index("MEASUREMENT_REVOKED") != null' >/dev/null \
	&& ok "a re-imported golden log does not bring the revoked digest back" || bad "after re-import: $LAST_OUT"
expect 0 "audit verify after the revocation" -- tg audit verify

db_save before
db_sql "delete from measurement_revoked"
attest
[ "$LAST_RC" = 1 ] && printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] | index("RECORD_TAMPERED") != null' >/dev/null \
	&& ok "the deny list emptied with sqlite3: RECORD_TAMPERED" || bad "deny list deleted: $LAST_OUT"
expect 1 "audit verify names the deleted revocation" -- tg audit verify
printf '%s' "$LAST_OUT" | grep -q "revoked measurement sha256:$bootdig" && ok "audit verify: revoked measurement named" || bad "audit verify: $LAST_OUT"
db_restore before

# A second model, then its whole golden state withdrawn.
tg reference import --eventlog golden.log --model edge-2 --reason "golden" >/dev/null
tg host set h1 --model edge-2 --reason "moved" >/dev/null
expect 0 "reference revoke --model" -- tg --json reference revoke --model edge-2 --reason "image withdrawn"
printf '%s' "$LAST_OUT" | jq -e '.revoked_values == 20 and .impact.hosts == ["h1"]' >/dev/null && ok "20 values (2 banks) of edge-2, h1 named" || bad "model revoke: $LAST_OUT"
attest
[ "$LAST_RC" = 1 ] && printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] | (index("MEASUREMENT_UNKNOWN") != null or index("REFERENCE_EMPTY") != null)' >/dev/null \
	&& ok "the model's hosts are UNTRUSTED" || bad "after model revoke: $LAST_OUT"
db_save before
db_sql "update reference set revoked_at = NULL where model = 'edge-2'"
attest
[ "$LAST_RC" = 1 ] && printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] | index("RECORD_TAMPERED") != null' >/dev/null \
	&& ok "a model revocation undone with sqlite3: RECORD_TAMPERED" || bad "model revocation undone: $LAST_OUT"
db_restore before
expect 0 "audit verify" -- tg audit verify

bad_input "reference revoke with two selectors" "exactly one" -- tg reference revoke --model edge-1 --digest "sha256:$bootdig" --reason x
bad_input "reference revoke of the same digest twice" "already a revoked measurement" -- tg reference revoke --digest "sha256:$bootdig" --reason x
bad_input "reference revoke with a short digest" "--digest" -- tg reference revoke --digest sha256:abcd --reason x
bad_input "reference revoke with an unknown algorithm" "--digest" -- tg reference revoke --digest md5:d41d8cd98f00b204e9800998ecf8427e --reason x
bad_input "reference revoke of a model without values left" "no reference value left" -- tg reference revoke --model edge-2 --reason x
bad_input "reference revoke of an unknown release" "not" -- tg reference revoke --release acme/fw/1.0 --reason x
