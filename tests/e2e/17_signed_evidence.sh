#!/bin/bash
# Machine-readable evidence signed by the appliance's own key: a check's
# in-toto VSA (SLSA verification summary in a DSSE envelope) verified with
# the documented openssl commands, Ed25519 and SM2 (--gm); the audit export
# verified offline on a copy after the records are deleted, refused after a
# one-byte edit and when another appliance signed it.
. "$(dirname "$0")/lib.sh"

setup_supplier
tg product add acme fw --kind firmware --reason p >/dev/null
genkey k p256
tg key add acme k.pub --purpose firmware --reason k >/dev/null
head -c 3000 /dev/urandom > fw.bin; sign k fw.bin fw.sig
tg release add acme fw 1.0 --file fw.bin --reason r >/dev/null
id=$(tg --json check fw.bin --sig fw.sig --product fw --version 1.0 | jq -r .id)
bad_input "a VSA before the appliance has a key" "appliance-key init" -- tg report "$id" --vsa v.json
[ ! -e v.json ] && ok "nothing written without a key" || bad "nothing written without a key"
expect 0 "appliance-key init" -- tg --json appliance-key init
printf '%s' "$LAST_OUT" | jq -e '.algorithm == "ed25519" and (.fingerprint | length) == 64' >/dev/null && ok "an Ed25519 key" || bad "appliance key: $LAST_OUT"
[ "$(stat -c %a "$TG_LOCAL.appliance.pem")" = 600 ] && ok "the private key file is 0600, beside the records" || bad "private key mode"
! db_sql "select value from meta" | grep -q "PRIVATE KEY" && ok "no private key inside the records" || bad "private key inside the records"
bad_input "appliance-key init twice" "already have an appliance key" -- tg appliance-key init
expect 0 "appliance-key show" -- tg appliance-key show
printf '%s\n' "$LAST_OUT" > appliance.pub
openssl pkey -pubin -in appliance.pub -noout 2>/dev/null && ok "the public key is PEM openssl reads" || bad "appliance.pub"
tg --json audit log --action appliance.key | jq -e 'length == 1' >/dev/null && ok "its creation is audited" || bad "appliance.key audit row"

expect 0 "report --vsa" -- tg report "$id" --vsa vsa.json --html r.html
# The documented verification (README, "Signed evidence"): PAE over the payload, openssl pkeyutl.
verify_dsse() { # ENVELOPE PUB [extra pkeyutl args]
	local env=$1 pub=$2; shift 2
	local type; type=$(jq -r .payloadType "$env")
	jq -r .payload "$env" | base64 -d > payload.bin
	printf 'DSSEv1 %d %s %d ' "${#type}" "$type" "$(stat -c %s payload.bin)" > pae.bin
	cat payload.bin >> pae.bin
	jq -r '.signatures[0].sig' "$env" | base64 -d > sig.bin
	openssl pkeyutl -verify -pubin -inkey "$pub" -rawin -in pae.bin -sigfile sig.bin "$@" >/dev/null 2>&1
}
verify_dsse vsa.json appliance.pub && ok "the VSA verifies with openssl (Ed25519)" || bad "VSA openssl verification"
jq -e --arg s "$(sha256sum fw.bin | cut -d' ' -f1)" --argjson i "$id" '._type == "https://in-toto.io/Statement/v1"
	and .predicateType == "https://slsa.dev/verification_summary/v1" and .subject[0].digest.sha256 == $s
	and .predicate.verificationResult == "PASSED" and .predicate.verifiedLevels == ["MLPS_TIER_3"]
	and .predicate.trustgate.verdict_id == $i and (.predicate.policy.digest.sha256 | length) == 64' payload.bin >/dev/null \
	&& ok "VSA: in-toto statement, subject digest, PASSED at MLPS_TIER_3, verdict and records digest" || bad "VSA content: $(cat payload.bin)"
