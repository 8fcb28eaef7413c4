#!/bin/bash
# Every .deb in the apt cache (or $TG_REAL_DEBS) through tests/real/deb_one.sh,
# two at a time; then a summary table.  Fails on any crash, sanitizer report
# or oracle difference, and prints every rejection with its reasons.
#   TG_REAL_DEBS   folder of .deb files (default /var/cache/apt/archives)
#   TG_REAL_LIMIT  only the first N packages (sorted by name)
#   TG_REAL_OUT    keep results here (default: a temporary folder)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TG_BIN=${TG_BIN:-$ROOT/build/trustgate}
DEBS=${TG_REAL_DEBS:-/var/cache/apt/archives}
mapfile -t list < <(ls "$DEBS"/*.deb 2>/dev/null | sort)
if [ ${#list[@]} -eq 0 ]; then
	echo "skip - real/debs: no .deb files in $DEBS (see README: filling the package cache)"
	exit 0
fi
[ -n "${TG_REAL_LIMIT:-}" ] && list=("${list[@]:0:$TG_REAL_LIMIT}")
W=${TG_REAL_OUT:-$(mktemp -d /tmp/tg-real.XXXXXX)}
mkdir -p "$W"
# TG_REAL_DB: the records elsewhere (postgresql://... for the PostgreSQL run).
export TG_BIN TRUSTGATE_DB=${TG_REAL_DB:-$W/tg.db} TRUSTGATE_ACTOR=real-data
rm -f "$W/tg.db" "$W/oracle.diffs" "$W"/san.*

# The records: one supplier (reviewed, tier 3), its RSA-3072 package key, and
# one product per package name with default settings.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$W/key.pem" 2>/dev/null
openssl pkey -in "$W/key.pem" -pubout -out "$W/key.pub"
export TG_REAL_KEY=$W/key.pem
"$TG_BIN" db init >/dev/null
"$TG_BIN" supplier add debian --max-tier 3 --review DEB-REVIEW-1 --review-expires 2099-12-31 --reason "real data" >/dev/null
"$TG_BIN" key add debian "$W/key.pub" --purpose package --reason "real data" >/dev/null
# Debian's archive keys: the same supplier signs through its repositories.
"$TG_BIN" key add debian /usr/share/keyrings/debian-archive-keyring.gpg --purpose package \
	--reason "Debian archive keyring" >/dev/null || echo "not ok - key add of the Debian archive keyring"
for d in "${list[@]}"; do dpkg-deb -f "$d" Package; done | sort -u >"$W/names"
while read -r n; do
	"$TG_BIN" product add debian "$n" --kind package --reason "real data" >/dev/null || echo "not ok - product add $n"
done <"$W/names"

start=$(date +%s)
printf '%s\n' "${list[@]}" | xargs -P "${TG_REAL_JOBS:-2}" -I{} bash "$ROOT/tests/real/deb_one.sh" {} "$W" >"$W/results.tsv"
secs=$(( $(date +%s) - start ))

# apt's own reading of the indexes, for the apt-chain column: the SHA-256 of
# every package the local Packages lists name (apt-helper decompresses them
# as apt does; their signatures are apt's business here, trustgate's in
# the check).
for f in "${TG_REAL_LISTS:-/var/lib/apt/lists}"/*_Packages*; do
	[ -f "$f" ] && /usr/lib/apt/apt-helper cat-file "$f"
done | sed -n 's/^SHA256: //p' | sort -u > "$W/apt-index.sha256"
python3 "$ROOT/tests/real/summary.py" "$W/results.tsv" "${#list[@]}" "$secs" "$W/apt-index.sha256"
rc=$?
[ -f "$W/oracle.diffs" ] && { echo "# oracle differences (first 40 lines):"; head -40 "$W/oracle.diffs"; }
for f in "$W"/san.*; do [ -f "$f" ] && { echo "# sanitizer report $f:"; head -30 "$f"; }; done
[ -z "${TG_REAL_OUT:-}" ] && rm -rf "$W"
exit $rc
