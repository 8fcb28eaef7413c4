#!/bin/bash
# A CLI people learn by themselves: --help on every command and subcommand
# (its options checked against what the command parses), help, --version,
# the man page generated from the same table and kept in the repository,
# docs/CLI.md naming every command; unknown words answered with one line.
. "$(dirname "$0")/lib.sh"

mapfile -t paths < <(tg help --list)
[ "${#paths[@]}" -ge 30 ] && ok "help lists ${#paths[@]} entries" || bad "help lists entries (${#paths[@]})"
fails=0
for p in "${paths[@]}"; do
	# shellcheck disable=SC2086 # the path is words
	out=$(tg --db "$WORK/none.db" $p --help 2>"$WORK/.err"); rc=$?
	if [ $rc -ne 0 ] || [[ "${out%%$'\n'*}" != "usage: trustgate $p"* ]] || [ -s "$WORK/.err" ]; then
		bad "$p --help (exit $rc): $(head -c 300 "$WORK/.err")"; fails=$((fails + 1))
	fi
	# shellcheck disable=SC2086
	[ "$(tg help $p)" = "$out" ] || { bad "help $p differs from $p --help"; fails=$((fails + 1)); }
	case "$p" in *" "*|check|eventlog|attest|quote)
		printf '%s' "$out" | grep -q '^example:' || { bad "$p --help has an example"; fails=$((fails + 1)); } ;;
	esac
done
[ $fails -eq 0 ] && ok "every entry's --help: exit 0, usage line, options match the parser, example" || true
[ ! -e "$WORK/none.db" ] && ok "--help opens no records" || bad "--help opens no records"
expect 0 "--help after options and operands" -- tg supplier add acme --reason x --help
printf '%s' "$LAST_OUT" | grep -q -- '--review-expires' && ok "supplier add --help lists --review-expires" || bad "supplier add --help lists --review-expires"
expect 0 "help" -- tg help
for p in "${paths[@]}"; do
	case "$p" in *" "*) printf '%s' "$LAST_OUT" | grep -qF "  $p" || bad "help lists $p" ;; esac
done
expect 0 "--help" -- tg --help
expect 0 "-h" -- tg -h
expect 0 "help --help" -- tg help --help

expect 0 "--version" -- tg --version
printf '%s' "$LAST_OUT" | grep -Eq '^trustgate [0-9]+\.[0-9]+.* \(commit [^,]+, build sha256:[0-9a-f]{64}\)$' \
	&& ok "--version: version, commit, build digest" || bad "--version format: $LAST_OUT"
printf '%s' "$LAST_OUT" | grep -Eq '^libarchive [0-9.]+ \((linked in|shared)\), libgcrypt [0-9.]+, SQLite [0-9.]+$' \
	&& ok "--version: the parser libraries inside and whether libarchive is linked in" || bad "--version libraries: $LAST_OUT"
want=$(sha256sum "$TG_BIN" | cut -d' ' -f1)
printf '%s' "$LAST_OUT" | grep -q "sha256:$want" && ok "build digest is the executable's SHA-256" || bad "build digest is the executable's SHA-256"

bad_input "unknown command" "unknown command 'frobnicate'" -- tg frobnicate
bad_input "unknown subcommand names the command's help" "supplier --help" -- tg supplier frobnicate
bad_input "unknown option names the help" "--help" -- tg supplier add acme --frob --reason x
bad_input "help of an unknown command" "no command 'nothere'" -- tg help nothere
bad_input "no command" "no command given" -- tg
bad_input "missing operand names the command's help" "trustgate key add --help" -- tg key add
bad_input "escape sequences in an unknown command are shown escaped" "<U+001B>" -- tg "$(printf 'x\e[2Jy')"

tg help --man > "$WORK/trustgate.1"
if cmp -s "$WORK/trustgate.1" "$ROOT/docs/trustgate.1"; then ok "docs/trustgate.1 is the generated man page (make man)"
else bad "docs/trustgate.1 is stale: run make man"; fi
warn=$(LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$ROOT/docs/trustgate.1" 2>&1 >/dev/null)
[ -z "$warn" ] && ok "man renders the page without warnings" || bad "man warnings: $(printf '%s' "$warn" | head -3)"
missing=0
for p in "${paths[@]}"; do
	case "$p" in help) continue ;; esac
	grep -qF "trustgate $p" "$ROOT/docs/CLI.md" || { bad "docs/CLI.md names trustgate $p"; missing=$((missing + 1)); }
done
[ $missing -eq 0 ] && ok "docs/CLI.md names every command"

# One registry of reason codes: docs/CLI.md names every one, and lists none
# the registry lacks.
expect 0 "help --reasons" -- tg help --reasons
printf '%s\n' "$LAST_OUT" | cut -f1 | sort > reg.txt
[ "$(wc -l < reg.txt)" -ge 70 ] && awk -F'\t' 'NF != 4 || $2 !~ /^(reject|tier|warn)$/ {bad=1} END {exit bad}' <<<"$LAST_OUT" \
	&& ok "help --reasons: code, severity, meaning, remedy for every code" || bad "help --reasons format"
missing=$(while read -r c; do grep -qw -- "$c" "$ROOT/docs/CLI.md" || echo "$c"; done < reg.txt)
[ -z "$missing" ] && ok "docs/CLI.md names every registered reason code" || bad "not in docs/CLI.md: $missing"
awk '/Reason codes \(add/,/`;/' "$ROOT/docs/CLI.md" | grep -oE '\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b|\b(ROLLBACK|INCOMPLETE)\b' | sort -u > doc.txt
extra=$(comm -23 doc.txt reg.txt)
[ -s doc.txt ] && [ -z "$extra" ] && ok "docs/CLI.md lists no code the registry lacks" || bad "codes only in docs/CLI.md: $extra"
expect 0 "help --reasons --json" -- tg help --reasons --json
printf '%s' "$LAST_OUT" | jq -e 'length >= 70 and all(.[]; .code and .severity and .meaning and .todo)' >/dev/null \
	&& ok "--json: one object per code" || bad "help --reasons --json"
man -l "$ROOT/docs/trustgate.1" 2>/dev/null | grep -q "REASON CODES" && ok "the man page lists the reason codes" || bad "man page reason codes"
