# Build TCG event logs byte by byte (sourced by tests).  Little-endian.
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
le16() { printf '%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)); }
hexof() { xxd -p "$@" | tr -d '\n'; }
strhex() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
# Spec ID Event03 header (legacy layout) declaring sha1 + sha256.
specid_hdr() {
	local body
	body="$(strhex 'Spec ID Event03')00""$(le32 0)""00""02""00""02""$(le32 2)""$(le16 4)$(le16 20)""$(le16 11)$(le16 32)""00"
	printf '%s' "$(le32 0)$(le32 3)$(printf '0%.0s' {1..40})$(le32 $((${#body} / 2)))$body"
}
# event2 PCR TYPE DATAHEX: digests are SHA-1 and SHA-256 of the data.
event2() {
	local d1 d256
	d1=$(printf '%s' "$3" | xxd -r -p | openssl dgst -sha1 -binary | xxd -p | tr -d '\n')
	d256=$(printf '%s' "$3" | xxd -r -p | openssl dgst -sha256 -binary | xxd -p | tr -d '\n')
	printf '%s' "$(le32 "$1")$(le32 "$2")$(le32 2)$(le16 4)$d1$(le16 11)$d256$(le32 $((${#3} / 2)))$3"
}
# legacy PCR TYPE DATAHEX: SHA-1 of the data as the digest.
legacy() {
	local d1
	d1=$(printf '%s' "$3" | xxd -r -p | openssl dgst -sha1 -binary | xxd -p | tr -d '\n')
	printf '%s' "$(le32 "$1")$(le32 "$2")$d1$(le32 $((${#3} / 2)))$3"
}
# extend HASH INITHEX DIGESTHEX...: the PCR value after extending.
extend() {
	local h=$1 v=$2; shift 2
	for dg in "$@"; do
		v=$(printf '%s%s' "$v" "$dg" | xxd -r -p | openssl dgst -"$h" -binary | xxd -p | tr -d '\n')
	done
	printf '%s' "$v"
}
dig() { printf '%s' "$2" | xxd -r -p | openssl dgst -"$1" -binary | xxd -p | tr -d '\n'; }
