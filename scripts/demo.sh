#!/bin/bash
# make demo: the main job on an embedded default.  A fresh database, a demo
# supplier with freshly generated SM2 and RSA-3072 keys, a signed demo
# firmware blob checked as it was signed (APPROVED) and with one byte
# changed (REJECTED).  Everything lives in build/demo/.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TG=$ROOT/build/trustgate
D=$ROOT/build/demo
rm -rf "$D" && mkdir -p "$D" && cd "$D"
export TRUSTGATE_DB=$D/demo.db TRUSTGATE_ACTOR=demo-reviewer

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ trustgate %s\n' "$*"; "$TG" "$@"; }

step "records: a supplier approved for tier 4, its keys, its product"
run db init
run supplier add demo-firmware-co --country CN --max-tier 4 --review SR-2026-042 --review-expires 2030-12-31 --reason "security review SR-2026-042 passed"
openssl genpkey -algorithm SM2 -out sm2.key 2>/dev/null && openssl pkey -in sm2.key -pubout -out sm2.pub
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out rsa.key 2>/dev/null && openssl pkey -in rsa.key -pubout -out rsa.pub
run key add demo-firmware-co sm2.pub --purpose firmware --name "SM2 release key" --reason "key ceremony 2026-11"
run key add demo-firmware-co rsa.pub --purpose firmware --name "RSA release key" --reason "key ceremony 2026-11"
run product add demo-firmware-co router-fw --kind firmware --max-tier 4 --min-version 1.0 --reason "approved product line"

step "the supplier signs firmware 1.2 (SM2 with SM3, GM/T 0009 identity)"
head -c 4194304 /dev/zero | openssl enc -aes-128-ctr -pass pass:demo -nosalt 2>/dev/null > router-fw-1.2.bin
openssl dgst -sm3 -sign sm2.key -sigopt distid:1234567812345678 -out router-fw-1.2.bin.sig router-fw-1.2.bin
echo "router-fw-1.2.bin: $(stat -c %s router-fw-1.2.bin) bytes, signature router-fw-1.2.bin.sig"

step "check at tier 3 with the GM profile"
run --gm check router-fw-1.2.bin --sig router-fw-1.2.bin.sig --product router-fw --version 1.2
approved=$?

step "a tampered copy: one byte changed"
cp router-fw-1.2.bin tampered.bin
printf '\xff' | dd of=tampered.bin bs=1 seek=1000000 conv=notrunc 2>/dev/null
run --gm check tampered.bin --sig router-fw-1.2.bin.sig --product router-fw --version 1.2
rejected=$?

step "the audit trail"
run audit log
run audit verify

echo
if [ "$approved" -eq 0 ] && [ "$rejected" -eq 1 ]; then
	echo "demo: genuine firmware APPROVED, tampered copy REJECTED (records in $D/demo.db)"
else
	echo "demo: unexpected outcome (genuine exit $approved, tampered exit $rejected)" >&2
	exit 1
fi
