#!/bin/bash
# Enrolment that proves the AK lives in the host's TPM (issue 6 item 2):
# `host challenge` computes TPM2_MakeCredential in software (no TPM), bound
# to the AK's name and encrypted to the EK; `host respond` activates it in
# the host's TPM (swtpm here); `host enroll --secret` accepts the AK only
# with the secret.  Forged twins: a wrong secret, no secret, the AK of
# another TPM, the EK of another TPM.
. "$(dirname "$0")/lib.sh"
command -v swtpm >/dev/null && command -v tpm2_createek >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
T1=$TPM2TOOLS_TCTI
tg db init >/dev/null
t2 tg quote --nonce "$(openssl rand -hex 20)" --out b1
t2 tpm2_createek -c ek.ctx -G rsa -u ek1.pub
# A second TPM with its own EK and AK.
mkdir -p st2
swtpm socket --tpmstate dir="$WORK/st2" --tpm2 --server type=unixio,path="$WORK/t2.sock" \
	--ctrl type=unixio,path="$WORK/t2.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$WORK/sw2.pid"
for _ in $(seq 50); do [ -S "$WORK/t2.sock" ] && break; sleep 0.1; done
T2="swtpm:path=$WORK/t2.sock"
t2 tg quote --nonce "$(openssl rand -hex 20)" --out b2 --tcti "$T2"
TPM2TOOLS_TCTI=$T2 t2 tpm2_createek -c ek2.ctx -G rsa -u ek2.pub

