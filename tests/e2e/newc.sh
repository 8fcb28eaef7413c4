# Byte-level cpio newc writer for inputs GNU cpio will not make (sourced by
# tests).  newc_entry NAME MODE INO NLINK [DATAFILE] appends one entry to
# $NEWC_OUT (uid, gid, times 0); newc_end appends the trailer.
newc_entry() {
	local name=$1 mode=$2 ino=$3 nlink=$4 data=${5:-} size=0 nsz pad
	[ -n "$data" ] && size=$(stat -c %s "$data")
	nsz=$(( ${#name} + 1 ))
	printf '070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x' \
		"$ino" "$mode" 0 0 "$nlink" 0 "$size" 0 0 0 0 "$nsz" 0 >> "$NEWC_OUT"
	printf '%s\0' "$name" >> "$NEWC_OUT"
	pad=$(( (4 - (110 + nsz) % 4) % 4 )); head -c "$pad" /dev/zero >> "$NEWC_OUT"
	if [ -n "$data" ]; then
		cat "$data" >> "$NEWC_OUT"
		pad=$(( (4 - size % 4) % 4 )); head -c "$pad" /dev/zero >> "$NEWC_OUT"
	fi
}
newc_end() { newc_entry 'TRAILER!!!' 0 0 1; }
