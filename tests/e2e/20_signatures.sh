#!/bin/bash
# Detached signatures made by the openssl CLI, for every algorithm, each
# with its forged twins: flipped byte in the file, flipped byte in the
# signature, a key that is not in the records, and a revoked key.
. "$(dirname "$0")/lib.sh"
setup_supplier
head -c 300000 /dev/urandom > fw.bin
flip fw.bin 150000 fw-flipped.bin
genkey stranger rsa2048
genkey stranger-ec p256

# NAME KEYTYPE DIGEST [openssl -sigopt ...]
scenario() {
	local name=$1 type=$2 dg=$3; shift 3
	genkey "$name" "$type"
	tg key add acme "$name.pub" --hash "$( [ "$type" = sm2 ] && echo sm3 || { [ "$type" = ed25519 ] && echo sha512 || echo "$dg"; } )" --reason "$name" >/dev/null
	sign "$name" fw.bin "$name.sig" "$dg" "$@"
	check_ok "$name: good signature approved" -- fw.bin --sig "$name.sig" --tier 2
	printf '%s' "$LAST_OUT" | jq -e --arg f "$(fpr "$name.pub")" '.key.fingerprint == $f and .supplier == "acme"' >/dev/null \
		&& ok "$name: verdict names the signing key" || bad "$name: verdict names the signing key"
	base64 "$name.sig" > "$name.sig.b64"
	check_ok "$name: base64 signature approved" -- fw.bin --sig "$name.sig.b64" --tier 2
	expect 1 "$name: flipped byte in the file rejected" -- tg check fw-flipped.bin --sig "$name.sig" --tier 2
	local n; n=$(stat -c %s "$name.sig")
	flip "$name.sig" $((n - 3)) "$name.sig.flipped"
	expect 1 "$name: flipped byte in the signature rejected" -- tg check fw.bin --sig "$name.sig.flipped" --tier 2
}

scenario rsa2048-pkcs1-sha256 rsa2048 sha256
scenario rsa2048-pkcs1-sha384 rsa2048 sha384
scenario rsa2048-pkcs1-sha512 rsa2048 sha512
scenario rsa2048-pss-max rsa2048 sha256 -sigopt rsa_padding_mode:pss
scenario rsa2048-pss-digest rsa2048 sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest
scenario rsa3072-pss-sha384 rsa3072 sha384 -sigopt rsa_padding_mode:pss
scenario rsa4096-pkcs1-sha512 rsa4096 sha512
scenario ecdsa-p256-sha256 p256 sha256
scenario ecdsa-p384-sha384 p384 sha384
scenario ecdsa-p256-sha384 p256 sha384
scenario ed25519 ed25519 sha512
scenario sm2-sm3 sm2 sm3

# A signature by a key that is not in the records.
sign stranger fw.bin stranger.sig
check_reason KEY_UNKNOWN "key not in the records: KEY_UNKNOWN" -- fw.bin --sig stranger.sig --tier 2
sign stranger-ec fw.bin stranger-ec.sig
check_reason KEY_UNKNOWN "EC key not in the records: KEY_UNKNOWN" -- fw.bin --sig stranger-ec.sig --tier 2
# RSA: a recorded key's signature over other bytes is told apart.
check_reason SIG_INVALID "RSA signature over other content: SIG_INVALID" -- fw-flipped.bin --sig rsa2048-pkcs1-sha256.sig --tier 2

# Revoked: every signature refused after revocation, whatever it claims.
tg key revoke "$(fpr ed25519.pub)" --reason "key leaked" >/dev/null
check_reason KEY_REVOKED "revoked Ed25519 key: KEY_REVOKED" -- fw.bin --sig ed25519.sig --tier 2
tg key revoke "$(fpr rsa2048-pkcs1-sha256.pub)" --reason "key leaked" >/dev/null
check_reason KEY_REVOKED "revoked RSA key: KEY_REVOKED" -- fw.bin --sig rsa2048-pkcs1-sha256.sig --tier 2

