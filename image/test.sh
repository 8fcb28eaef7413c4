#!/bin/bash
# make image-test: boot the appliance image under QEMU (TCG) with OVMF and
# swtpm, let it quote itself, take the bundle off the serial console and
# attest it on the host against references computed from the approved UKI
# (release add --file: its Authenticode digest and the kernel's, PCR 4).
# Then the same image with one byte of its kernel command line changed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TG=${TG_IMAGE_BIN:-$ROOT/build/trustgate}
W=$(mktemp -d /tmp/tg-image.XXXXXX)
trap 'kill $(cat "$W"/swtpm*.pid 2>/dev/null) 2>/dev/null; rm -rf "$W"' EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; fail=$((fail + 1)); }
CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$CODE" ] && command -v qemu-system-x86_64 >/dev/null || { echo "skip - qemu/OVMF not installed"; echo "0 passed, 0 failed"; exit 0; }

# boot OUTDIR NAME: boot the ESP in OUTDIR with a fresh swtpm; bundle -> $W/NAME
boot() {
	local img=$1 name=$2 nonce=$3 t0
	mkdir -p "$W/$name-tpm"
	swtpm socket --tpmstate dir="$W/$name-tpm" --tpm2 --ctrl type=unixio,path="$W/$name-swtpm.sock" \
		--flags startup-clear --daemon --pid file="$W/swtpm-$name.pid" || return 1
	for _ in $(seq 50); do [ -S "$W/$name-swtpm.sock" ] && break; sleep 0.1; done
	cp "$VARS" "$W/$name-vars.fd"
	t0=$(date +%s)
	timeout 300 qemu-system-x86_64 -machine q35,accel=tcg -m 1024 -no-reboot -display none \
		-drive if=pflash,format=raw,readonly=on,file="$CODE" -drive if=pflash,format=raw,file="$W/$name-vars.fd" \
		-drive format=raw,file="$img" \
		-chardev socket,id=chrtpm,path="$W/$name-swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 -fw_cfg name=opt/trustgate/nonce,string="$nonce" \
		-serial file:"$W/$name-serial.log" >/dev/null 2>&1
	echo $(( $(date +%s) - t0 )) > "$W/$name.seconds"
	sed -n '/TRUSTGATE-BUNDLE-BEGIN/,/TRUSTGATE-BUNDLE-END/p' "$W/$name-serial.log" | tr -d '\r' |
		grep -v TRUSTGATE-BUNDLE | base64 -d 2>/dev/null | (mkdir -p "$W/$name" && cd "$W/$name" && tar -x 2>/dev/null)
	[ -s "$W/$name/bundle/attest.bin" ]
}

echo "building the image and its tampered twin..."
bash "$ROOT/image/build.sh" "$W/good" >/dev/null || { bad "make image"; exit 1; }
bash "$ROOT/image/build.sh" "$W/evil" "console=ttyS0 quieT panic=-1" >/dev/null || { bad "tampered image"; exit 1; }
export TRUSTGATE_DB=$W/host.db
"$TG" db init >/dev/null
"$TG" supplier add trustgate --review SR-IMG --review-expires 2099-12-31 --reason "appliance vendor" >/dev/null
"$TG" product add trustgate appliance --kind image --reason r >/dev/null
"$TG" product add trustgate kernel --kind firmware --reason r >/dev/null
"$TG" release add trustgate appliance 1.0 --file "$W/good/uki.efi" --reason "approved UKI" >/dev/null && ok "approved UKI recorded with its PCR 4 references"
"$TG" release add trustgate kernel 6.1 --file "$W/good/vmlinuz" --reason "the kernel the stub loads" >/dev/null && ok "its kernel recorded"
N=$(openssl rand -hex 20)
if boot "$W/good/esp.img" good "$N"; then
	ok "appliance booted (OVMF + swtpm, TCG) and printed its quote bundle in $(cat "$W/good.seconds") s"
else
	bad "appliance boot / bundle (serial log: $(tail -5 "$W/good-serial.log" | tr '\n' ' '))"
	echo "$pass passed, $fail failed"; exit 1
fi
# The platform's own PCR 4 events (OVMF's boot-option actions, the separator)
# as a model reference set, from a log made here byte by byte.
. "$ROOT/tests/e2e/evlog.sh"
{ specid_hdr; event2 4 $((0x80000007)) "$(strhex 'Calling EFI Application from Boot Option')"
  event2 4 $((0x80000007)) "$(strhex 'Returning from EFI Application from Boot Option')"; event2 4 4 00000000; } |
	xxd -r -p > "$W/platform.log"
"$TG" reference import --eventlog "$W/platform.log" --model ovmf --reason "OVMF boot-option action and separator" >/dev/null
"$TG" host enroll appliance --no-challenge --ak "$W/good/bundle/ak.tpm2b" --model ovmf --reason "the appliance" >/dev/null && ok "appliance enrolled with its AK"
out=$("$TG" --json attest appliance --bundle "$W/good/bundle" --nonce "$N" --pcr-list 4 2>&1); rc=$?
[ "$rc" -eq 0 ] && ok "attest of the appliance against the approved UKI's references: TRUSTED" || bad "attest: rc $rc $(printf '%s' "$out" | jq -c .reasons 2>/dev/null || printf '%s' "$out")"
N2=$(openssl rand -hex 20)
if boot "$W/evil/esp.img" evil "$N2"; then
	# Same TPM identity is not needed: this is another boot of another
	# image; enrol its AK under another name and attest it.
	"$TG" host enroll evil --no-challenge --ak "$W/evil/bundle/ak.tpm2b" --model ovmf --reason "tampered twin" >/dev/null
	out=$("$TG" --json attest evil --bundle "$W/evil/bundle" --nonce "$N2" --pcr-list 4 2>/dev/null); rc=$?
	if [ "$rc" -eq 1 ] && printf '%s' "$out" | jq -e '[.reasons[] | select(.code == "MEASUREMENT_UNKNOWN" and (.detail | test("PCR 4") and test("trustgate/appliance/1.0")))] | length >= 1' >/dev/null; then
		ok "one byte of the command line changed: UNTRUSTED, naming the PCR 4 event and release trustgate/appliance/1.0"
	else
		bad "tampered image: rc $rc $(printf '%s' "$out" | jq -c .reasons 2>/dev/null)"
	fi
else
	bad "tampered image did not boot to a bundle"
fi
echo "boot to verdict: $(cat "$W/good.seconds") s (target < 90 s)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
