#!/bin/bash
# One real .deb through trustgate (tests/real/debs.sh runs this for each):
#   tier 1, detached signature          trustgate --tier 1 check PKG --sig SIG --version V
#   tier 3, default product record      trustgate --tier 3 check PKG --sig SIG --product P --version V
#   apt chain, tier 3                   trustgate --tier 3 check PKG --apt-lists $TG_REAL_LISTS
#     (debs.sh compares with apt's own reading of the same indexes: apt-helper cat-file)
#   differential oracle                 archive list vs dpkg-deb -x and dpkg-deb --fsys-tarfile | tar -tv
# Prints one tab-separated line:
#   deb  t1_exit  t1_codes  t3_exit  t3_codes  apt_exit  apt_codes  sha256  oracle(ok|diff|skip)  problem
# "problem" names a crash (exit outside 0/1/2) or a sanitizer report.
set -u
deb=$1 work=$2
TG=${TG_BIN:?}
name=$(dpkg-deb -f "$deb" Package 2>/dev/null) ver=$(dpkg-deb -f "$deb" Version 2>/dev/null)
t=$(mktemp -d "$work/one.XXXXXX")
trap 'rm -rf "$t"' EXIT
problem=""

sanitizer() { # FILE: a sanitizer's report in FILE?
	grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$1"
}
verdict() { # TIER ARGS... -> "exit<TAB>codes"
	local tier=$1; shift
	local rc=0
	"$TG" --tier "$tier" --json check "$deb" "$@" >"$t/out.json" 2>"$t/err" || rc=$?
	local tag=tier$tier${1#--}
	if [ $rc -gt 2 ]; then problem="$problem $tag:exit$rc"; fi
	if sanitizer "$t/err"; then problem="$problem $tag:sanitizer"; cp "$t/err" "$work/san.$(basename "$deb").$tag"; fi
	local codes
	if [ $rc -le 1 ]; then
		codes=$(jq -r '[.reasons[].code] | unique | join(",")' "$t/out.json" 2>/dev/null) || problem="$problem tier$tier:json"
	else
		codes="exit2:$(head -c 200 "$t/err" | tr '\t\n' '  ')"
	fi
	printf '%s\t%s' "$rc" "${codes:--}"
}

openssl dgst -sha256 -sign "${TG_REAL_KEY:?}" -out "$t/sig" "$deb" 2>/dev/null
v1=$(verdict 1 --sig "$t/sig" --version "$ver")
v3=$(verdict 3 --sig "$t/sig" --product "$name" --version "$ver")
va=$(verdict 3 --apt-lists "${TG_REAL_LISTS:-/var/lib/apt/lists}")
sha=$(sha256sum "$deb" | cut -d' ' -f1)

oracle=skip
if [ -z "${TG_REAL_NO_ORACLE:-}" ]; then
	rc=0
	"$TG" --json archive list "$deb" >"$t/tg.json" 2>"$t/err" || rc=$?
	if [ $rc -gt 2 ]; then problem="$problem list:exit$rc"; fi
	if sanitizer "$t/err"; then problem="$problem list:sanitizer"; cp "$t/err" "$work/san.$(basename "$deb").list"; fi
	if [ $rc -eq 0 ]; then
		mkdir "$t/x"
		if dpkg-deb --fsys-tarfile "$deb" | LC_ALL=C.UTF-8 tar -tv --numeric-owner --quoting-style=literal >"$t/tar.txt" 2>/dev/null &&
			dpkg-deb -x "$deb" "$t/x" 2>/dev/null; then
			if python3 "$(dirname "$0")/oracle.py" "$t/tg.json" "$t/tar.txt" "$t/x" >"$t/diff" 2>&1; then
				oracle=ok
			else
				oracle=diff
				{ echo "== $deb"; cat "$t/diff"; } >>"$work/oracle.diffs"
			fi
		fi
	else
		oracle="diff"
		{ echo "== $deb"; echo "archive list exit $rc: $(head -c 300 "$t/err")"; } >>"$work/oracle.diffs"
	fi
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$deb")" "$v1" "$v3" "$va" "$sha" "$oracle" "${problem# }"