# A key pinned to one digest does not accept another (THREATS 35, 40).
genkey pinned rsa2048
tg key add acme pinned.pub --hash sha512 --reason pinned >/dev/null
sign pinned fw.bin pinned.sig sha256
check_reason WEAK_ALGORITHM "RSA key pinned to sha512 refuses a sha256 signature" -- fw.bin --sig pinned.sig --tier 2

# SM2: ZA must use the GM/T 0009 identity and the approved key (THREATS 34).
openssl dgst -sm3 -sign sm2-sm3.pem -sigopt distid:ALICE123@example -out sm2-otherid.sig fw.bin
check_reason KEY_UNKNOWN "SM2 signature with another user ID rejected" -- fw.bin --sig sm2-otherid.sig --tier 2
openssl dgst -sm3 -binary fw.bin > fw.sm3
openssl pkeyutl -sign -inkey sm2-sm3.pem -in fw.sm3 -out sm2-noza.sig 2>/dev/null || true
if [ -s sm2-noza.sig ]; then
	check_reason SIG_INVALID "SM2 signature over SM3(M) without ZA rejected" -- fw.bin --sig sm2-noza.sig --tier 2
	printf '%s' "$LAST_OUT" | jq -e '[.reasons[].detail] | any(contains("without the SM2 ZA"))' >/dev/null \
		&& ok "the rejection says the ZA was left out" || bad "no-ZA hint: $(printf '%s' "$LAST_OUT" | jq -c .reasons)"
fi
# The usual mistake: openssl dgst -sm3 -sign without -sigopt distid (an empty identity in ZA).
openssl dgst -sm3 -sign sm2-sm3.pem -out sm2-emptyid.sig fw.bin
check_reason SIG_INVALID "SM2 signature made without the default identity rejected" -- fw.bin --sig sm2-emptyid.sig --tier 2
printf '%s' "$LAST_OUT" | jq -e '[.reasons[].detail] | any(contains("empty identity") and contains("distid:1234567812345678"))' >/dev/null \
	&& ok "the rejection names the missing distid" || bad "empty-id hint: $(printf '%s' "$LAST_OUT" | jq -c .reasons)"

# Ed25519 S + L (THREATS P3 / case 32): same R, S replaced by S + L.
genkey ed-b ed25519
tg key add acme ed-b.pub --reason "ed b" >/dev/null
sign ed-b fw.bin ed-b.sig
check_ok "Ed25519 key b signature approved" -- fw.bin --sig ed-b.sig --tier 2
perl -e '
	open my $f, "<:raw", $ARGV[0] or die; local $/; my $s = <$f>;
	my @L = unpack("C*", pack("H*", "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"));
	my @S = unpack("C*", substr($s, 32)); my $c = 0;
	for my $i (0..31) { my $v = $S[$i] + $L[$i] + $c; $S[$i] = $v & 0xff; $c = $v >> 8; }
	open my $o, ">:raw", $ARGV[1] or die; print $o substr($s, 0, 32) . pack("C*", @S);
' ed-b.sig ed-b-sl.sig
check_reason KEY_UNKNOWN "Ed25519 non-canonical S+L rejected" -- fw.bin --sig ed-b-sl.sig --tier 2

# ECDSA out-of-range values (THREATS 30): r = s = 0, r = s = n.
printf '3006020100020100' | xxd -r -p > zero.sig
check_reason KEY_UNKNOWN "ECDSA r=s=0 (psychic signature) rejected" -- fw.bin --sig zero.sig --tier 2
n256=ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
printf "3046022100${n256}022100${n256}" | xxd -r -p > rn.sig
check_reason KEY_UNKNOWN "ECDSA r=s=n rejected" -- fw.bin --sig rn.sig --tier 2
# Malleability (THREATS 31): (r, n-s) verifies mathematically; it must be
# approved as the same artifact and key, never treated as a new identity.
