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
