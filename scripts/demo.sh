#!/bin/bash
# make demo: a day's work of the three people trustgate serves, on embedded
# demo data, each command echoed so it can be copied.
#   1. procurement: a Chinese supplier approved, its SM2 key; a signed
#      firmware blob APPROVED and a tampered copy REJECTED; a signed U-Boot
#      FIT APPROVED.
#   2. operator: a host (swtpm as its TPM) enrolled with credential
#      activation, its measured boot attested TRUSTED; a forged boot log
#      UNTRUSTED.
#   3. reviewer: the appliance key, a printable HTML report (its path is
#      printed) and a signed VSA of the firmware verdict, the audit chain
#      verified and exported.
# Everything lives in build/demo/.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TG=$ROOT/build/trustgate
D=$ROOT/build/demo
rm -rf "$D" && mkdir -p "$D" && cd "$D"
export TRUSTGATE_DB=$D/demo.db
fail=0

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '$ %s\n' "$*"; }
# tg WANT ARGS...: echo, run, and note an unexpected exit status
tg() { local want=$1; shift; say "trustgate $*"; "$TG" "$@"; local rc=$?; [ "$rc" -eq "$want" ] || { echo "demo: expected exit $want, got $rc" >&2; fail=1; }; return 0; }
sh_() { say "$*"; "$@" >/dev/null 2>&1 || { echo "demo: '$*' failed" >&2; fail=1; }; }
. "$ROOT/tests/e2e/evlog.sh"

# ----------------------------------------------------------------- procurement
export TRUSTGATE_ACTOR="采购 王芳"
step "1. Procurement ($TRUSTGATE_ACTOR): approve a supplier, record its key, check what it ships"
tg 0 db init
tg 0 supplier add "华为技术有限公司" --country CN --max-tier 4 --review SR-2026-042 --review-expires 2030-12-31 --reason "supply-chain security review SR-2026-042 passed"
sh_ openssl genpkey -algorithm SM2 -out sm2.key
sh_ openssl pkey -in sm2.key -pubout -out sm2.pub
tg 0 key add "华为技术有限公司" sm2.pub --purpose firmware --name "SM2 release key" --reason "key ceremony 2026-11"
tg 0 product add "华为技术有限公司" "交换机固件" --kind firmware --max-tier 4 --min-version 1.0 --reason "approved product line"
head -c 4194304 /dev/zero | openssl enc -aes-128-ctr -pass pass:demo -nosalt 2>/dev/null > switch-fw-1.2.bin
sh_ openssl dgst -sm3 -sign sm2.key -sigopt distid:1234567812345678 -out switch-fw-1.2.bin.sig switch-fw-1.2.bin
tg 0 release add "华为技术有限公司" "交换机固件" 1.2 --file switch-fw-1.2.bin --reason "release notes RN-1.2"
tg 0 --gm check switch-fw-1.2.bin --sig switch-fw-1.2.bin.sig --product "交换机固件" --version 1.2
fw_id=$(sqlite3 "$TRUSTGATE_DB" "select max(id) from verdict where result = 'approved'")
cp switch-fw-1.2.bin tampered.bin
printf '\xff' | dd of=tampered.bin bs=1 seek=1000000 conv=notrunc 2>/dev/null
echo "(tampered.bin: switch-fw-1.2.bin with one byte changed)"
tg 1 --gm check tampered.bin --sig switch-fw-1.2.bin.sig --product "交换机固件" --version 1.2
# A delivery at once: one JSON line per file, one line per verdict, in order.
jq -cn '{file: "switch-fw-1.2.bin", sig: "switch-fw-1.2.bin.sig", product: "交换机固件", version: "1.2"}' > delivery.jsonl
jq -cn '{file: "tampered.bin", sig: "switch-fw-1.2.bin.sig", product: "交换机固件", version: "1.2"}' >> delivery.jsonl
say "cat delivery.jsonl"; cat delivery.jsonl
tg 1 --gm check --batch delivery.jsonl

if command -v mkimage >/dev/null && command -v dtc >/dev/null; then
	mkdir -p keys
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out keys/board.key 2>/dev/null
	openssl req -batch -new -x509 -key keys/board.key -out keys/board.crt -subj "/CN=board" 2>/dev/null
	head -c 300000 /dev/urandom > kernel.bin
	cat > board.its <<'EOF'
/dts-v1/;
/ {
	description = "board firmware 2.0";
	#address-cells = <1>;
	images {
		kernel {
			data = /incbin/("kernel.bin");
			type = "kernel"; arch = "arm64"; os = "linux"; compression = "none";
			load = <0x80000>; entry = <0x80000>;
			hash-1 { algo = "sha256"; };
		};
	};
	configurations {
		default = "conf-1";
		conf-1 { kernel = "kernel"; signature-1 { algo = "sha256,rsa3072"; key-name-hint = "board"; sign-images = "kernel"; }; };
	};
};
EOF
	printf '/dts-v1/;\n/ { model = "control"; };\n' | dtc -I dts -O dtb -o control.dtb - 2>/dev/null
	sh_ mkimage -f board.its -k keys -K control.dtb -r board-2.0.fit
	tg 0 product add "华为技术有限公司" "主板固件" --kind firmware --max-tier 4 --reason "board firmware line"
	tg 0 key add "华为技术有限公司" control.dtb --reason "U-Boot control DTB of the board"
	tg 0 release add "华为技术有限公司" "主板固件" 2.0 --file board-2.0.fit --reason "release notes RN-2.0"
	tg 0 check board-2.0.fit --product "主板固件" --version 2.0
