#!/bin/bash
# Records that live for years: a review renewed after it expired, tiers and
# floors changed, keys found by prefix and filtered, hosts retired — each
# change audited with its reason, each re-derived from its history (a
# change made with sqlite3 instead is RECORD_TAMPERED), each bad input one
# line and nothing written.
. "$(dirname "$0")/lib.sh"

tg db init >/dev/null
expect 0 "supplier with a review that has expired" -- tg supplier add acme --country CN --max-tier 4 --review SR-1 --review-expires 2020-01-01 --reason onboarding
printf '%s' "$LAST_ERR" | grep -q "warning: --review-expires 2020-01-01 is already past" && ok "a past review date is warned about" || bad "a past review date is warned about"
tg product add acme fw --kind firmware --max-tier 4 --reason p >/dev/null
genkey k p256
tg key add acme k.pub --purpose firmware --reason k >/dev/null
head -c 1000 /dev/urandom > a.bin; sign k a.bin a.sig
tg release add acme fw 1.0 --file a.bin --reason r >/dev/null
check_reason REVIEW_EXPIRED "tier 3 refuses a supplier whose review expired" -- a.bin --sig a.sig --product fw --version 1.0
expect 0 "supplier set renews the review" -- tg --json supplier set acme --review SR-2 --review-expires 2099-06-30 --reason "annual review"
printf '%s' "$LAST_OUT" | jq -e '.changes == ["review"] and .review == "SR-2" and .review_expires == "2099-06-30" and .status == "approved"' >/dev/null \
	&& ok "the audit detail carries the new state and what changed" || bad "supplier set detail: $LAST_OUT"
check_ok "the renewed supplier is usable at tier 3 again" -- a.bin --sig a.sig --product fw --version 1.0
expect 0 "supplier set --max-tier 2" -- tg supplier set acme --max-tier 2 --reason "downgraded after audit"
check_reason SUPPLIER_TIER "tier 3 refuses a supplier lowered to tier 2" -- a.bin --sig a.sig --product fw --version 1.0
expect 0 "supplier set --max-tier 4 --cii --country none" -- tg supplier set acme --max-tier 4 --cii --country none --reason "re-rated"
tg --json supplier show acme | jq -e '.max_tier == 4 and .cii == true and .country == null' >/dev/null && ok "supplier show reflects the changes" || bad "supplier show reflects the changes"
check_ok "back at tier 3" -- a.bin --sig a.sig --product fw --version 1.0
expect 0 "audit verify after the changes" -- tg audit verify
bad_input "supplier set without a change" "nothing to change" -- tg supplier set acme --reason x
bad_input "supplier set that changes nothing" "nothing changes" -- tg supplier set acme --max-tier 4 --reason x
bad_input "supplier set --review without its expiry" "go together" -- tg supplier set acme --review SR-3 --reason x
bad_input "supplier set with a malformed date" "not a date" -- tg supplier set acme --review SR-3 --review-expires 2026-13-01 --reason x
bad_input "supplier set --status typo names the choices" "--status 'aproved': one of approved, suspended, revoked" -- tg supplier set acme --status aproved --reason x
bad_input "supplier set --cii --no-cii" "contradict" -- tg supplier set acme --cii --no-cii --reason x
bad_input "supplier set on an unknown supplier" "not" -- tg supplier set nobody --max-tier 2 --reason x

# A change made behind trustgate's back is found: the record no longer
# equals what its history says.
db_save before
db_sql "UPDATE supplier SET review_expires = '2100-01-01' WHERE name = 'acme'"
check_reason RECORD_TAMPERED "a review date edited with sqlite3 is RECORD_TAMPERED" -- a.bin --sig a.sig --product fw --version 1.0
db_restore before

# Lists and filters.
tg supplier add beta --status pending --reason b >/dev/null
tg supplier add gamma --review G-1 --review-expires 2026-12-31 --reason g >/dev/null
expect 0 "supplier list --status pending" -- tg --json supplier list --status pending
[ "$(printf '%s' "$LAST_OUT" | jq -r '[.[].name] | join(",")')" = beta ] && ok "only the pending supplier" || bad "supplier list --status pending: $LAST_OUT"
expect 0 "supplier list --expiring-before" -- tg --json supplier list --expiring-before 2027-01-01
[ "$(printf '%s' "$LAST_OUT" | jq -r '[.[].name] | sort | join(",")')" = beta,gamma ] && ok "reviews lapsing before the date, and suppliers with none" || bad "supplier list --expiring-before: $LAST_OUT"
bad_input "supplier list --expiring-before a malformed date" "not a date" -- tg supplier list --expiring-before tomorrow