expect 0 "host challenge (software MakeCredential, no TPM)" -- tg host challenge h1 --ek ek1.pub --ak b1/ak.tpm2b --out c1.json
jq -e '.credential_blob and .encrypted_secret and .host == "h1"' c1.json >/dev/null && ok "challenge file" || bad "challenge file"
expect 0 "host respond: the TPM activates the credential" -- tg host respond --challenge c1.json
S=$(printf '%s' "$LAST_OUT" | tr -d '\n')
[ ${#S} -eq 64 ] && ok "32-byte secret recovered" || bad "secret: $S"
bad_input "enrol without the secret after a challenge" "--secret" -- tg host enroll h1 --ak b1/ak.tpm2b --ek ek1.pub --reason r
bad_input "enrol with a wrong secret" "does not answer" -- tg host enroll h1 --ak b1/ak.tpm2b --ek ek1.pub --secret "$(openssl rand -hex 32)" --reason r
bad_input "enrol another AK than the challenged one" "not the one" -- tg host enroll h1 --ak b2/ak.tpm2b --ek ek1.pub --secret "$S" --reason r
expect 0 "enrol with the recovered secret" -- tg host enroll h1 --ak b1/ak.tpm2b --ek ek1.pub --secret "$S" --reason "credential activated"
# The AK of TPM 2 offered with TPM 1's EK: neither TPM can open it.
expect 0 "challenge: TPM 1's EK, TPM 2's AK" -- tg host challenge h2 --ek ek1.pub --ak b2/ak.tpm2b --out c2.json
bad_input "TPM 1 cannot activate it (not its AK)" "TPM" -- tg host respond --challenge c2.json
bad_input "TPM 2 cannot activate it (not its EK)" "TPM" -- tg host respond --challenge c2.json --tcti "$T2"
# TPM 1's AK offered with TPM 2's EK.
expect 0 "challenge: TPM 2's EK, TPM 1's AK" -- tg host challenge h3 --ek ek2.pub --ak b1/ak.tpm2b --out c3.json
bad_input "TPM 1 cannot activate it (not its EK)" "TPM" -- tg host respond --challenge c3.json
# ECC AK.
t2 tg quote --nonce "$(openssl rand -hex 20)" --out b4 --ak-alg ecc
expect 0 "challenge for an ECC AK" -- tg host challenge h4 --ek ek1.pub --ak b4/ak.tpm2b --out c4.json
expect 0 "respond with the ECC AK" -- tg host respond --challenge c4.json --ak-alg ecc
S4=$(printf '%s' "$LAST_OUT" | tr -d '\n')
expect 0 "enrol the ECC AK with its secret" -- tg host enroll h4 --ak b4/ak.tpm2b --ek ek1.pub --secret "$S4" --reason ecc
# Bad input.
# An ECC (P-256) EK: the seed by ECDH with an ephemeral key (KDFe).
t2 tpm2_createek -c eke.ctx -G ecc -u eke.pub
expect 0 "challenge with an ECC EK" -- tg host challenge h5 --ek eke.pub --ak b1/ak.tpm2b --out c5.json
bad_input "respond with the RSA EK: the TPM refuses" "TPM" -- tg host respond --challenge c5.json
expect 0 "respond with the ECC EK" -- tg host respond --challenge c5.json --ek-alg ecc
S5=$(printf '%s' "$LAST_OUT" | tr -d '\n')
expect 0 "enrol with the ECC-EK credential's secret" -- tg host enroll h5 --ak b1/ak.tpm2b --ek eke.pub --secret "$S5" --reason "ecc ek"
bad_input "--secret without a challenge" "no challenge" -- tg host enroll h6 --ak b1/ak.tpm2b --secret 00ff --reason r
bad_input "enrol without proof and without --no-challenge" "--no-challenge" -- tg host enroll h6 --ak b1/ak.tpm2b --reason r
bad_input "a challenged host cannot skip the proof" "--no-challenge is not accepted" -- tg host enroll h3 --no-challenge --ak b1/ak.tpm2b --ek ek2.pub --reason r
expect 0 "an AK taken on trust, said so" -- tg --json host enroll h6 --no-challenge --ak b1/ak.tpm2b --reason "out of band"
printf '%s' "$LAST_OUT" | jq -e '.proof | startswith("none")' >/dev/null && ok "the audit detail records that no proof was given" || bad "proof field"
echo '{"credential_blob": "zz"}' > junk.json
bad_input "a file that is not a challenge" "junk.json" -- tg host respond --challenge junk.json
kill "$(cat "$WORK/sw2.pid")" 2>/dev/null
# EK certificates: a TPM manufactured by swtpm_setup with a local CA; the
# certificate counts only when an ek-ca key of the records issued it.
if command -v swtpm_setup >/dev/null && [ -x /usr/bin/swtpm_localca ]; then
	mkdir -p st3 ca
	printf 'statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n' "$WORK/ca" "$WORK/ca/signkey.pem" \
		"$WORK/ca/issuercert.pem" "$WORK/ca/certserial" > localca.conf
	printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = /etc/swtpm-localca.options\n' \
		"$WORK/localca.conf" > setup.conf
	swtpm_setup --tpm2 --tpmstate "$WORK/st3" --create-ek-cert --config "$WORK/setup.conf" --overwrite >/dev/null 2>&1
	swtpm socket --tpmstate dir="$WORK/st3" --tpm2 --server type=unixio,path="$WORK/t3.sock" \
		--ctrl type=unixio,path="$WORK/t3.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$WORK/sw3.pid"
	for _ in $(seq 50); do [ -S "$WORK/t3.sock" ] && break; sleep 0.1; done
	T3="swtpm:path=$WORK/t3.sock"
	TPM2TOOLS_TCTI=$T3 tpm2_nvread 0x1c00002 -o ekcert.der >/dev/null 2>&1
	TPM2TOOLS_TCTI=$T3 t2 tpm2_createek -c ek3.ctx -G rsa -u ek3.pub
	t2 tg quote --nonce "$(openssl rand -hex 20)" --out b7 --tcti "$T3"
	openssl x509 -inform DER -in ekcert.der -noout -issuer | grep -q swtpm-localca && ok "EK certificate from the TPM's NV (swtpm-localca)" || bad "ek cert"
	bad_input "EK certificate with no ek-ca key in the records" "ek-ca" -- tg host enroll h7 --no-challenge --ak b7/ak.tpm2b --ek ek3.pub --ek-cert ekcert.der --reason r
	tg supplier add tpmvendor --reason "TPM vendor" >/dev/null
	tg key add tpmvendor "$WORK/ca/issuercert.pem" --purpose ek-ca --reason "vendor EK CA" >/dev/null
	openssl req -batch -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -subj /CN=swtpm-localca 2>/dev/null
	openssl x509 -inform DER -in ekcert.der -pubkey -noout > ekpub.pem
	openssl x509 -new -subj /CN=unknown -force_pubkey ekpub.pem -CA rogue.crt -CAkey rogue.key -set_serial 7 -days 365 \
		-outform DER -out rogue-ek.der 2>/dev/null
	bad_input "the same EK certificate re-signed by a look-alike CA" "ek-ca" -- tg host enroll h7 --no-challenge --ak b7/ak.tpm2b --ek ek3.pub --ek-cert rogue-ek.der --reason r
	expect 0 "EK certificate issued by the vendor's ek-ca key: enrolled" -- tg host enroll h7 --no-challenge --ak b7/ak.tpm2b --ek ek3.pub --ek-cert ekcert.der --reason "vendor-certified EK"
	kill "$(cat "$WORK/sw3.pid")" 2>/dev/null
else
	skip "swtpm_setup/swtpm_localca not installed"
fi
expect 0 "audit chain intact" -- tg audit verify
