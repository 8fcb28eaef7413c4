#!/bin/bash
# trustgate eventlog on logs built here byte by byte: replay rules of the
# TCG PC Client PFP (THREATS cases 43, 50, 52) with expected PCR values
# computed independently with openssl, and every malformed twin refused.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
Z20=$(printf '0%.0s' {1..40}); Z32=$(printf '0%.0s' {1..64}); F32=$(printf 'f%.0s' {1..64})

d1=$(strhex "firmware volume"); d2=$(strhex "bootloader"); sep=00000000
{ specid_hdr; event2 0 1 "$d1"; event2 4 2147483651 "$d2"; event2 0 4 "$sep"; event2 4 4 "$sep"; } | xxd -r -p > good.log
expect 0 "crypto-agile log parses" -- tg --json eventlog good.log
pcr0=$(extend sha256 "$Z32" "$(dig sha256 "$d1")" "$(dig sha256 "$sep")")
pcr4=$(extend sha256 "$Z32" "$(dig sha256 "$d2")" "$(dig sha256 "$sep")")
pcr0s1=$(extend sha1 "$Z20" "$(dig sha1 "$d1")" "$(dig sha1 "$sep")")
printf '%s' "$LAST_OUT" | jq -e --arg a "$pcr0" --arg b "$pcr4" --arg c "$pcr0s1" \
	'.format == "crypto-agile" and .pcrs.sha256["0"] == $a and .pcrs.sha256["4"] == $b and .pcrs.sha1["0"] == $c and (.pcrs.sha256 | keys) == ["0","4"]' >/dev/null \
	&& ok "replay equals openssl's extend chain (sha1 and sha256 banks)" || bad "replay equals openssl's extend chain"
printf '%s' "$LAST_OUT" | jq -e '.events[2].type == "EV_EFI_BOOT_SERVICES_APPLICATION" and .events[3].description == "separator" and (.events | length) == 5' >/dev/null \
	&& ok "events listed with types and descriptions" || bad "events listed with types and descriptions"
expect 0 "human output" -- tg eventlog good.log
printf '%s' "$LAST_OUT" | grep -q "sha256  PCR4  $pcr4" && ok "human output shows PCR values" || bad "human output shows PCR values"

# EV_NO_ACTION is never extended, even with a non-zero digest (case 43a).
{ specid_hdr; event2 0 1 "$d1"; event2 0 3 "$(strhex 'SP800-155 Event')00"; } | xxd -r -p > noaction.log
tg --json eventlog noaction.log | jq -e --arg a "$(extend sha256 "$Z32" "$(dig sha256 "$d1")")" '.pcrs.sha256["0"] == $a' >/dev/null \
	&& ok "EV_NO_ACTION with a digest is not extended" || bad "EV_NO_ACTION with a digest is not extended"
# StartupLocality 3 sets PCR 0's initial value (case 43c).
L3=$(printf '0%.0s' {1..62})03
{ specid_hdr; event2 0 3 "$(strhex StartupLocality)0003"; event2 0 1 "$d1"; } | xxd -r -p > locality.log
tg --json eventlog locality.log | jq -e --arg a "$(extend sha256 "$L3" "$(dig sha256 "$d1")")" '.pcrs.sha256["0"] == $a and .startup_locality == 3' >/dev/null \
	&& ok "StartupLocality 3 replays from 00..03" || bad "StartupLocality 3 replays from 00..03"
{ specid_hdr; event2 0 1 "$d1"; event2 0 3 "$(strhex StartupLocality)0003"; } | xxd -r -p > latelocality.log
bad_input "StartupLocality after PCR 0 was extended refused" "StartupLocality after" -- tg eventlog latelocality.log
# DRTM PCR 17 starts at all ones (case 50c).
{ specid_hdr; event2 17 1 "$d1"; } | xxd -r -p > drtm.log
tg --json eventlog drtm.log | jq -e --arg a "$(extend sha256 "$F32" "$(dig sha256 "$d1")")" '.pcrs.sha256["17"] == $a' >/dev/null \
	&& ok "PCR 17 replays from all ones" || bad "PCR 17 replays from all ones"
# Legacy SHA-1 format.
{ legacy 0 1 "$d1"; legacy 4 13 "$d2"; } | xxd -r -p > legacy.log
tg --json eventlog legacy.log | jq -e --arg a "$(extend sha1 "$Z20" "$(dig sha1 "$d1")")" '.format == "sha1" and .pcrs.sha1["0"] == $a and (.pcrs | keys) == ["sha1"]' >/dev/null \
	&& ok "legacy SHA-1 log replays" || bad "legacy SHA-1 log replays"

# Malformed twins: exit 2, one line naming the file (cases 50a, 52).
head -c $(( $(stat -c %s good.log) - 3 )) good.log > truncated.log
bad_input "log cut mid-event refused" "truncated.log: malformed event log" -- tg eventlog truncated.log
{ specid_hdr; event2 24 1 "$d1"; } | xxd -r -p > pcr24.log
bad_input "PCR index 24 refused" "PCR index above 23" -- tg eventlog pcr24.log
{ specid_hdr; printf '%s' "$(le32 0)$(le32 1)$(le32 0)$(le32 0)"; } | xxd -r -p > count0.log
bad_input "event with zero digests refused" "digest count" -- tg eventlog count0.log
{ specid_hdr; printf '%s' "$(le32 0)$(le32 1)$(le32 1)$(le16 4)$Z20$(le32 4294967295)"; } | xxd -r -p > hugesize.log
bad_input "event claiming 4 GiB of data refused, nothing allocated" "hugesize.log" -- tg eventlog hugesize.log
{ specid_hdr; printf '%s' "$(le32 0)$(le32 1)$(le32 2)$(le16 4)$Z20$(le16 4)$Z20$(le32 0)"; } | xxd -r -p > dupalg.log
bad_input "the same bank twice in one event refused" "twice" -- tg eventlog dupalg.log
{ specid_hdr; printf '%s' "$(le32 0)$(le32 1)$(le32 1)$(le16 13)$(printf '0%.0s' {1..128})$(le32 0)"; } | xxd -r -p > otheralg.log
bad_input "digest of a bank the header does not list refused" "does not list" -- tg eventlog otheralg.log
body="$(strhex 'Spec ID Event03')00$(le32 0)00020002$(le32 1)$(le16 11)$(le16 20)00"
printf '%s' "$(le32 0)$(le32 3)$Z20$(le32 $((${#body} / 2)))$body" | xxd -r -p > badsize.log
bad_input "Spec ID with a wrong digest size refused" "digest size" -- tg eventlog badsize.log
body="$(strhex 'Spec ID Event03')00$(le32 0)00010002$(le32 1)$(le16 11)$(le16 32)00"
printf '%s' "$(le32 0)$(le32 3)$Z20$(le32 $((${#body} / 2)))$body" | xxd -r -p > v12.log
bad_input "Spec ID Event03 claiming version 1.2 refused" "version" -- tg eventlog v12.log
body="$(strhex 'Spec ID Event03')00$(le32 0)00020002$(le32 4294967295)"
printf '%s' "$(le32 0)$(le32 3)$Z20$(le32 $((${#body} / 2)))$body" | xxd -r -p > nalgs.log
bad_input "Spec ID with 2^32-1 algorithms refused" "numberOfAlgorithms" -- tg eventlog nalgs.log
: > empty.log
bad_input "empty log refused" "empty.log: file is empty" -- tg eventlog empty.log
printf 'bogus\ninvalid\nevent\nlog\n' > text.log
bad_input "text file refused" "text.log" -- tg eventlog text.log