# Keys: prefixes, show, filters.
fp=$(fpr k.pub)
expect 0 "key show by an 8-digit prefix" -- tg --json key show "${fp:0:8}"
printf '%s' "$LAST_OUT" | jq -e --arg f "$fp" '.fingerprint == $f and .status == "active" and .supplier == "acme"' >/dev/null && ok "key show names the key" || bad "key show: $LAST_OUT"
expect 0 "key show by an upper-case prefix" -- tg key show "$(printf '%s' "${fp:0:12}" | tr a-f A-F)"
bad_input "a 7-digit prefix is refused" "at least 8" -- tg key show "${fp:0:7}"
bad_input "a prefix no key has" "starting with" -- tg key show 00000000
# Two keys sharing a prefix: make them until their fingerprints share the first hex digit, then use a short... a
# shared 8-digit prefix cannot be made, so ambiguity is shown through the records with a key inserted directly
# into a copy of the database.
db_save amb
db_sql "INSERT INTO key (supplier_id, fingerprint, algorithm, bits, hashes, purposes, spki, added_at) SELECT supplier_id, substr(fingerprint, 1, 8) || 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffff', algorithm, bits, hashes, purposes, spki, added_at FROM key LIMIT 1"
bad_input "an ambiguous prefix names two keys" "ambiguous" -- tg key show "${fp:0:8}"
db_restore amb
genkey k2 p256
tg key add acme k2.pub --purpose package --not-after 2026-12-01 --reason k2 >/dev/null 2>&1
expect 0 "key list --purpose package" -- tg --json key list --purpose package
[ "$(printf '%s' "$LAST_OUT" | jq -r '[.[].fingerprint] | join(",")')" = "$(fpr k2.pub)" ] && ok "only the package key" || bad "key list --purpose: $LAST_OUT"
expect 0 "key list --expiring-before" -- tg --json key list --expiring-before 2027-01-01
[ "$(printf '%s' "$LAST_OUT" | jq 'length')" = 1 ] && ok "only the key whose validity ends first" || bad "key list --expiring-before: $LAST_OUT"
expect 0 "key revoke by prefix" -- tg key revoke "${fp:0:10}" --reason "exposed"
expect 0 "key list --status revoked" -- tg --json key list acme --status revoked
[ "$(printf '%s' "$LAST_OUT" | jq -r '.[0].fingerprint')" = "$fp" ] && ok "the revoked key is listed as revoked" || bad "key list --status revoked"
check_reason KEY_REVOKED "a key revoked by prefix rejects its signatures" -- a.bin --sig a.sig --product fw --version 1.0
bad_input "key list with an unknown --status" "one of active, revoked" -- tg key list --status gone

# Products and releases.
genkey k3 p256
tg key add acme k3.pub --purpose firmware --reason k3 >/dev/null
sign k3 a.bin a3.sig
head -c 1000 /dev/urandom > b.bin; sign k3 b.bin b3.sig
check_ok "release 1.0 approved before the floor moves" -- a.bin --sig a3.sig --product fw --version 1.0
expect 0 "product set --min-version 1.5" -- tg --json product set acme fw --min-version 1.5 --reason "1.x vulnerable"
printf '%s' "$LAST_OUT" | jq -e '.changes == ["min_version"] and .min_version == "1.5"' >/dev/null && ok "product set detail" || bad "product set detail: $LAST_OUT"
check_reason ROLLBACK "release 1.0 is a rollback below the new floor" -- a.bin --sig a3.sig --product fw --version 1.0
tg release add acme fw 2.0 --file b.bin --reason r2 >/dev/null
check_ok "release 2.0 still approved" -- b.bin --sig b3.sig --product fw --version 2.0
expect 0 "product set --max-tier 2 --guid" -- tg product set acme fw --max-tier 2 --guid 6B8E4A5C-0000-4000-8000-00000000ABCD --reason "re-rated"
check_reason PRODUCT_TIER "tier 3 refuses the product lowered to tier 2" -- b.bin --sig b3.sig --product fw --version 2.0
expect 0 "product show" -- tg --json product show acme fw
printf '%s' "$LAST_OUT" | jq -e '.max_tier == 2 and .guid == "6b8e4a5c-0000-4000-8000-00000000abcd" and (.releases | length) == 2' >/dev/null \
	&& ok "product show: tier, GUID lowercased, its releases" || bad "product show: $LAST_OUT"
expect 0 "product list --supplier" -- tg --json product list --supplier acme
[ "$(printf '%s' "$LAST_OUT" | jq 'length')" = 1 ] && ok "product list" || bad "product list"
bad_input "product set --max-tier 9" "one of 1, 2, 3, 4, 5" -- tg product set acme fw --max-tier 9 --reason x
bad_input "product set --min-version garbage" "not a version" -- tg product set acme fw --min-version '1.0 beta' --reason x
db_save before
db_sql "UPDATE product SET min_version = NULL"
check_reason RECORD_TAMPERED "a floor removed with sqlite3 is RECORD_TAMPERED" -- a.bin --sig a3.sig --product fw --version 1.0 --tier 2
db_restore before
tg release revoke acme fw 1.0 --reason bad >/dev/null
expect 0 "release list --status revoked" -- tg --json release list --supplier acme --product fw --status revoked
[ "$(printf '%s' "$LAST_OUT" | jq -r '[.[].version] | join(",")')" = 1.0 ] && ok "only the revoked release" || bad "release list --status revoked: $LAST_OUT"
expect 0 "release show by an equal spelling of the version" -- tg --json release show acme fw 0:2.00
printf '%s' "$LAST_OUT" | jq -e '.version == "2.0" and .status == "approved"' >/dev/null && ok "release show" || bad "release show: $LAST_OUT"
bad_input "release list --product without --supplier" "needs --supplier" -- tg release list --product fw
expect 0 "audit verify after every change" -- tg audit verify
tg --json audit log | jq -e '[.[] | select(.action == "supplier.set" or .action == "product.set")] | length == 5' >/dev/null \
	&& ok "every change has its audit row" || bad "every change has its audit row"

