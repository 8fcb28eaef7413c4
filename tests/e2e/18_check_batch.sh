#!/bin/bash
# check --batch: many files through one command, each verdict recorded as a
# single check records it, printed in the order of the list.  Every good
# file has a forged twin in the same batch; the batch's verdicts are the
# single check's verdicts; bad lists are refused before anything runs.
. "$(dirname "$0")/lib.sh"
setup_supplier
genkey k p256
genkey sm sm2
genkey stranger p256
tg key add acme k.pub --reason r >/dev/null
tg key add acme sm.pub --reason r >/dev/null
tg product add acme fw --kind firmware --min-version 2.0 --reason r >/dev/null
verdicts() { db_sql "select count(*) from verdict"; }

for i in 1 2 3 4 5 6; do head -c $((i * 1000)) /dev/urandom > "f$i.bin"; done
sign k f1.bin f1.sig; sign sm f2.bin f2.sig; sign k f3.bin f3.sig; sign stranger f4.bin f4.sig
sign k f5.bin f5.sig; sign k f6.bin f6.sig
flip f3.bin 10 f3x.bin              # forged twin of f3: one byte changed, f3's signature
cat > list.jsonl <<EOF
{"file": "f1.bin", "sig": "f1.sig", "product": "fw", "version": "2.0"}
{"file": "f2.bin", "sig": "f2.sig", "product": "fw", "version": "2.0.1"}

{"file": "f3x.bin", "sig": "f3.sig", "product": "fw", "version": "2.1"}
{"file": "f4.bin", "sig": "f4.sig", "product": "fw", "version": "2.1"}
{"file": "f5.bin", "sig": "f5.sig", "product": "fw", "version": "2.1"}
{"file": "f6.bin", "sig": "f6.sig", "product": "fw", "version": "1.9"}
{"file": "f3.bin", "sig": "f3.sig", "product": "fw", "version": "2.1"}
EOF

n0=$(verdicts)
expect 1 "a batch with rejected files: exit 1" -- tg --tier 3 check --batch list.jsonl --workers 3
printf '%s\n' "$LAST_OUT" > out.txt
[ "$(awk 'NR<=7 {print $1}' out.txt | tr '\n' ' ')" = "APPROVED APPROVED REJECTED REJECTED APPROVED REJECTED APPROVED " ] \
	&& ok "one line per file, in the order of the list, whatever worker finished first" || bad "order/results: $(cat out.txt)"
[ "$(awk 'NR<=7 {print $3}' out.txt | tr '\n' ' ')" = "f1.bin f2.bin f3x.bin f4.bin f5.bin f6.bin f3.bin " ] \
	&& ok "each line names its file" || bad "file names: $(awk '{print $3}' out.txt)"
grep -Eq '^REJECTED .*f3x.bin.*(SIG_INVALID|KEY_UNKNOWN)' out.txt && ok "the forged twin: no recorded key verifies it" || bad "forged twin line: $(grep f3x out.txt)"
grep -Eq '^REJECTED .*f4.bin.*(KEY_UNKNOWN|SIG_INVALID)' out.txt && ok "a stranger's signature: rejected" || bad "stranger line: $(grep f4.bin out.txt)"
grep -q '^REJECTED .*f6.bin.*ROLLBACK' out.txt && ok "per-file version under the floor: rejected" \
	|| bad "version floor line: $(grep f6.bin out.txt)"
tail -1 out.txt | grep -qx '4 approved, 3 rejected, 0 not decided' && ok "summary line" || bad "summary: $(tail -1 out.txt)"
[ "$(head -7 out.txt | grep -cE '  [0-9]+\.[0-9] ms$')" = 7 ] && ok "each line ends with the time its check took" || bad "timings: $(head -7 out.txt)"
[ "$(verdicts)" = "$((n0 + 7))" ] && ok "seven verdicts recorded" || bad "verdicts $n0 -> $(verdicts)"
expect 0 "audit chain intact after three workers wrote concurrently" -- tg audit verify

# The same verdicts as a single check gives, field for field.
expect 1 "--json: one verdict per line" -- tg --tier 3 --json check --batch list.jsonl
printf '%s\n' "$LAST_OUT" > batch.jsonl
[ "$(wc -l < batch.jsonl)" = 7 ] && jq -e -s 'length == 7' batch.jsonl >/dev/null \
	&& ok "seven JSON lines, each a whole document" || bad "JSON lines: $(head -c 300 batch.jsonl)"
same=0
while read -r f s p v; do
	args=("$f" --sig "$s"); [ -n "$p" ] && args+=(--product "$p" --version "$v")
	one=$(tg --tier 3 --json check "${args[@]}" 2>/dev/null | jq -c '{verdict, reasons: [.reasons[].code], sha: .subject.sha256, signer: .signer.fingerprint, product, version, policy: .policy.tier}')
	fromb=$(jq -c --arg f "$f" 'select(.subject.path == $f) | {verdict, reasons: [.reasons[].code], sha: .subject.sha256, signer: .signer.fingerprint, product, version, policy: .policy.tier}' batch.jsonl)
	[ "$one" = "$fromb" ] && same=$((same + 1)) || echo "# differs for $f: $one / $fromb"
done <<EOF
f1.bin f1.sig fw 2.0
f2.bin f2.sig fw 2.0.1
f3x.bin f3.sig fw 2.1
f4.bin f4.sig fw 2.1
f5.bin f5.sig fw 2.1
f6.bin f6.sig fw 1.9
f3.bin f3.sig fw 2.1
EOF
[ "$same" = 7 ] && ok "every batch verdict equals the single check's" || bad "$same of 7 equal"
jq -e -s 'map(.id) | unique | length == 7' batch.jsonl >/dev/null && ok "each verdict has its own id" || bad "verdict ids"
id=$(jq -s -r '.[2].id' batch.jsonl)
expect 0 "verdict show of a batch verdict" -- tg verdict show "$id"

