#!/bin/bash
# Revocation impact and re-evaluation: revoking a key that approved three
# products lists exactly those verdicts and releases, and `reevaluate`
# re-decides exactly those (KEY_REVOKED), records each as a verdict that
# supersedes the old one, and touches nothing else.  The same for a revoked
# release, a suspended supplier and a withdrawn setuid allowance.
. "$(dirname "$0")/lib.sh"

setup_supplier
genkey k1 p256
genkey k2 p256
fp1=$(fpr k1.pub)
tg key add acme k1.pub --purpose firmware,package --reason k1 >/dev/null
tg key add acme k2.pub --purpose firmware,package --reason k2 >/dev/null
declare -A vid
for p in p1 p2 p3 p4; do
	tg product add acme $p --kind firmware --reason p >/dev/null
	head -c 3000 /dev/urandom > $p.bin
	key=k1; [ $p = p4 ] && key=k2
	sign $key $p.bin $p.sig
	tg release add acme $p 1.0 --file $p.bin --reason r >/dev/null
	vid[$p]=$(tg --json check $p.bin --sig $p.sig --product $p --version 1.0 | jq -r 'select(.verdict == "approved") | .id')
done
[ -n "${vid[p1]}" ] && [ -n "${vid[p2]}" ] && [ -n "${vid[p3]}" ] && [ -n "${vid[p4]}" ] && ok "four products approved (three by k1, one by k2)" || bad "setup verdicts: ${vid[*]}"
# A rejected verdict by k1 is not "in force": it must not be listed.
tg --tier 4 check p1.bin --sig p1.sig --product p1 --version 1.0 >/dev/null 2>&1
nverd=$(db_sql "select count(*) from verdict")

expect 0 "reevaluate before any revocation: nothing to do" -- tg --json reevaluate
printf '%s' "$LAST_OUT" | jq -e '.considered == 0 and .changed == 0' >/dev/null && ok "no verdict relies on a changed record" || bad "reevaluate before: $LAST_OUT"

expect 0 "key revoke lists what relied on the key" -- tg --json key revoke "${fp1:0:12}" --reason "private key exposed"
printf '%s' "$LAST_OUT" | jq -e --argjson a "${vid[p1]}" --argjson b "${vid[p2]}" --argjson c "${vid[p3]}" \
	'[.impact.verdicts[].id] == [$a, $b, $c] and .impact.releases == ["acme/p1/1.0", "acme/p2/1.0", "acme/p3/1.0"]' >/dev/null \
	&& ok "impact: exactly the three approved verdicts and their releases" || bad "key revoke impact: $(printf '%s' "$LAST_OUT" | jq -c .impact)"
expect 0 "key revoke (text) names the verdicts" -- tg key list
expect 1 "reevaluate --dry-run: three would turn negative" -- tg --json reevaluate --dry-run
printf '%s' "$LAST_OUT" | jq -e '.considered == 3 and .changed == 3 and .unchanged == 0 and .dry_run
	and ([.verdicts[].reasons[].code] | unique) == ["KEY_REVOKED"]' >/dev/null && ok "dry run: three, KEY_REVOKED" || bad "dry run: $LAST_OUT"
[ "$(db_sql "select count(*) from verdict")" = "$nverd" ] && ok "a dry run records nothing" || bad "a dry run records nothing"

nnote=$(db_sql "select count(*) from notification where event='verdict.rejected'")
expect 1 "reevaluate: three verdicts turn negative (exit 1: the early warning)" -- tg --json reevaluate
doc=$LAST_OUT
[ "$nnote" = 0 ] && [ "$(db_sql "select count(*) from notification where event='verdict.rejected' and delivered_at is null")" = 3 ] \
	&& ok "three verdict.rejected notifications queued with them (none by the dry run)" || bad "notifications: $nnote -> $(db_sql "select count(*) from notification")"
printf '%s' "$doc" | jq -e --argjson a "${vid[p1]}" --argjson b "${vid[p2]}" --argjson c "${vid[p3]}" \
	'[.verdicts[].reevaluates] == [$a, $b, $c] and all(.verdicts[]; .verdict == "rejected" and .reasons[0].code == "KEY_REVOKED")' >/dev/null \
	&& ok "re-decided: exactly those three, rejected for KEY_REVOKED" || bad "reevaluate: $(printf '%s' "$doc" | jq -c '[.verdicts[] | {reevaluates, verdict, r: [.reasons[].code]}]')"
[ "$(db_sql "select count(*) from verdict")" = "$((nverd + 3))" ] && ok "three new verdicts recorded, nothing else" || bad "verdict count"
[ "$(db_sql "select supersedes from verdict where command = 'reevaluate' order by id" | paste -sd,)" = "${vid[p1]},${vid[p2]},${vid[p3]}" ] \
	&& ok "each new verdict supersedes its old one" || bad "supersedes"
