# Build trustgate.intoto.jsonl for a directory with openssl and jq (sourced
# by tests): an in-toto Statement v1 of every file, in a DSSE envelope.
# manifest DIR KEYNAME SUPPLIER PRODUCT VERSION [sm3] > trustgate.intoto.jsonl
manifest() {
	local dir=$1 key=$2 sup=$3 prod=$4 ver=$5 sm3=${6:-} subj="[]" f name st pl len
	while IFS= read -r f; do
		name=${f#./}
		if [ -n "$sm3" ]; then
			subj=$(jq -c --arg n "$name" --arg s "$(sha256sum < "$dir/$f" | cut -d' ' -f1)" \
				--arg m "$(openssl dgst -sm3 -r < "$dir/$f" | cut -d' ' -f1)" '. + [{name: $n, digest: {sha256: $s, sm3: $m}}]' <<<"$subj")
		else
			subj=$(jq -c --arg n "$name" --arg s "$(sha256sum < "$dir/$f" | cut -d' ' -f1)" '. + [{name: $n, digest: {sha256: $s}}]' <<<"$subj")
		fi
	done < <(cd "$dir" && find . -type f ! -name trustgate.intoto.jsonl | sort)
	jq -cn --argjson s "$subj" --arg sup "$sup" --arg p "$prod" --arg v "$ver" \
		'{"_type": "https://in-toto.io/Statement/v1", subject: $s, predicateType: "https://trustgate.dev/package/v1", predicate: {supplier: $sup, product: $p, version: $v}}' > "$WORK/.statement"
	envelope "$WORK/.statement" "$key"
}
# envelope STATEMENTFILE KEYNAME [payloadType]: the DSSE envelope line.
envelope() {
	local type=${3:-application/vnd.in-toto+json} len
	len=$(stat -c %s "$1")
	{ printf 'DSSEv1 %d %s %d ' "${#type}" "$type" "$len"; cat "$1"; } > "$WORK/.pae"
	sign "$2" "$WORK/.pae" "$WORK/.dsse.sig" sha256
	jq -cn --arg t "$type" --arg p "$(base64 -w0 "$1")" --arg s "$(base64 -w0 "$WORK/.dsse.sig")" \
		'{payloadType: $t, payload: $p, signatures: [{keyid: "", sig: $s}]}'
}
