#!/bin/bash
# Peer corpus: every event log listed in EXPECTED.json is replayed with
# `trustgate eventlog --json`.  Logs the source projects call malformed
# must give exit 2 with one stderr line; every other log must replay to the
# PCR values of the collector's independent replay, and to the upstream
# values (tpm2-tools' own fixtures) where those exist.  Never a crash.
. "$(dirname "$0")/../e2e/lib.sh"
PEER=${TG_PEER:-$ROOT/../shared/fixtures/peer}
if [ ! -f "$PEER/EXPECTED.json" ]; then
	skip "peer corpus not present ($PEER)"
	exit 0
fi

jq -r '.eventlogs | keys[]' "$PEER/EXPECTED.json" > logs.txt
while IFS= read -r rel; do
	f=$PEER/$rel
	[ -f "$f" ] || { skip "peer eventlog $rel missing"; continue; }
	exp=$(jq -c --arg k "$rel" '.eventlogs[$k]' "$PEER/EXPECTED.json")
	text=$(printf '%s' "$exp" | jq -r '.upstream.expected // ""')
	want=replay
	case "$text" in
	*"must FAIL"*|*"must return an error"*|*"must be rejected"*|invalid\ \(*) want=reject ;;
	esac
	case "$rel" in
	*specid-vendordata.bin) want=either ;;   # strict parsers may refuse (EXPECTED note)
	esac
	out=$(tg --json eventlog "$f" 2>err.txt); rc=$?
	if [ "$rc" -gt 2 ]; then
		bad "peer eventlog $rel crashed (exit $rc)"; continue
	fi
	case "$want" in
	reject)
		if [ "$rc" -eq 2 ] && [ "$(wc -l <err.txt)" -eq 1 ]; then
			ok "peer eventlog $rel refused: $(sed 's/^trustgate: //; s/^.*: malformed/malformed/' err.txt | cut -c1-80)"
		else
			bad "peer eventlog $rel should be refused (exit $rc)"
		fi ;;
	either)
		[ "$rc" -le 2 ] && ok "peer eventlog $rel handled without a crash (exit $rc)" || bad "peer eventlog $rel"
		;;
	replay)
		if [ "$rc" -ne 0 ]; then
			bad "peer eventlog $rel should parse (exit $rc): $(head -1 err.txt)"; continue
		fi
		coll=$(printf '%s' "$exp" | jq -c '.collector_replay.pcrs')
		ours=$(printf '%s' "$out" | jq -c '.pcrs | with_entries(select(.value != {}))')
		if [ "$(printf '%s' "$coll" | jq -S .)" = "$(printf '%s' "$ours" | jq -S .)" ]; then
			ok "peer eventlog $rel replays to the expected PCRs"
		else
			bad "peer eventlog $rel PCRs differ"
			diff <(printf '%s' "$coll" | jq -S .) <(printf '%s' "$ours" | jq -S .) | head -6 | sed 's/^/#   /'
		fi
		up=$(printf '%s' "$exp" | jq -c '.upstream.expected_pcrs // empty')
		if [ -n "$up" ] && [ "$up" != "{}" ]; then
			if printf '%s' "$out" | jq -e --argjson u "$up" '.pcrs as $o | [$u | to_entries[] | .key as $b | .value | to_entries[] | ($o[$b][.key] == .value)] | all' >/dev/null; then
				ok "peer eventlog $rel matches the upstream PCR values"
			else
				bad "peer eventlog $rel differs from the upstream PCR values"
			fi
		fi
		n=$(printf '%s' "$exp" | jq '.events_after_header')
		got=$(printf '%s' "$out" | jq '.events | length')
		fmt=$(printf '%s' "$out" | jq -r .format)
		[ "$fmt" = crypto-agile ] && got=$((got - 1))
		[ "$got" -eq "$n" ] && ok "peer eventlog $rel has $n events" || bad "peer eventlog $rel has $got events, want $n"
		;;
	esac
done < logs.txt