else
	echo "(mkimage/dtc not installed: the FIT step is skipped)"
fi

# ------------------------------------------------------------------- operator
export TRUSTGATE_ACTOR="运维 李强"
step "2. Operator ($TRUSTGATE_ACTOR): enrol a host by credential activation, attest its measured boot"
if command -v swtpm >/dev/null && command -v tpm2_quote >/dev/null; then
	mkdir -p tpm
	swtpm socket --tpmstate dir="$D/tpm" --tpm2 --server type=unixio,path="$D/tpm.sock" \
		--ctrl type=unixio,path="$D/tpm.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$D/swtpm.pid"
	trap '[ -f "$D/swtpm.pid" ] && kill "$(cat "$D/swtpm.pid")" 2>/dev/null' EXIT
	for _ in $(seq 50); do [ -S "$D/tpm.sock" ] && break; sleep 0.1; done
	export TPM2TOOLS_TCTI="swtpm:path=$D/tpm.sock"
	t2() { "$@" >/dev/null 2>&1; local rc=$?; tpm2_flushcontext -t >/dev/null 2>&1; tpm2_flushcontext -s >/dev/null 2>&1; return $rc; }
	echo "(the host: swtpm as its TPM; its firmware, bootloader and separators measured into PCRs 0-7)"
	fwm=$(strhex "demo platform firmware 3.1"); boot=$(strhex "shim 15.8 + grub 2.12"); sep=00000000
	events=("0 1 $fwm" "4 2147483651 $boot")
	for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 $sep"); done
	{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > host.log
	for e in "${events[@]}"; do set -- $e; t2 tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")"; done
	tg 0 reference import --eventlog host.log --model edge-1 --reason "golden image of model edge-1"
	echo "(on the host: its agent creates the attestation key; the EK is read with tpm2-tools)"
	tg 0 quote --nonce "$(openssl rand -hex 20)" --out first --eventlog host.log
	sh_ tpm2_createek -c ek.ctx -G rsa -u ek.pub
	tpm2_flushcontext -t >/dev/null 2>&1
	tg 0 host challenge web-01 --ak first/ak.tpm2b --ek ek.pub --out web-01.challenge
	say "trustgate host respond --challenge web-01.challenge   (on the host: only its TPM can answer)"
	secret=$("$TG" host respond --challenge web-01.challenge 2>/dev/null | tr -d '\n')
	tg 0 --tier 3 host enroll web-01 --ak first/ak.tpm2b --ek ek.pub --model edge-1 --secret "$secret" --reason "rack B4, ticket 8812"
	nonce=$(openssl rand -hex 20)
	tg 0 quote --nonce "$nonce" --out bundle --eventlog host.log
	tg 0 attest web-01 --bundle bundle --nonce "$nonce"
	echo "(a forged boot log: the bootloader event replaced by another)"
	evil=$(strhex "evil bootkit 0.1")
	{ specid_hdr; event2 0 1 "$fwm"; event2 4 2147483651 "$evil"; for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 "$sep"; done; } | xxd -r -p > forged.log
	nonce=$(openssl rand -hex 20)
	tg 0 quote --nonce "$nonce" --out forged --eventlog forged.log
	tg 1 attest web-01 --bundle forged --nonce "$nonce"
else
	echo "(swtpm/tpm2-tools not installed: the host step is skipped)"
fi

# ------------------------------------------------------------------- reviewer
export TRUSTGATE_ACTOR="审计 张敏"
step "3. Reviewer ($TRUSTGATE_ACTOR): evidence to file — a report, a signed VSA, the audit chain"
tg 0 appliance-key init
tg 0 verdict show "$fw_id"
tg 0 report "$fw_id" --html "$D/verdict-$fw_id.html" --vsa "$D/verdict-$fw_id.vsa.json"
tg 0 appliance-key show
"$TG" appliance-key show > appliance.pub
say "# the VSA, verified with openssl alone (README, Signed evidence)"
jq -r .payload "verdict-$fw_id.vsa.json" | base64 -d > vsa.payload
printf 'DSSEv1 %d %s %d ' 28 application/vnd.in-toto+json "$(stat -c %s vsa.payload)" > vsa.pae
cat vsa.payload >> vsa.pae
jq -r '.signatures[0].sig' "verdict-$fw_id.vsa.json" | base64 -d > vsa.sig
say "openssl pkeyutl -verify -pubin -inkey appliance.pub -rawin -in vsa.pae -sigfile vsa.sig"
openssl pkeyutl -verify -pubin -inkey appliance.pub -rawin -in vsa.pae -sigfile vsa.sig || fail=1
tg 0 audit log --action check
tg 0 audit verify
tg 0 audit export --out "$D/audit.export"
tg 0 audit verify --export "$D/audit.export" --key appliance.pub

echo
if [ "$fail" -eq 0 ]; then
	echo "demo: every step as expected.  The reviewer's report: $D/verdict-$fw_id.html"
else
	echo "demo: some step did not go as expected (see above)" >&2
	exit 1
fi
