#!/bin/bash
# Every EFI binary on this machine (systemd-boot and its stub, shim, GRUB,
# the kernel under /boot) through `trustgate check` (Authenticode), with
# Debian Secure Boot CA (taken from shim's .vendor_cert) as Debian's
# firmware key, compared with sbverify on the same files:
#   sbverify --list           has a signature table  <=> trustgate does not say SIG_MISSING
#   sbverify --cert DEBIAN-CA  verifies               <=> trustgate APPROVED (tier 1)
# Fails on a crash, a sanitizer report or any difference.
. "$(dirname "$0")/../e2e/lib.sh"
mapfile -t files < <(find /usr/lib /boot -type f \( -iname '*.efi' -o -iname '*.efi.signed' -o -iname '*.efi.stub' \
	-o -name 'vmlinuz-*' \) 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ] || ! command -v sbverify >/dev/null; then
	skip "real/efi: no EFI binaries or no sbverify"
	exit 0
fi
SHIM=/usr/lib/shim/shimx64.efi
tg db init >/dev/null
tg supplier add debian --review SR-D --review-expires 2099-12-31 --reason "Debian" >/dev/null
if [ -f "$SHIM" ]; then
	objcopy -O binary --only-section=.vendor_cert "$SHIM" vc.bin
	python3 -c 'import struct
b = open("vc.bin", "rb").read()
size, _, off, _ = struct.unpack("<4I", b[:16])
open("debian-ca.der", "wb").write(b[off:off + size])'
	openssl x509 -inform DER -in debian-ca.der -out debian-ca.pem
	tg key add debian debian-ca.der --purpose firmware --reason "Debian Secure Boot CA" >/dev/null
fi
openssl req -batch -x509 -newkey rsa:2048 -nodes -keyout random.key -out random.pem -subj /CN=unrelated -days 2 2>/dev/null
n=0 approved=0 diffs=0
for f in "${files[@]}"; do
	n=$((n + 1))
	rc=0
	tg --tier 1 --json check "$f" >out.json 2>err.txt || rc=$?
	if [ $rc -gt 2 ] || grep -qE 'Sanitizer|runtime error:' err.txt; then
		bad "real/efi: $f: exit $rc $(head -c 200 err.txt)"; diffs=$((diffs + 1)); continue
	fi
	codes=$( [ $rc -le 1 ] && jq -r '[.reasons[].code] | join(",")' out.json || echo "exit2:$(head -c 120 err.txt)")
	signed=no; sbverify --list "$f" 2>/dev/null | grep -q '^signature 1' && signed=yes
	verified=no
	if [ -f debian-ca.pem ] && sbverify --cert debian-ca.pem "$f" >/dev/null 2>&1; then
		verified=yes
		# sbverify 0.9.4 says "Signature verification OK" for Debian's
		# dual-signed shimx64.efi.signed under any certificate at all (a
		# throw-away CA too): its answer then carries no information, and
		# the issuers it lists decide.
		if sbverify --cert random.pem "$f" >/dev/null 2>&1; then
			sbverify --list "$f" 2>/dev/null | grep -q 'issuer.*CN=Debian Secure Boot CA' || verified=no
			echo "# $(basename "$f"): sbverify accepts any certificate for it; judged by the issuers it lists"
		fi
	fi
	tg_signed=yes; case "$codes" in *SIG_MISSING*) tg_signed=no ;; esac
	tg_ok=no; [ $rc -eq 0 ] && tg_ok=yes && approved=$((approved + 1))
	echo "# $(basename "$f"): trustgate exit $rc ${codes:--}; sbverify signed=$signed verifies-under-Debian-CA=$verified"
	if [ $rc -eq 2 ] || [ "$signed" != "$tg_signed" ] || [ "$verified" != "$tg_ok" ]; then
		bad "real/efi: $f: trustgate and sbverify disagree"; diffs=$((diffs + 1))
	fi
done
[ $diffs -eq 0 ] && ok "real/efi: $n EFI binaries, trustgate agrees with sbverify on each ($approved approved under Debian Secure Boot CA)"
