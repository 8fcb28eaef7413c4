#!/bin/bash
# Peer corpus: UEFI capsules built by U-Boot HEAD's mkeficapsule with the
# parameters of test_efi_capsule (EXPECTED.json "uefi_capsules"), verified
# against U-Boot's sandbox trust anchor as a supplier certificate, lowest
# supported version 3 as the product floor.
. "$(dirname "$0")/../e2e/lib.sh"
PEER=${TG_PEER:-$ROOT/../shared/fixtures/peer}
C=$PEER/u-boot-capsules-generated
CRT=$PEER/u-boot/board/sandbox/capsule_pub_key_good.crt
if [ ! -f "$PEER/EXPECTED.json" ] || [ ! -f "$C/Test13.capsule" ] || [ ! -f "$CRT" ]; then
	skip "peer capsule corpus not present ($C)"
	exit 0
fi
guid() { python3 -c '
import struct, sys, uuid
b = open(sys.argv[1], "rb").read()
hs = struct.unpack_from("<I", b, 16)[0]
item = hs + struct.unpack_from("<Q", b, hs + 8)[0]
print(uuid.UUID(bytes_le=b[item + 4:item + 20]))' "$1"; }
G=$(guid "$C/Test13.capsule")
setup_supplier
tg key add acme "$CRT" --purpose firmware --reason "U-Boot sandbox capsule key" >/dev/null
tg product add acme sandbox --kind firmware --guid "$G" --min-version 3 --reason r >/dev/null
# Test13 has no FMP payload header: its version comes from the operator.
check_ok "Test13.capsule: ACCEPT as U-Boot (good key; no version header, --version 4)" -- "$C/Test13.capsule" --version 4
check_reason VERSION_UNKNOWN "Test13.capsule without --version: the version is unknown at tier 3" -- "$C/Test13.capsule"
check_ok "Test114.capsule: ACCEPT as U-Boot (good key, fw_version 5 >= 3)" -- "$C/Test114.capsule"
printf '%s' "$LAST_OUT" | jq -e '.version == "5"' >/dev/null && ok "Test114: firmware version 5 from its FMP payload header" || bad "Test114 version"
check_reason CAPSULE_SIG_INVALID "Test14.capsule (signed with the bad key): rejected" -- "$C/Test14.capsule"
check_reason ROLLBACK "Test115.capsule (valid signature, version 2 < 3): rejected" -- "$C/Test115.capsule"
check_reason SIG_MISSING "Test04.capsule (unsigned): rejected" -- "$C/Test04.capsule"
check_reason SIG_MISSING "Test05.capsule (unsigned, wrong image GUID): rejected" -- "$C/Test05.capsule"
[ "$(guid "$C/Test05.capsule")" = 058b7d83-50d5-4c47-a195-60d86ad341c4 ] && ok "Test05 carries SANDBOX_INCORRECT_GUID" || bad "Test05 guid"