jq '.payload |= (@base64d | sub("PASSED"; "FAILED") | @base64)' vsa.json > vsa-forged.json
! verify_dsse vsa-forged.json appliance.pub && ok "twin: a VSA edited to another result does not verify" || bad "forged VSA verifies"
rid=$(tg --json check fw.bin --product fw --version 1.0 | jq -r .id)
expect 0 "a VSA of a rejected check" -- tg report "$rid" --vsa vsa-r.json
verify_dsse vsa-r.json appliance.pub && jq -e '.predicate.verificationResult == "FAILED" and .predicate.verifiedLevels == []' payload.bin >/dev/null \
	&& ok "a rejected check's VSA says FAILED" || bad "rejected VSA"
bad_input "--ear of a check verdict" "its signed twin is a VSA" -- tg report "$id" --ear e.jwt
bad_input "--vsa to an existing file" "exists" -- tg report "$id" --vsa vsa.json

# The audit export: verified on a copy after the records are gone.
expect 0 "audit export" -- tg audit export --out audit.export
cp audit.export appliance.pub "$WORK/.." 2>/dev/null; mkdir -p elsewhere; cp audit.export appliance.pub elsewhere/
db_drop
expect 0 "audit verify --export after the records are deleted" -- tg audit verify --export elsewhere/audit.export --key elsewhere/appliance.pub
printf '%s' "$LAST_OUT" | grep -q "export intact" && ok "the export verifies offline, pinned" || bad "export verify: $LAST_OUT"
! db_exists && ok "verifying an export opens no records" || bad "verifying an export created records"
verify_dsse elsewhere/audit.export elsewhere/appliance.pub && ok "the export's signature verifies with openssl too" || bad "export openssl verification"
python3 - elsewhere/audit.export <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b'"payload":"') + 200
b[i] = ord("A") if b[i] != ord("A") else ord("B")
open("edited.export", "wb").write(b)
EOF
expect 1 "an export edited by one byte is refused" -- tg audit verify --export edited.export --key elsewhere/appliance.pub
python3 - elsewhere/audit.export <<'EOF'
import sys, json, base64
e = json.load(open(sys.argv[1]))
p = json.loads(base64.b64decode(e["payload"]))
p["rows"].pop(2)
e["payload"] = base64.b64encode(json.dumps(p).encode()).decode()
json.dump(e, open("cut.export", "w"))
EOF
expect 1 "an export with a row taken out is refused" -- tg audit verify --export cut.export

# Another appliance (SM2 under --gm): its own export verifies with its own key only.
export TRUSTGATE_DB=$WORK/other.db
setup_supplier
expect 0 "appliance-key init --gm" -- tg --json --gm appliance-key init
printf '%s' "$LAST_OUT" | jq -e '.algorithm == "sm2"' >/dev/null && ok "an SM2 key" || bad "SM2 appliance key"
openssl pkey -in "$TRUSTGATE_DB.appliance.pem" -noout -text 2>/dev/null | grep -q "SM2" && ok "openssl reads the SM2 private key" || bad "SM2 key file"
tg appliance-key show > other.pub
tg key add acme k.pub --purpose firmware --reason k >/dev/null
oid=$(tg --json --tier 1 check fw.bin --sig fw.sig | jq -r .id)
expect 0 "report --vsa (SM2)" -- tg report "$oid" --vsa vsa-sm2.json
verify_dsse vsa-sm2.json other.pub -digest sm3 -pkeyopt distid:1234567812345678 && ok "the SM2 VSA verifies with openssl (SM3, default identity)" || bad "SM2 VSA openssl"
verify_dsse vsa-sm2.json appliance.pub && bad "the SM2 VSA verifies under the other appliance's key" || ok "twin: not under the first appliance's key"
tg audit export --out other.export >/dev/null
expect 1 "an export of another appliance, pinned to the first, is refused" -- tg audit verify --export other.export --key elsewhere/appliance.pub
printf "%s" "$LAST_OUT" | grep -q "pinned appliance" && ok "says the pinned appliance did not sign it" || bad "another appliance: $LAST_OUT"
expect 0 "the SM2 export verifies with its own key" -- tg audit verify --export other.export --key other.pub
bad_input "audit verify --export of a file that is not an export" "not a trustgate audit export" -- tg audit verify --export other.pub
bad_input "audit verify --key without --export" "--key goes with --export" -- tg audit verify --key other.pub
bad_input "audit export without --out" "--out FILE is required" -- tg audit export
bad_input "audit export over an existing file" "exists" -- tg audit export --out other.export