# Only good files: exit 0; stdin; one worker.
printf '{"file":"f1.bin","sig":"f1.sig"}\n{"file":"f2.bin","sig":"f2.sig"}\n' > good.jsonl
expect 0 "all approved: exit 0 (list on stdin, one worker)" -- sh -c "'$TG_BIN' --tier 1 check --batch - --workers 1 < good.jsonl"
# A file that cannot be read is not decided: exit 2, its line says why, the others are still checked.
printf '{"file":"f1.bin","sig":"f1.sig"}\n{"file":"gone.bin","sig":"f1.sig"}\n{"file":"f3x.bin","sig":"f3.sig"}\n' > err.jsonl
n1=$(verdicts)
expect 2 "an unreadable file: exit 2" -- tg --tier 1 check --batch err.jsonl
printf '%s\n' "$LAST_OUT" | sed -n 2p | grep -q '^ERROR  gone.bin  gone.bin: cannot open' && ok "its line is ERROR with the reason" \
	|| bad "error line: $LAST_OUT"
[ "$(verdicts)" = "$((n1 + 2))" ] && ok "the other two were checked and recorded" || bad "verdicts $n1 -> $(verdicts)"
expect 2 "--json error line" -- tg --tier 1 --json check --batch err.jsonl
printf '%s\n' "$LAST_OUT" | sed -n 2p | jq -e '.file == "gone.bin" and (.error | test("cannot open"))' >/dev/null \
	&& ok "--json: {file, error} for it" || bad "json error line: $LAST_OUT"

# Bad lists: exit 2, one line naming the list and line, nothing recorded.
printf '{"file":"f1.bin","sig":"f1.sig"}\n{"file": "f2.bin", sig}\n' > bad1.jsonl
bad_input "malformed JSON line" "bad1.jsonl:2: not a JSON object" -- tg check --batch bad1.jsonl
printf '{"file":"f1.bin","signature":"f1.sig"}\n' > bad2.jsonl
bad_input "unknown key" 'bad2.jsonl:1: unknown key "signature"' -- tg check --batch bad2.jsonl
printf '{"sig":"f1.sig"}\n' > bad3.jsonl
bad_input "no file" 'bad3.jsonl:1: no "file"' -- tg check --batch bad3.jsonl
printf '{"file":"f1.bin","version":"two"}\n' > bad4.jsonl
bad_input "a version that is not one" "bad4.jsonl:1: \"version\" 'two' is not a version" -- tg check --batch bad4.jsonl
printf '{"file":"f1.bin","product":"fw\xe2\x80\xae"}\n' > bad5.jsonl
bad_input "a product name with a bidi override" "bad5.jsonl:1:" -- tg check --batch bad5.jsonl
printf '{"file":"f1.bin","sig":7}\n' > bad6.jsonl
bad_input "a number where a string belongs" 'bad6.jsonl:1: "sig" must be a non-empty string' -- tg check --batch bad6.jsonl
printf '\n\n' > empty.jsonl
bad_input "an empty list" "empty.jsonl: no files listed" -- tg check --batch empty.jsonl
bad_input "a missing list" "nolist.jsonl" -- tg check --batch nolist.jsonl
bad_input "FILE beside --batch" "--batch takes each file" -- tg check f1.bin --batch list.jsonl
bad_input "--sig beside --batch" "--batch takes each file" -- tg check --batch list.jsonl --sig f1.sig
bad_input "--workers 0" "--workers must be 1 to 64" -- tg check --batch list.jsonl --workers 0
bad_input "--workers without --batch" "--workers goes with --batch" -- tg check f1.bin --sig f1.sig --workers 2
printf '{"file":"f1.bin","sig":"f1.sig"}\n' > one.jsonl
bad_input "a sig and --apt-lists" "one.jsonl:1: a \"sig\" and --apt-lists" -- tg check --batch one.jsonl --apt-lists /var/lib/apt/lists
bad_input "a missing database" "nosuch.db" -- tg --db nosuch.db check --batch one.jsonl

# Real packages, if the apt cache has some: the batch and the single check agree.
mapfile -t debs < <(ls /var/cache/apt/archives/*.deb 2>/dev/null | head -6)
if [ ${#debs[@]} -gt 0 ]; then
	genkey deb rsa3072
	tg key add acme deb.pub --purpose package --reason r >/dev/null
	: > debs.jsonl
	for i in "${!debs[@]}"; do
		sign deb "${debs[$i]}" "d$i.sig"
		jq -cn --arg f "${debs[$i]}" --arg s "d$i.sig" '{file: $f, sig: $s}' >> debs.jsonl
	done
	cp "${debs[0]}" tampered.deb; printf 'x' | dd of=tampered.deb bs=1 seek=200 conv=notrunc 2>/dev/null
	jq -cn --arg s "d0.sig" '{file: "tampered.deb", sig: $s}' >> debs.jsonl
	expect 1 "real packages and a tampered twin: exit 1" -- tg --tier 1 check --batch debs.jsonl
	[ "$(printf '%s\n' "$LAST_OUT" | grep -c '^APPROVED  archive')" = "${#debs[@]}" ] && printf '%s\n' "$LAST_OUT" | grep -q '^REJECTED .*tampered.deb' \
		&& ok "${#debs[@]} real packages approved, the tampered copy rejected" || bad "real packages: $LAST_OUT"
else
	skip "no .deb in /var/cache/apt/archives"
fi
