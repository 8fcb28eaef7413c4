#!/bin/bash
# Host attestation end to end: swtpm as the host's TPM, a measured boot
# whose log is built here and whose digests are extended into the TPM,
# references imported from a known-good log, the host enrolled, then
# `trustgate attest` on good and forged evidence (THREATS 41, 46, 47, 49, 53, 57).
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
tg db init >/dev/null

t2 tpm2_createek -c ek.ctx -G rsa -u ek.pub || exit 0
t2 tpm2_createak -C ek.ctx -c ak.ctx -G rsa -g sha256 -s rsassa -u ak.tpm2b
t2 tpm2_readpublic -c ak.ctx -f pem -o ak.pem
t2 tpm2_createak -C ek.ctx -c ak2.ctx -G rsa -g sha256 -s rsassa -u ak2.tpm2b

# Firmware, bootloader, separators in PCRs 0-7 (as firmware does).
fw=$(strhex "platform firmware 1.0"); boot=$(strhex "shim+grub 15.7"); sep=00000000
events=("0 1 $fw" "4 2147483651 $boot")
for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > golden.log
for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done

quote() { # NONCE OUTPREFIX [AKCTX]
	t2 tpm2_quote -c "${3:-ak.ctx}" -l sha256:0,1,2,3,4,5,6,7 -q "$1" -m "$2.msg" -s "$2.sig" -o "$2.pcrs" -g sha256
}
attest_reason() { # CODE NAME -- args
	local code=$1 name=$2; shift 3
	local out rc
	out=$(tg --json attest "$@" 2>"$WORK/.stderr"); rc=$?
	LAST_OUT=$out
	if [ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e --arg c "$code" '.verdict == "untrusted" and ([.reasons[].code] | index($c)) != null' >/dev/null; then
		ok "$name"
	else
		bad "$name (exit $rc, want 1 with $code)"; printf '%s' "$out" | jq -c '[.reasons[].code]' 2>/dev/null | sed 's/^/#   /'; sed 's/^/#   /' "$WORK/.stderr" | head -2
	fi
}

expect 0 "reference import of a known-good log" -- tg --json reference import --eventlog golden.log --model edge-1 --reason "golden image 2026-11"
printf '%s' "$LAST_OUT" | jq -e '.events == 10 and .added == 20' >/dev/null && ok "10 measured events, 20 reference values (2 banks)" || bad "reference counts: $LAST_OUT"
bad_input "host enroll with a PEM AK refused" "TPM2B_PUBLIC" -- tg host enroll h1 --no-challenge --ak ak.pem --model edge-1 --reason r
t2 tpm2_createprimary -C o -c prim.ctx
t2 tpm2_create -C prim.ctx -G rsa2048:rsassa-sha256 -a "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign" -u signer.pub -r signer.priv
bad_input "host enroll with an unrestricted key refused" "not a restricted" -- tg host enroll h1 --no-challenge --ak signer.pub --model edge-1 --reason r
expect 0 "host enroll with AK and EK" -- tg host enroll h1 --no-challenge --ak ak.tpm2b --ek ek.pub --model edge-1 --reason "rack 4 unit 12"
bad_input "enrolling the same host again refused (identity is immutable)" "already enrolled" -- tg host enroll h1 --no-challenge --ak ak2.tpm2b --model edge-1 --reason again
expect 0 "host list" -- tg host list

N=$(openssl rand -hex 20)
quote "$N" good
expect 0 "attest: genuine quote and log: TRUSTED" -- tg --json attest h1 --msg good.msg --sig good.sig --eventlog golden.log --nonce "$N"
printf '%s' "$LAST_OUT" | jq -e '.verdict == "trusted" and .measurements_checked == 10 and .host == "h1"' >/dev/null \
	&& ok "attest verdict lists the host and 10 checked measurements" || bad "attest verdict content"
attest_reason QUOTE_NONCE "attest: the same nonce a second time: QUOTE_NONCE" -- h1 --msg good.msg --sig good.sig --eventlog golden.log --nonce "$N"
N=$(openssl rand -hex 20)
attest_reason QUOTE_NONCE "attest: the old quote replayed under a fresh nonce: QUOTE_NONCE" -- h1 --msg good.msg --sig good.sig --eventlog golden.log --nonce "$N"
# A nonce is consumed by any attempt, failed ones included.
N=$(openssl rand -hex 20)
quote "$N" good2
expect 0 "attest with --pcrs as well: TRUSTED" -- tg attest h1 --msg good2.msg --sig good2.sig --eventlog golden.log --pcrs good2.pcrs --nonce "$N"
# A nonce is bytes: after a failed attempt consumed it, the same nonce in
# upper-case hex is still the used nonce (issue 10, a false TRUSTED before).
N=$(openssl rand -hex 20); quote "$N" up
{ specid_hdr; event2 0 1 "$(strhex "other firmware")"; for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000; done; } | xxd -r -p > wrong.log
attest_reason EVENTLOG_REPLAY_MISMATCH "a failed attempt (wrong log) consumes the nonce" -- h1 --msg up.msg --sig up.sig --eventlog wrong.log --nonce "$N"
NU=$(printf '%s' "$N" | tr a-f A-F)
attest_reason QUOTE_NONCE "the same quote with the nonce in upper case: QUOTE_NONCE" -- h1 --msg up.msg --sig up.sig --eventlog golden.log --nonce "$NU"
# PCR 10 (IMA) extended outside the boot log, all 24 PCRs quoted as a GCE
# host does: the boot log explains PCRs 0-7, PCR 10 is authenticated by the
# quote and reported, not failed -- unless the policy asks for it.
t2 tpm2_pcrextend "10:sha256=$(dig sha256 "$(strhex ima-aggregate)")"
N=$(openssl rand -hex 20)
t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 -q "$N" -m all.msg -s all.sig -o all.pcrs -g sha256
expect 0 "all 24 PCRs quoted, PCR 10 extended by IMA, not in the boot log: TRUSTED" -- tg --json attest h1 --msg all.msg --sig all.sig --eventlog golden.log --pcrs all.pcrs --nonce "$N"
printf '%s' "$LAST_OUT" | jq -e '[.warnings[] | select(.code == "PCR_NOT_IN_LOG") | .detail] | any(test("PCR 10 "))' >/dev/null \
	&& ok "PCR 10 reported as not explained by the log" || bad "PCR 10 warning: $(printf '%s' "$LAST_OUT" | jq -c .warnings)"
N=$(openssl rand -hex 20)
t2 tpm2_quote -c ak.ctx -l sha256:0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23 -q "$N" -m all2.msg -s all2.sig -o all2.pcrs -g sha256
attest_reason EVENTLOG_REPLAY_MISMATCH "the same with PCR 10 in the policy's PCR list: EVENTLOG_REPLAY_MISMATCH" -- h1 --msg all2.msg --sig all2.sig --eventlog golden.log --pcrs all2.pcrs --nonce "$N" --pcr-list 0-7,10

# Bundles.
N=$(openssl rand -hex 20); quote "$N" b
mkdir bundle && cp b.msg bundle/attest.bin && cp b.sig bundle/sig.bin && cp golden.log bundle/eventlog.bin && cp ak.tpm2b bundle/ak.tpm2b
expect 0 "attest --bundle: TRUSTED" -- tg attest h1 --bundle bundle --nonce "$N"
N=$(openssl rand -hex 20); quote "$N" b2
cp b2.msg bundle/attest.bin && cp b2.sig bundle/sig.bin && cp ak2.tpm2b bundle/ak.tpm2b
attest_reason AK_NOT_ENROLLED "bundle bringing another AK: AK_NOT_ENROLLED" -- h1 --bundle bundle --nonce "$N"

# Forged evidence.
N=$(openssl rand -hex 20); quote "$N" other "ak2.ctx"
attest_reason QUOTE_SIG_INVALID "quote by another AK of the same TPM: QUOTE_SIG_INVALID" -- h1 --msg other.msg --sig other.sig --eventlog golden.log --nonce "$N"
attest_reason HOST_UNKNOWN "unknown host: HOST_UNKNOWN" -- h9 --msg other.msg --sig other.sig --eventlog golden.log --nonce "$N"
# Relabelled event type (THREATS 41): same digest, type changed; PCRs still replay.
relabel=("0 1 $fw" "4 2147483656 $boot"); for p in 0 1 2 3 4 5 6 7; do relabel+=("$p 4 $sep"); done
{ specid_hdr; for e in "${relabel[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > relabel.log
N=$(openssl rand -hex 20); quote "$N" rl
attest_reason MEASUREMENT_UNKNOWN "bootloader relabelled EV_EFI_PLATFORM_FIRMWARE_BLOB: MEASUREMENT_UNKNOWN" -- h1 --msg rl.msg --sig rl.sig --eventlog relabel.log --nonce "$N"
printf '%s' "$LAST_OUT" | jq -e '.unknown_measurements[0].pcr == 4 and .unknown_measurements[0].nearest.model == "edge-1"' >/dev/null \
	&& ok "the unknown measurement names PCR 4 and the nearest reference of model edge-1" || bad "unknown measurement details"
# Separators (THREATS 42): a second separator in PCR 7, a separator reporting
# a firmware error, and a look-alike event carrying the separator digest.
for variant in dup err lookalike; do
	ev=("${events[@]}")
	case $variant in
	dup) ev+=("7 4 $sep") ;;
	err) ev=("0 1 $fw" "4 2147483651 $boot"); for p in 0 1 2 3 4 5 6; do ev+=("$p 4 $sep"); done; ev+=("7 4 ffffffff") ;;
	lookalike) ev+=("7 2147483655 $sep") ;;
	esac
	{ specid_hdr; for e in "${ev[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > sep-$variant.log
done
sep_case() { # VARIANT NAME: the TPM holds the golden boot, so these logs
	# also fail replay; the separator rule must be reported in its own right.
	local v=$1 name=$2 N; N=$(openssl rand -hex 20); quote "$N" "s$v"
	attest_reason SEPARATOR_INVALID "$name: SEPARATOR_INVALID" -- h1 --msg "s$v.msg" --sig "s$v.sig" --eventlog sep-$v.log --nonce "$N"
}
sep_case dup "a second separator in PCR 7"
sep_case err "a separator reporting a firmware error"
sep_case lookalike "an EV_EFI_ACTION carrying the separator digest"

# An unapproved bootloader actually measured into the TPM.
evil=$(strhex "evil loader 6.6")
t2 tpm2_pcrextend "4:sha1=$(dig sha1 "$evil"),sha256=$(dig sha256 "$evil")"
evilev=("${events[@]}" "4 2147483651 $evil")
{ specid_hdr; for e in "${evilev[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > evil.log
N=$(openssl rand -hex 20); quote "$N" ev
attest_reason MEASUREMENT_UNKNOWN "unapproved bootloader measured into PCR 4: MEASUREMENT_UNKNOWN" -- h1 --msg ev.msg --sig ev.sig --eventlog evil.log --nonce "$N"
printf '%s' "$LAST_OUT" | jq -e '[.reasons[].code] == ["MEASUREMENT_UNKNOWN"] and (.unknown_measurements | length) == 1 and .unknown_measurements[0].pcr == 4 and .unknown_measurements[0].type == "EV_EFI_BOOT_SERVICES_APPLICATION"' >/dev/null \
	&& ok "exactly that event is reported" || bad "exactly that event is reported: $(printf '%s' "$LAST_OUT" | jq -c '.reasons')"
attest_reason EVENTLOG_REPLAY_MISMATCH "the golden log against the evil quote: EVENTLOG_REPLAY_MISMATCH" -- h1 --msg ev.msg --sig ev.sig --eventlog golden.log --nonce "$N"
# A host whose model has no references (THREATS 53).
expect 0 "host enroll without references" -- tg host enroll h2 --no-challenge --ak ak2.tpm2b --model empty-model --reason r
N=$(openssl rand -hex 20); quote "$N" h2 ak2.ctx
attest_reason REFERENCE_EMPTY "host whose model has no reference values: REFERENCE_EMPTY" -- h2 --msg h2.msg --sig h2.sig --eventlog golden.log --nonce "$N"

# Clock moving backwards (THREATS 47): the last trusted clock is ahead.
db_sql "update host set last_clock = 9000000000000 where name = 'h1'"
N=$(openssl rand -hex 20); quote "$N" ck
attest_reason QUOTE_CLOCK "TPM clock behind the last trusted attestation: QUOTE_CLOCK" -- h1 --msg ck.msg --sig ck.sig --eventlog evil.log --nonce "$N"
db_sql "update host set last_clock = NULL, last_reset = NULL, last_restart = NULL where name = 'h1'"

# Records edited with sqlite3 (THREATS 57).
db_save before
db_sql "update host set ak_public = (select ak_public from host where name = 'h2'), ak_fingerprint = (select ak_fingerprint from host where name = 'h2'), ak_name = (select ak_name from host where name = 'h2') where name = 'h1'"
N=$(openssl rand -hex 20); quote "$N" sw ak2.ctx
attest_reason RECORD_TAMPERED "host AK swapped with sqlite3: RECORD_TAMPERED" -- h1 --msg sw.msg --sig sw.sig --eventlog evil.log --nonce "$N"
db_restore before
db_sql "insert into reference (model, pcr, alg, digest, event_type, description, created_at) values ('edge-1', 4, 'sha256', '$(dig sha256 "$evil")', 2147483651, 'evil', '2026-01-01T00:00:00Z')"
N=$(openssl rand -hex 20); quote "$N" ri
attest_reason RECORD_TAMPERED "reference inserted with sqlite3: RECORD_TAMPERED" -- h1 --msg ri.msg --sig ri.sig --eventlog evil.log --nonce "$N"
db_restore before
# A reference row attached to an approved release, inserted with sqlite3.
tg supplier add fwco --reason r >/dev/null
tg product add fwco bios --kind firmware --reason r >/dev/null
tg release add fwco bios 1.0 --digest "sha256:$(dig sha256 "$fw")" --reason r >/dev/null
db_sql "insert into reference (release_id, pcr, alg, digest, event_type, description, created_at) values ((select id from release), 4, 'sha256', '$(dig sha256 "$evil")', 2147483651, 'evil', '2026-01-01T00:00:00Z')"
N=$(openssl rand -hex 20); quote "$N" rr
attest_reason RECORD_TAMPERED "release reference inserted with sqlite3: RECORD_TAMPERED" -- h1 --msg rr.msg --sig rr.sig --eventlog evil.log --nonce "$N"
db_restore before
# Release references written by `release add --file` (a PE/COFF image: its
# Authenticode digests in PCR 4) are bound to the release's audit row:
# attestation still trusts the genuine host, and an edited row is caught.
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
if [ -f "$STUB" ]; then
	tg supplier add bootco --reason r >/dev/null
	tg product add bootco stub --kind firmware --reason r >/dev/null
	expect 0 "release add --file of a PE image records its PCR 4 measurements" -- tg release add bootco stub 1.0 --file "$STUB" --reason r
	N=$(openssl rand -hex 20); quote "$N" rf
	out=$(tg --json attest h1 --msg rf.msg --sig rf.sig --eventlog evil.log --nonce "$N" 2>/dev/null)
	printf '%s' "$out" | jq -e '[.reasons[].code] | index("RECORD_TAMPERED") == null' >/dev/null \
		&& ok "release references from release add --file match their audit row (no RECORD_TAMPERED)" || bad "release refs: $out"
	db_sql "update reference set digest = '$(dig sha256 "$evil")' where release_id = (select r.id from release r join product p on p.id = r.product_id where p.name = 'stub') and alg = 'sha256'"
	N=$(openssl rand -hex 20); quote "$N" rt
	attest_reason RECORD_TAMPERED "release reference edited with sqlite3: RECORD_TAMPERED" -- h1 --msg rt.msg --sig rt.sig --eventlog evil.log --nonce "$N"
	db_restore before
else
	skip "systemd-boot-efi not installed: no PE image for release references"
fi

n=$(db_sql "select count(*) from verdict where command = 'attest'")
a=$(db_sql "select count(*) from audit where action = 'attest'")
[ "$n" -gt 5 ] && [ "$n" -eq "$a" ] && ok "every attestation recorded with its audit row ($n)" || bad "attestations recorded ($n verdicts, $a audit rows)"
expect 0 "audit chain intact" -- tg audit verify
bad_input "attest without --eventlog" "--eventlog" -- tg attest h1 --msg good.msg --sig good.sig --nonce "$N"

# Host lifecycle: a model change takes effect, a retired host is refused, and
# a retirement undone with sqlite3 is found.
N=$(openssl rand -hex 20); quote "$N" lc
expect 0 "host set --model to a model without references" -- tg --json host set h1 --model empty-model --reason "board swapped"
printf '%s' "$LAST_OUT" | jq -e '.changes == ["model"] and .previous_model == "edge-1"' >/dev/null && ok "host set detail" || bad "host set detail: $LAST_OUT"
attest_reason REFERENCE_EMPTY "the new model's (empty) references now apply" -- h1 --msg lc.msg --sig lc.sig --eventlog golden.log --nonce "$N"
expect 0 "host set --model back" -- tg host set h1 --model edge-1 --reason "board swapped back"
tg --json host show h1 | jq -e '.model == "edge-1" and .status == "enrolled"' >/dev/null && ok "host show: the model is back" || bad "host show: the model is back"
bad_input "host set without a change" "nothing to change" -- tg host set h1 --reason x
bad_input "host set --model with a bidi override" "U+202E" -- tg host set h1 --model "$(printf 'm\xe2\x80\xae')" --reason x
expect 0 "host retire" -- tg host retire h1 --reason "decommissioned"
expect 0 "host list --status retired" -- tg --json host list --status retired
[ "$(printf '%s' "$LAST_OUT" | jq -r '[.[].name] | join(",")')" = h1 ] && ok "the retired host is listed as retired" || bad "host list --status retired: $LAST_OUT"
N=$(openssl rand -hex 20); quote "$N" lc3
attest_reason HOST_UNKNOWN "a retired host's genuine quote is UNTRUSTED" -- h1 --msg lc3.msg --sig lc3.sig --eventlog golden.log --nonce "$N"
bad_input "a retired host cannot be changed" "retired" -- tg host set h1 --tier 2 --reason x
bad_input "a retired host cannot be retired again" "retired" -- tg host retire h1 --reason x
db_save before
db_sql "update host set status = 'enrolled' where name = 'h1'"
N=$(openssl rand -hex 20); quote "$N" lc4
attest_reason RECORD_TAMPERED "a retirement undone with sqlite3 is RECORD_TAMPERED" -- h1 --msg lc4.msg --sig lc4.sig --eventlog golden.log --nonce "$N"
db_restore before
expect 0 "audit chain intact after the host changes" -- tg audit verify

# Attestation verdicts are evidence too.
vid=$(db_sql "select max(id) from verdict where command = 'attest'")
expect 0 "verdict show of an attestation" -- tg --json verdict show "$vid"
printf '%s' "$LAST_OUT" | jq -e '.kind == "attestation" and .audit.intact and .audit.report_covered and .records.host.name == "h1"
	and (.records.host.ak_fingerprint | length) == 64 and (.tool.build_sha256 | length) == 64' >/dev/null \
	&& ok "attest verdict: host record, tool, audit row" || bad "attest verdict show: $(printf '%s' "$LAST_OUT" | jq -c '{kind,audit,records,tool}')"
