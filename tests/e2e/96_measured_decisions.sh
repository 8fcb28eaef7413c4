#!/bin/bash
# Measured decisions (issue 6 item 3): on an appliance (records anchored in
# its TPM) every verdict is extended into PCR 15 and appended to the
# decision log; a quote of PCRs 0-7 and 15 with that log lets `attest`
# prove which decisions the appliance made, in order.  Forged twins: the
# decision log reordered, or with a decision removed.
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/e2e/evlog.sh"
command -v swtpm >/dev/null && command -v tpm2_pcrread >/dev/null || { skip "swtpm/tpm2-tools not installed"; exit 0; }
start_swtpm || { bad "swtpm starts"; exit 0; }
fw=$(strhex "appliance firmware 1.0"); boot=$(strhex "appliance UKI"); sep=00000000
events=("0 1 $fw" "4 2147483651 $boot")
for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > boot.log
for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done

setup_supplier
expect 0 "audit anchor (the appliance)" -- tg audit anchor --tcti "$TPM2TOOLS_TCTI"
genkey k rsa3072
tg key add acme k.pub --reason "release key" >/dev/null
tg product add acme fw --kind firmware --reason r >/dev/null
head -c 5000 /dev/urandom > fw.bin; sign k fw.bin fw.sig sha384
cp fw.bin evil.bin; flip fw.bin 10 evil.bin
check_ok "decision 1: genuine firmware approved" -- fw.bin --sig fw.sig --product fw --version 1.0
check_reason SIG_INVALID "decision 2: tampered copy rejected" -- evil.bin --sig fw.sig --product fw --version 1.0
D=$TG_LOCAL.decisions
expect 0 "the decision log parses as a TCG event log" -- tg --json eventlog "$D"
printf '%s' "$LAST_OUT" | jq -e '[.events[] | select(.pcr == 15 and .type == "EV_ACTION")] | length == 2' >/dev/null \
	&& ok "two EV_ACTION events on PCR 15" || bad "decision events: $LAST_OUT"
want=$(printf '%s' "$LAST_OUT" | jq -r '.pcrs.sha256["15"]')
have=$(tpm2_pcrread sha256:15 2>/dev/null | awk '/^ *15 *:/ {print tolower($2)}' | sed 's/^0x//')
[ -n "$want" ] && [ "$want" = "$have" ] && ok "PCR 15 in the TPM = the decision log replayed" || bad "PCR 15 $have vs log $want"

# The appliance attests itself: boot log + decisions, PCRs 0-7 and 15.
N=$(openssl rand -hex 20)
expect 0 "quote with the decision log" -- tg quote --nonce "$N" --out b1 --eventlog boot.log --decisions "$D" --pcr-list 0-7,15
expect 0 "reference import of the boot log" -- tg reference import --eventlog boot.log --model appliance --reason golden
expect 0 "enrol the appliance itself" -- tg host enroll appliance --no-challenge --ak b1/ak.tpm2b --model appliance --reason self
expect 0 "attest of the appliance: TRUSTED" -- tg --json attest appliance --bundle b1 --nonce "$N" --pcr-list 0-7,15
printf '%s' "$LAST_OUT" | jq -e '(.decisions | length) == 2 and (.decisions[0] | startswith("check approved blob")) and (.decisions[1] | startswith("check rejected blob"))' >/dev/null \
	&& ok "the verdict lists both decisions, in order" || bad "decisions: $(printf '%s' "$LAST_OUT" | jq -c .decisions)"
# Forged twins of the decision log (fresh quotes: nonces are single use).
forge() { # OUT MODE: swap the last two events, or drop the last one
	python3 - "$1" "$2" <<'PY'
import struct, sys
out, mode = sys.argv[1], sys.argv[2]
b = bytearray(open(out, "rb").read())
def events(b):
    # legacy header, then crypto-agile events; offsets of each event
    off = 32 + struct.unpack_from("<I", b, 28)[0]
    res = []
    while off < len(b):
        n = struct.unpack_from("<I", b, off + 8)[0]
        p = off + 12
        for _ in range(n):
            alg = struct.unpack_from("<H", b, p)[0]
            p += 2 + {4: 20, 0xb: 32, 0xc: 48, 0xd: 64}[alg]
        size = struct.unpack_from("<I", b, p)[0]
        res.append((off, p + 4 + size))
        off = p + 4 + size
    return res
ev = events(b)
(a0, a1), (c0, c1) = ev[-2], ev[-1]
if mode == "swap":
    b = b[:a0] + b[c0:c1] + b[a0:a1]
elif mode == "retext":
    # the last decision made to say the opposite (same length); its
    # digest (what PCR 15 was extended with) left as it was
    e = bytes(b[c0:c1])
    t = e.replace(b"untrusted", b"  trusted", 1) if b"untrusted" in e else e.replace(b"rejected", b"approved", 1)
    assert t != e
    b = b[:c0] + t
else:
    b = b[:c0]
open(out, "wb").write(b)
PY
}
for mode in swap drop retext; do
	N=$(openssl rand -hex 20)
	t2 tg quote --nonce "$N" --out "f-$mode" --eventlog boot.log --decisions "$D" --pcr-list 0-7,15
	forge "f-$mode/eventlog.bin" "$mode"
	out=$(tg --json attest appliance --bundle "f-$mode" --nonce "$N" --pcr-list 0-7,15 2>/dev/null); rc=$?
	[ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[].code] | index("EVENTLOG_REPLAY_MISMATCH") != null' >/dev/null \
		&& ok "decision log with the last decision(s) $mode: UNTRUSTED (replay mismatch)" || bad "forged decisions ($mode): rc $rc $(printf '%s' "$out" | jq -c .reasons)"
done
# Decisions are measured only on an appliance: other records never touch a PCR.
before=$(tpm2_pcrread sha256:15 2>/dev/null | awk '/^ *15 *:/ {print $2}')
TRUSTGATE_DB=$WORK/plain.db tg db init >/dev/null
TRUSTGATE_DB=$WORK/plain.db tg supplier add other --reason r >/dev/null
after=$(tpm2_pcrread sha256:15 2>/dev/null | awk '/^ *15 *:/ {print $2}')
[ -n "$before" ] && [ "$before" = "$after" ] && ok "records not anchored: PCR 15 untouched" || bad "plain records extended PCR 15"
bad_input "a file that is not a decision log" "boot.log" -- tg quote --nonce "$(openssl rand -hex 20)" --out bx --decisions boot.log
