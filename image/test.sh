#!/bin/bash
# make image-test: the appliance boots into `trustgate serve` under QEMU
# (TCG) with OVMF and swtpm, reachable from this machine only through QEMU
# user networking (hostfwd on 127.0.0.1).  This machine then plays:
#  - the installer: the first administrator's certificate is taken off the
#    appliance's console, where first boot says it once;
#  - a host with its own TPM (a second swtpm) running `trustgate agent`:
#    it enrols itself over HTTPS (challenge, credential activation by its
#    TPM, its host certificate issued at enrolment), attests -> TRUSTED,
#    and with a boot log its TPM did not measure -> UNTRUSTED;
#  - a relying party: it fetches /v1/appliance/attestation?nonce=... (the
#    appliance's own quote, boot log and decision log) and attests the
#    appliance against references computed from the approved UKI in its
#    own records (release add --file) before trusting its verdicts:
#    TRUSTED, the two decisions just made replayed from PCR 15; then the
#    same image with one byte of its kernel command line changed, booted
#    and asked the same way: UNTRUSTED, naming the PCR 4 event.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TG=${TG_IMAGE_BIN:-$ROOT/build/trustgate}
W=$(mktemp -d /tmp/tg-image.XXXXXX)
cleanup() {
	for p in "$W"/*.qemu.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	sleep 0.5
	kill $(cat "$W"/swtpm*.pid 2>/dev/null) 2>/dev/null
	[ -n "${TG_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; fail=$((fail + 1)); }
CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
[ -f "$CODE" ] && command -v qemu-system-x86_64 >/dev/null || { echo "skip - qemu/OVMF not installed"; echo "0 passed, 0 failed"; exit 0; }
command -v curl >/dev/null && command -v tpm2_pcrextend >/dev/null || { echo "skip - curl/tpm2-tools not installed"; echo "0 passed, 0 failed"; exit 0; }

# A free loopback port.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# boot IMG NAME: boot the ESP with a fresh swtpm and the service forwarded
# to 127.0.0.1:$PORT; wait until it serves; its admin files -> $W/NAME-admin.
boot() {
	local img=$1 name=$2 t0
	mkdir -p "$W/$name-tpm"
	swtpm socket --tpmstate dir="$W/$name-tpm" --tpm2 --ctrl type=unixio,path="$W/$name-swtpm.sock" \
		--flags startup-clear --daemon --pid file="$W/swtpm-$name.pid" || return 1
	for _ in $(seq 50); do [ -S "$W/$name-swtpm.sock" ] && break; sleep 0.1; done
	cp "$VARS" "$W/$name-vars.fd"
	PORT=$(free_port)
	t0=$(date +%s)
	timeout 900 qemu-system-x86_64 -machine q35,accel=tcg -m 1024 -no-reboot -display none \
		-drive if=pflash,format=raw,readonly=on,file="$CODE" -drive if=pflash,format=raw,file="$W/$name-vars.fd" \
		-drive format=raw,file="$img" \
		-chardev socket,id=chrtpm,path="$W/$name-swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
		-device tpm-tis,tpmdev=tpm0 -nic "user,model=e1000,hostfwd=tcp:127.0.0.1:$PORT-:8443" \
		-serial file:"$W/$name-serial.log" >/dev/null 2>&1 &
	echo $! > "$W/$name.qemu.pid"
	for _ in $(seq 300); do
		grep -q "TRUSTGATE-SERVING\|TRUSTGATE-SETUP-FAILED" "$W/$name-serial.log" 2>/dev/null && break
		kill -0 "$(cat "$W/$name.qemu.pid")" 2>/dev/null || break
		sleep 1
	done
	mkdir -p "$W/$name-admin"
	sed -n '/TRUSTGATE-ADMIN-BEGIN/,/TRUSTGATE-ADMIN-END/p' "$W/$name-serial.log" | tr -d '\r' | grep -v TRUSTGATE- |
		base64 -d 2>/dev/null | tar -x -C "$W/$name-admin" 2>/dev/null
	A=$W/$name-admin/admin
	for _ in $(seq 30); do
		curl -s -o /dev/null --max-time 5 --cacert "$A/ca.pem" --cert "$A/admin.pem" --key "$A/admin.key" \
			"https://127.0.0.1:$PORT/healthz" && break
		sleep 1
	done
	echo $(( $(date +%s) - t0 )) > "$W/$name.seconds"
	grep -q "TRUSTGATE-SERVING" "$W/$name-serial.log" && [ -s "$A/admin.key" ]
}
stop() { kill "$(cat "$W/$1.qemu.pid")" 2>/dev/null; wait "$(cat "$W/$1.qemu.pid")" 2>/dev/null; rm -f "$W/$1.qemu.pid"; }
api() { curl -s --max-time 60 --cacert "$A/ca.pem" --cert "$A/admin.pem" --key "$A/admin.key" -o "$W/body" -w '%{http_code}' "$@"; }

# rp NAME: as a relying party, fetch the appliance's attestation over a
# fresh nonce into bundle $W/NAME-bundle and attest it with this machine's
# records; exit status and JSON verdict in $W/NAME-verdict.json.
rp() {
	local name=$1 n st
	n=$(openssl rand -hex 32)
	st=$(api "https://127.0.0.1:$PORT/v1/appliance/attestation?nonce=$n")
	[ "$st" = 200 ] || { echo "# appliance attestation: $st $(head -c 300 "$W/body")"; return 3; }
	local b=$W/$name-bundle
	rm -rf "$b" && mkdir -p "$b"
	jq -r .attest "$W/body" | base64 -d > "$b/attest.bin"
	jq -r .sig "$W/body" | base64 -d > "$b/sig.bin"
	jq -r .ak_tpm2b "$W/body" | base64 -d > "$b/ak.tpm2b"
	jq -r .eventlog "$W/body" | base64 -d > "$b/eventlog.bin"
	jq .pcrs "$W/body" > "$b/pcrs.json"
	TRUSTGATE_DB=$W/rp.db "$TG" host enroll "appliance-$name" --no-challenge --ak "$b/ak.tpm2b" --model ovmf \
		--reason "the appliance's AK as booted" >/dev/null 2>&1
	TRUSTGATE_DB=$W/rp.db "$TG" --json attest "appliance-$name" --bundle "$b" --nonce "$n" --pcr-list "$2" \
		> "$W/$name-verdict.json" 2>&1
}

echo "building the image and its tampered twin..."
bash "$ROOT/image/build.sh" "$W/good" >/dev/null || { bad "make image"; exit 1; }
bash "$ROOT/image/build.sh" "$W/evil" "console=ttyS0 quieT panic=-1" >/dev/null || { bad "tampered image"; exit 1; }

# The relying party's records: the approved UKI (its Authenticode digest
# and the kernel's are the PCR 4 references) and the platform's own PCR 4
# events (OVMF's boot-option actions, the separator) as a model reference
# set, from a log made here byte by byte.
export TRUSTGATE_DB=$W/rp.db
"$TG" db init >/dev/null
"$TG" supplier add trustgate --review SR-IMG --review-expires 2099-12-31 --reason "appliance vendor" >/dev/null
"$TG" product add trustgate appliance --kind image --reason r >/dev/null
"$TG" product add trustgate kernel --kind firmware --reason r >/dev/null
"$TG" release add trustgate appliance 1.0 --file "$W/good/uki.efi" --reason "approved UKI" >/dev/null && ok "approved UKI recorded with its PCR 4 references"
"$TG" release add trustgate kernel 6.1 --file "$W/good/vmlinuz" --reason "the kernel the stub loads" >/dev/null && ok "its kernel recorded"
. "$ROOT/tests/e2e/evlog.sh"
{ specid_hdr; event2 4 $((0x80000007)) "$(strhex 'Calling EFI Application from Boot Option')"
  event2 4 $((0x80000007)) "$(strhex 'Returning from EFI Application from Boot Option')"; event2 4 4 00000000; } |
	xxd -r -p > "$W/platform.log"
"$TG" reference import --eventlog "$W/platform.log" --model ovmf --reason "OVMF boot-option action and separator" >/dev/null
unset TRUSTGATE_DB

if boot "$W/good/esp.img" good; then
	ok "appliance booted (OVMF + swtpm, TCG) into trustgate serve in $(cat "$W/good.seconds") s; first admin's certificate taken off its console"
else
	bad "appliance boot / serve (serial log: $(tr -d '\r' < "$W/good-serial.log" | tail -5 | tr '\n' ' '))"
	echo "$pass passed, $fail failed"; exit 1
fi
st=$(api "https://127.0.0.1:$PORT/v1/whoami"); [ "$st" = 200 ] && jq -e '.role == "admin"' "$W/body" >/dev/null \
	&& ok "admin reaches the appliance over HTTPS (hostfwd, mutual TLS)" || bad "whoami: $st $(cat "$W/body")"
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$A/ca.pem" "https://127.0.0.1:$PORT/v1/whoami")
[ "$st" = 000 ] || [ "$st" = 401 ] && ok "without a client certificate: refused ($st)" || bad "no cert: $st"

# ---------------------------------------------------------------- a host agent
mkdir -p "$W/host-tpm"
swtpm socket --tpmstate dir="$W/host-tpm" --tpm2 --server type=unixio,path="$W/host-tpm.sock" \
	--ctrl type=unixio,path="$W/host-tpm.sock.ctrl" --flags not-need-init,startup-clear --daemon --pid file="$W/swtpm-host.pid"
for _ in $(seq 50); do [ -S "$W/host-tpm.sock" ] && break; sleep 0.1; done
export TPM2TOOLS_TCTI="swtpm:path=$W/host-tpm.sock"
fw_ev=$(strhex "edge firmware 2.1")
events=("0 1 $fw_ev")
for p in 0 1 2 3 4 5 6 7; do events+=("$p 4 00000000"); done
{ specid_hdr; for e in "${events[@]}"; do set -- $e; event2 "$1" "$2" "$3"; done; } | xxd -r -p > "$W/golden.log"
for e in "${events[@]}"; do set -- $e; tpm2_pcrextend "$1:sha1=$(dig sha1 "$3"),sha256=$(dig sha256 "$3")" >/dev/null; done
{ specid_hdr; event2 0 1 "$(strhex "other firmware")"; for p in 0 1 2 3 4 5 6 7; do event2 "$p" 4 00000000; done; } | xxd -r -p > "$W/wrong.log"
st=$(api -F "eventlog=@$W/golden.log" -F model=edge -F "reason=golden image of edge" "https://127.0.0.1:$PORT/v1/references")
[ "$st" = 201 ] && ok "admin imports the hosts' golden log over HTTPS" || bad "reference import: $st $(cat "$W/body")"
mkdir -p "$W/hostcert"
out=$("$TG" agent --enroll --server "https://127.0.0.1:$PORT" --host edge-01 --cert "$A/admin.pem" --key "$A/admin.key" \
	--ca "$A/ca.pem" --out "$W/hostcert" --model edge --reason "rack 1" 2>&1)
[ $? -eq 0 ] && [ -s "$W/hostcert/edge-01.pem" ] && ok "agent --enroll: challenge, credential activation by the host's TPM, host certificate issued at enrolment" \
	|| bad "agent enrol: $out"
agent() { "$TG" agent --server "https://127.0.0.1:$PORT" --host edge-01 --cert "$W/hostcert/edge-01.pem" \
	--key "$W/hostcert/edge-01.key" --ca "$A/ca.pem" --once "$@" 2>&1; }
out=$(agent --eventlog "$W/golden.log"); rc=$?
[ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q "TRUSTED  edge-01" && ok "the agent attests over HTTPS: TRUSTED" || bad "agent attest: rc $rc $out"
out=$(agent --eventlog "$W/wrong.log"); rc=$?
[ "$rc" -eq 1 ] && printf '%s' "$out" | grep -q "UNTRUSTED  edge-01" && ok "forged twin: a boot log its TPM did not measure: UNTRUSTED" || bad "agent wrong log: rc $rc $out"
unset TPM2TOOLS_TCTI

# ---------------------------------------------------------------- the relying party
rp good 4,15; rc=$?
if [ "$rc" -eq 0 ] && jq -e '.verdict == "trusted" and (.decisions | length) == 2 and (.decisions[0] | test("edge-01"))' "$W/good-verdict.json" >/dev/null; then
	ok "relying party: the appliance's quote over its nonce, against the approved UKI: TRUSTED, its 2 decisions replayed from PCR 15"
else
	bad "relying party on the good image: rc $rc $(jq -c '[.verdict, .reasons, .decisions]' "$W/good-verdict.json" 2>/dev/null || head -c 300 "$W/good-verdict.json")"
fi
# Forged twin: the decision log with one byte of its last decision changed
# no longer replays to the quoted PCR 15.
b=$W/good-bundle; n=$(jq -r .nonce "$W/good-verdict.json" 2>/dev/null)
cp -r "$b" "$W/forged-bundle"; sz=$(stat -c %s "$b/eventlog.bin")
printf 'X' | dd of="$W/forged-bundle/eventlog.bin" bs=1 seek=$((sz - 2)) conv=notrunc status=none
"$TG" quote verify --bundle "$b" --nonce "$n" --pcr-list 4,15 >/dev/null 2>&1; rc1=$?
out=$("$TG" --json quote verify --bundle "$W/forged-bundle" --nonce "$n" --pcr-list 4,15 2>&1); rc2=$?
[ "$rc1" -eq 0 ] && [ "$rc2" -eq 1 ] && printf '%s' "$out" | grep -q EVENTLOG_REPLAY_MISMATCH \
	&& ok "forged twin: one byte of a recorded decision changed in the log: EVENTLOG_REPLAY_MISMATCH (quote verify)" || bad "forged decision log: rc $rc1/$rc2 $out"
stop good

if boot "$W/evil/esp.img" evil; then
	rp evil 4; rc=$?
	if [ "$rc" -eq 1 ] && jq -e '[.reasons[] | select(.code == "MEASUREMENT_UNKNOWN" and (.detail | test("PCR 4") and test("trustgate/appliance/1.0")))] | length >= 1' "$W/evil-verdict.json" >/dev/null; then
		ok "one byte of the command line changed: the relying party finds it UNTRUSTED, naming the PCR 4 event and release trustgate/appliance/1.0"
	else
		bad "tampered image: rc $rc $(jq -c .reasons "$W/evil-verdict.json" 2>/dev/null || head -c 300 "$W/evil-verdict.json")"
	fi
	stop evil
else
	bad "tampered image did not boot into serve"
fi
echo "boot to serving: $(cat "$W/good.seconds") s (target < 90 s)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
