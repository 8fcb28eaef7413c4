#!/bin/bash
# Peer corpus: every public key and certificate shipped in
# ../shared/fixtures/peer is imported with `trustgate key add`.  Oracle:
# openssl.  A key trustgate's policy accepts (RSA 2048/3072/4096 with odd
# e >= 65537, P-256, P-384, SM2, Ed25519) must import with the fingerprint
# openssl computes over the SPKI; anything else must be refused (exit 2).
. "$(dirname "$0")/../e2e/lib.sh"
PEER=${TG_PEER:-$ROOT/../shared/fixtures/peer}
if [ ! -d "$PEER" ]; then
	skip "peer corpus not present ($PEER)"
	exit 0
fi
setup_supplier

n=0
while IFS= read -r f; do
	rel=${f#"$PEER"/}
	spki=$WORK/spki.der
	if openssl x509 -in "$f" -noout -pubkey >"$WORK/pub.pem" 2>/dev/null ||
	   openssl x509 -inform DER -in "$f" -noout -pubkey >"$WORK/pub.pem" 2>/dev/null ||
	   openssl pkey -pubin -in "$f" -out "$WORK/pub.pem" 2>/dev/null ||
	   openssl pkey -pubin -inform DER -in "$f" -out "$WORK/pub.pem" 2>/dev/null; then
		openssl pkey -pubin -in "$WORK/pub.pem" -outform DER -out "$spki" 2>/dev/null
		text=$(openssl pkey -pubin -in "$WORK/pub.pem" -noout -text 2>/dev/null)
		want=refuse
		case "$text" in
		*"Public-Key: (2048 bit)"*Exponent:\ 65537*|*"Public-Key: (3072 bit)"*Exponent:\ 65537*|*"Public-Key: (4096 bit)"*Exponent:\ 65537*) want=accept ;;
		*"NIST CURVE: P-256"*|*"NIST CURVE: P-384"*|*"ASN1 OID: SM2"*|*ED25519*) want=accept ;;
		esac
	else
		want=refuse   # not a key openssl reads either (e.g. a TPM2B_PUBLIC)
	fi
	n=$((n + 1))
	out=$(tg --json key add acme "$f" --reason "peer corpus" 2>"$WORK/err"); rc=$?
	if [ "$want" = accept ]; then
		got=$(printf '%s' "$out" | jq -r .fingerprint 2>/dev/null)
		exp=$(sha256sum <"$spki" | cut -d' ' -f1)
		if [ "$rc" -eq 0 ] && [ "$got" = "$exp" ]; then
			ok "peer key $rel imported, fingerprint matches openssl"
		elif [ "$rc" -eq 2 ] && grep -q "already in the records" "$WORK/err"; then
			ok "peer key $rel is a duplicate of one already imported"
		else
			bad "peer key $rel (exit $rc, fingerprint $got, want $exp) $(head -1 "$WORK/err")"
		fi
	else
		if [ "$rc" -eq 2 ] && [ "$(wc -l <"$WORK/err")" -eq 1 ]; then
			ok "peer key $rel refused: $(sed 's/^trustgate: //' "$WORK/err" | cut -c1-90)"
		else
			bad "peer key $rel should be refused (exit $rc)"
		fi
	fi
done < <(find "$PEER" -type f \( -name '*.pem' -o -name '*.crt' -o -name '*.der' -o -name '*.pub' -o -name '*.cer' \) | sort)
[ "$n" -gt 0 ] && ok "peer corpus: $n key files examined" || skip "peer corpus has no key files"
