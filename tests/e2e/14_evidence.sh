#!/bin/bash
# Verdicts are evidence: id, time, actor, tool build, the records they used
# and their audit row; `verdict show` gives the document back, checked
# against the digest its audit row carries (an edit is named, exit 1).
. "$(dirname "$0")/lib.sh"

setup_supplier
tg product add acme fw --kind firmware --reason p >/dev/null
genkey k p256
tg key add acme k.pub --purpose firmware --reason k >/dev/null
head -c 5000 /dev/urandom > fw.bin; sign k fw.bin fw.sig
tg release add acme fw 1.0 --file fw.bin --reason r >/dev/null

expect 0 "check approves" -- tg --json --actor "审计员 李四" check fw.bin --sig fw.sig --product fw --version 1.0
doc=$LAST_OUT
printf '%s' "$doc" | jq -e '(.id | type) == "number" and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))
	and .actor == "审计员 李四" and .tool.name == "trustgate" and (.tool.version | length) > 0
	and (.policy.records_sha256 | test("^[0-9a-f]{64}$")) and (.audit.seq | type) == "number"
	and (.audit.hash | test("^[0-9a-f]{64}$"))' >/dev/null && ok "the verdict carries id, time, actor, tool, records digest, audit row" || bad "evidence fields: $(printf '%s' "$doc" | jq -c '{id,time,actor,tool,policy,audit}')"
[ "$(printf '%s' "$doc" | jq -r .tool.build_sha256)" = "$(sha256sum "$TG_BIN" | cut -d' ' -f1)" ] \
	&& ok "tool.build_sha256 is the SHA-256 of the executable that decided" || bad "tool.build_sha256"
printf '%s' "$doc" | jq -e '.records.supplier.review == "SR-2026-01" and .records.supplier.review_expires == "2099-12-31"
	and .records.key.fingerprint == .key.fingerprint and .records.product.name == "fw" and .records.release.version == "1.0"
	and .records.release.status == "approved"' >/dev/null && ok "records: the supplier's review, the key, product and release used" || bad "records: $(printf '%s' "$doc" | jq -c .records)"
rd=$(printf '%s' "$doc" | jq -j -c .records | sha256sum | cut -d' ' -f1)
[ "$(printf '%s' "$doc" | jq -r .policy.records_sha256)" = "$rd" ] && ok "records_sha256 is the SHA-256 of the records as printed" || bad "records_sha256 ($rd)"
id=$(printf '%s' "$doc" | jq -r .id); seq=$(printf '%s' "$doc" | jq -r .audit.seq)
row=$(tg --json audit log | jq -c --argjson s "$seq" '.[] | select(.seq == $s)')
printf '%s' "$row" | jq -e --argjson i "$id" --arg h "$(printf '%s' "$doc" | jq -r .audit.hash)" \
	'.action == "check" and .detail.verdict_id == $i and .hash == $h' >/dev/null && ok "the audit row names the verdict and has the printed hash" || bad "audit row: $row"
stored=$(db_sql "select report from verdict where id = $id")
[ "$(printf '%s' "$stored" | sha256sum | cut -d' ' -f1)" = "$(printf '%s' "$row" | jq -r .detail.report_sha256)" ] \
	&& ok "the audit row carries the SHA-256 of the stored report" || bad "report_sha256"
[ "$(printf '%s' "$stored" | jq -c 'del(.id, .audit)')" = "$(printf '%s' "$doc" | jq -c 'del(.id, .audit)')" ] \
	&& ok "the stored report is the printed one without id and audit" || bad "stored vs printed"

expect 0 "verdict show ID" -- tg --json verdict show "$id"
[ "$(printf '%s' "$LAST_OUT" | jq -c 'del(.audit.intact, .audit.report_covered)')" = "$(printf '%s' "$doc" | jq -c .)" ] \
	&& ok "verdict show gives back the document as printed at decision time" || bad "verdict show differs: $(printf '%s' "$LAST_OUT" | jq -c .audit)"
printf '%s' "$LAST_OUT" | jq -e '.audit.intact == true and .audit.report_covered == true' >/dev/null && ok "verdict show: anchored" || bad "verdict show: anchored"
expect 0 "verdict show (text)" -- tg verdict show "$id"
printf '%s' "$LAST_OUT" | grep -q "^APPROVED" && printf '%s' "$LAST_OUT" | grep -q "review SR-2026-01 until 2099-12-31" \
	&& printf '%s' "$LAST_OUT" | grep -q "audit row $seq" && ok "text: banner, review, audit row" || bad "verdict show text: $LAST_OUT"
expect 0 "text check output has the evidence line" -- tg --actor bob check fw.bin --sig fw.sig --product fw --version 1.0
printf '%s' "$LAST_OUT" | grep -Eq "evidence  verdict [0-9]+ at .* by bob, audit row [0-9]+" && ok "evidence line" || bad "evidence line: $LAST_OUT"
rid=$(tg --json check fw.bin --product fw --version 1.0 | jq -r .id)
expect 0 "verdict show of a rejected verdict (shown: exit 0)" -- tg --json verdict show "$rid"
printf '%s' "$LAST_OUT" | jq -e '.verdict == "rejected" and .audit.intact' >/dev/null && ok "rejected verdict shown" || bad "rejected verdict shown"

# The twin: the stored verdict edited in the database.
db_save before
db_sql "update verdict set report = replace(report, '\"rejected\"', '\"approved\"') where id = $rid"
expect 1 "a verdict edited with sqlite3 is named, not shown as evidence" -- tg verdict show "$rid"
printf '%s' "$LAST_OUT" | grep -q "TAMPERED  the stored report is not the one audit row" && ok "verdict show names the edit" || bad "verdict show tamper text: $LAST_OUT"
db_restore before
db_sql "update audit set detail = replace(detail, '\"result\":\"approved\"', '\"result\":\"rejected\"') where seq = $seq"
expect 1 "an audit row edited with sqlite3" -- tg --json verdict show "$id"
printf '%s' "$LAST_OUT" | jq -e '.audit.intact == false and (.audit.problem | contains("altered"))' >/dev/null && ok "the altered audit row is named" || bad "altered row: $LAST_OUT"
db_restore before

bad_input "verdict show of an unknown id" "no verdict 99999" -- tg verdict show 99999
bad_input "verdict show of a malformed id" "not a verdict id" -- tg verdict show 12abc
bad_input "verdict show 0" "not a verdict id" -- tg verdict show 0
bad_input "verdict show of a negative id" "not a verdict id" -- tg verdict show -- -3
bad_input "verdict show of an id with an escape sequence" "not a verdict id" -- tg verdict show "$(printf '1\e[2J')"
expect 0 "audit verify after it all" -- tg audit verify