new=$(printf '%s' "$doc" | jq -r '.verdicts[0].id')
expect 0 "verdict show of a re-evaluation" -- tg --json verdict show "$new"
printf '%s' "$LAST_OUT" | jq -e --argjson a "${vid[p1]}" '.reevaluates == $a and .previous_verdict == "approved" and .audit.intact
	and .records.key.revoked_at != null and .facts.sig_hash == "sha256"' >/dev/null && ok "the new verdict is evidence: linked, records show the revocation" || bad "verdict show: $LAST_OUT"
tg --json audit log --action reevaluate | jq -e 'length == 3' >/dev/null && ok "three reevaluate audit rows" || bad "reevaluate audit rows"
expect 0 "reevaluate again: the superseded verdicts are no longer in force" -- tg --json reevaluate
printf '%s' "$LAST_OUT" | jq -e '.considered == 0' >/dev/null && ok "nothing left to re-decide" || bad "reevaluate again: $LAST_OUT"
check_ok "twin: p4, signed by the other key, still approves" -- p4.bin --sig p4.sig --product p4 --version 1.0

# A revoked release: its verdicts, by name and by bytes.
expect 0 "release revoke lists its verdicts" -- tg --json release revoke acme p4 1.0 --reason "CVE-2026-0001"
printf '%s' "$LAST_OUT" | jq -e --argjson d "${vid[p4]}" '(.impact.verdicts | map(.id) | index($d)) != null and .impact.releases == ["acme/p4/1.0"]' >/dev/null \
	&& ok "release impact" || bad "release impact: $(printf '%s' "$LAST_OUT" | jq -c .impact)"
expect 1 "reevaluate after the release revocation" -- tg --json reevaluate --since "$(date -u +%F)"
printf '%s' "$LAST_OUT" | jq -e '.changed >= 1 and all(.verdicts[]; [.reasons[].code] | index("RELEASE_REVOKED") != null)' >/dev/null \
	&& ok "RELEASE_REVOKED" || bad "release reevaluate: $LAST_OUT"

# A withdrawn setuid allowance (a fact of the walk, judged against the product record now).
tg product add acme tool --kind package --allow setuid --reason "setuid helper reviewed" >/dev/null
mkdir -p pkg/usr/bin; head -c 100 /dev/urandom > pkg/usr/bin/helper; chmod 4755 pkg/usr/bin/helper
tar --owner=0 --group=0 -C pkg -cf tool.tar usr
sign k2 tool.tar tool.sig
tg release add acme tool 1.0 --file tool.tar --reason r >/dev/null
check_ok "a setuid file allowed by the product record" -- tool.tar --sig tool.sig --product tool --version 1.0
expect 0 "product set --allow none lists the verdict" -- tg --json product set acme tool --allow none --reason "allowance withdrawn"
printf '%s' "$LAST_OUT" | jq -e '(.impact.verdicts | length) == 1' >/dev/null && ok "product impact" || bad "product impact: $(printf '%s' "$LAST_OUT" | jq -c .impact)"
expect 1 "reevaluate: ARCHIVE_SETUID now" -- tg --json reevaluate --since "$(date -u +%F)"
printf '%s' "$LAST_OUT" | jq -e '[.verdicts[] | select(.subject.path == "tool.tar") | .reasons[].code] == ["ARCHIVE_SETUID"]' >/dev/null \
	&& ok "the withdrawn allowance re-decides the package" || bad "setuid reevaluate: $LAST_OUT"

# A suspended supplier: everything of it still in force (p5, approved now).
tg product add acme p5 --kind firmware --reason p >/dev/null
head -c 3000 /dev/urandom > p5.bin; sign k2 p5.bin p5.sig
tg release add acme p5 1.0 --file p5.bin --reason r >/dev/null
check_ok "p5 approved" -- p5.bin --sig p5.sig --product p5 --version 1.0
expect 0 "supplier suspended lists its verdicts" -- tg --json supplier set acme --status suspended --reason "audit finding"
n=$(printf '%s' "$LAST_OUT" | jq '.impact.verdicts | length')
[ "$n" -eq 1 ] && ok "supplier impact: the one verdict still in force" || bad "supplier impact: $(printf '%s' "$LAST_OUT" | jq -c .impact)"
expect 1 "reevaluate: SUPPLIER_NOT_APPROVED" -- tg --json reevaluate
printf '%s' "$LAST_OUT" | jq -e --argjson n "$n" '.changed == $n and all(.verdicts[]; [.reasons[].code] | index("SUPPLIER_NOT_APPROVED") != null)' >/dev/null \
	&& ok "every verdict in force of the supplier re-decided" || bad "supplier reevaluate: $(printf '%s' "$LAST_OUT" | jq -c '{changed, considered}')"
expect 0 "audit verify after re-evaluation" -- tg audit verify
bad_input "reevaluate --since a malformed date" "not a date" -- tg reevaluate --since yesterday
