# Write tar entries byte by byte (sourced by tests), for the THREATS A
# inputs GNU tar will not make: hard links with data, devices, FIFOs,
# self links, duplicate names, setuid bits.
# ustar_entry FILE NAME TYPEFLAG MODE(octal) DATA [LINKNAME]
ustar_entry() {
	local LC_ALL=C
	local out=$1 name=$2 type=$3 mode=$((8#$4)) data=$5 link=${6:-} size hdr sum
	size=${#data}
	hdr=$(mktemp)
	{
		printf '%s' "$name"; head -c $((100 - ${#name})) /dev/zero
		printf '%07o\0' "$mode"; printf '%07o\0' 0; printf '%07o\0' 0
		printf '%011o\0' "$size"; printf '%011o\0' 1700000000
		printf '        '; printf '%s' "$type"
		printf '%s' "$link"; head -c $((100 - ${#link})) /dev/zero
		printf 'ustar\00000'; head -c 247 /dev/zero
	} > "$hdr"
	sum=$(od -An -v -tu1 "$hdr" | tr -s ' ' '\n' | awk '{s += $1} END {print s}')
	printf '%06o\0 ' "$sum" | dd of="$hdr" bs=1 seek=148 conv=notrunc 2>/dev/null
	cat "$hdr" >> "$out"; rm -f "$hdr"
	if [ "$size" -gt 0 ]; then
		printf '%s' "$data" >> "$out"
		head -c $(( (512 - size % 512) % 512 )) /dev/zero >> "$out"
	fi
}
ustar_end() { head -c 1024 /dev/zero >> "$1"; }

# Raw tar headers for the header-desynchronisation cases (THREATS 10).
# tar_hdr OUT NAME TYPE SIZE [LINK] [MAGIC posix|gnu|v7] [SIZEFIELD]
# SIZE goes in the size field as 11 octal digits, unless SIZEFIELD (the 12
# bytes of the field, literally) is given.  TYPE "" writes a NUL typeflag.
tar_hdr() {
	local LC_ALL=C
	local out=$1 name=$2 type=$3 size=$4 link=${5:-} magic=${6:-posix} sf=${7:-} hdr sum
	hdr=$(mktemp)
	{
		printf '%s' "$name"; head -c $((100 - ${#name})) /dev/zero
		printf '%07o\0' 420; printf '%07o\0' 0; printf '%07o\0' 0
		if [ -n "$sf" ]; then printf '%s' "$sf"; else printf '%011o\0' "$size"; fi
		printf '%011o\0' 1700000000
		printf '        '
		if [ -n "$type" ]; then printf '%s' "$type"; else printf '\0'; fi
		printf '%s' "$link"; head -c $((100 - ${#link})) /dev/zero
		case $magic in
		posix) printf 'ustar\00000' ;;
		gnu) printf 'ustar  \0' ;;
		*) head -c 8 /dev/zero ;;
		esac
		head -c 247 /dev/zero
	} > "$hdr"
	sum=$(od -An -v -tu1 "$hdr" | tr -s ' ' '\n' | awk '{s += $1} END {print s}')
	printf '%06o\0 ' "$sum" | dd of="$hdr" bs=1 seek=148 conv=notrunc 2>/dev/null
	cat "$hdr" >> "$out"; rm -f "$hdr"
}
# tar_data OUT FILE: FILE's bytes, padded to the next 512-byte block.
tar_data() {
	local n; n=$(stat -c %s "$2")
	cat "$2" >> "$1"
	head -c $(( (512 - n % 512) % 512 )) /dev/zero >> "$1"
}
# pax_rec KEY VALUE: one "LEN KEY=VALUE\n" record, LEN counting itself.
pax_rec() {
	local LC_ALL=C body=" $1=$2"$'\n' n
	n=$(( ${#body} + 1 ))
	while [ $(( ${#n} + ${#body} )) -ne "$n" ]; do n=$(( ${#n} + ${#body} )); done
	printf '%s%s' "$n" "$body"
}
# tar_ext OUT TYPE DATAFILE: an extension header (x, g, L, K) and its data.
tar_ext() { tar_hdr "$1" "././@Ext" "$2" "$(stat -c %s "$3")"; tar_data "$1" "$3"; }