# audit verify re-derives every record from its history and names each one
# that differs (a status flip with sqlite3 used to leave it "intact").
db_save before
db_sql "UPDATE supplier SET status = 'approved' WHERE name = 'beta'"
expect 1 "audit verify: a status flipped with sqlite3 is tampering" -- tg audit verify
printf '%s' "$LAST_OUT" | grep -q "supplier beta differs from its audit history" && ok "audit verify names the supplier" || bad "audit verify output: $LAST_OUT"
db_sql "UPDATE key SET revoked_at = NULL, revoke_reason = NULL WHERE fingerprint = '$fp'; UPDATE product SET max_tier = 5; DELETE FROM release WHERE version = '1.0'"
expect 1 "audit verify with four records tampered" -- tg --json audit verify
printf '%s' "$LAST_OUT" | jq -e '.intact == false and (.records | length) == 4' >/dev/null && ok "all four differences are listed, not only the first" || bad "audit verify --json: $LAST_OUT"
for want in "supplier beta" "key $fp" "product acme/fw" "release acme/fw/1.0"; do
	printf '%s' "$LAST_OUT" | jq -e --arg w "$want" '[.records[] | select(contains($w))] | length == 1' >/dev/null \
		&& ok "named: $want" || bad "not named: $want"
done
db_restore before
expect 0 "twin: the untouched records verify" -- tg --json audit verify
printf '%s' "$LAST_OUT" | jq -e '.intact == true and .records == []' >/dev/null && ok "intact, no record differs" || bad "audit verify: $LAST_OUT"

# audit log filters.
expect 0 "audit log --action supplier.set" -- tg --json audit log --action supplier.set
printf '%s' "$LAST_OUT" | jq -e 'length == 3 and all(.[]; .action == "supplier.set")' >/dev/null && ok "only supplier.set rows" || bad "audit log --action: $(printf '%s' "$LAST_OUT" | jq -c '[.[].action]')"
expect 0 "audit log --action supplier (every supplier.* row)" -- tg --json audit log --action supplier
printf '%s' "$LAST_OUT" | jq -e 'length == 6 and all(.[]; .action | startswith("supplier."))' >/dev/null && ok "every supplier action" || bad "audit log --action supplier"
expect 0 "audit log --object acme/fw" -- tg --json audit log --object acme/fw
printf '%s' "$LAST_OUT" | jq -e 'all(.[]; .object == "acme/fw") and length == 3' >/dev/null && ok "only the product's rows" || bad "audit log --object: $(printf '%s' "$LAST_OUT" | jq -c '[.[].action]')"
expect 0 "audit log --key PREFIX" -- tg --json audit log --key "${fp:0:8}"
printf '%s' "$LAST_OUT" | jq -e --arg f "$fp" '([.[] | select(.action == "key.add" or .action == "key.revoke")] | length) == 2 and ([.[] | select(.action == "check")] | length) >= 1' >/dev/null \
	&& ok "the key's rows and the verdicts it signed" || bad "audit log --key: $(printf '%s' "$LAST_OUT" | jq -c '[.[].action]')"
tg --actor "审计员" supplier set gamma --max-tier 2 --reason "by another actor" >/dev/null
expect 0 "audit log --by ACTOR" -- tg --json audit log --by "审计员"
printf '%s' "$LAST_OUT" | jq -e 'length == 1 and .[0].object == "gamma"' >/dev/null && ok "only that actor's rows" || bad "audit log --by: $LAST_OUT"
today=$(date -u +%F)
expect 0 "audit log --since/--until today" -- tg --json audit log --since "$today" --until "$today"
all=$(tg --json audit log | jq length)
[ "$(printf '%s' "$LAST_OUT" | jq length)" = "$all" ] && ok "today's rows are all rows" || bad "audit log --since/--until today"
expect 0 "audit log --until yesterday" -- tg --json audit log --until "$(date -u -d yesterday +%F)"
[ "$(printf '%s' "$LAST_OUT" | jq length)" = 0 ] && ok "no rows before today" || bad "audit log --until yesterday"
bad_input "audit log --actor is refused with the right option named" "--by ACTOR" -- tg audit log --actor bob
bad_input "audit log --until before --since" "before --since" -- tg audit log --since 2026-02-01 --until 2026-01-01
bad_input "audit log --action with a quote" "--action" -- tg audit log --action "x' OR 1=1"
bad_input "audit log --key with an unknown prefix" "starting with" -- tg audit log --key deadbeef
