#!/bin/bash
# Peer corpus: FITs built by U-Boot HEAD's mkimage following test_vboot.py
# (u-boot-vboot-generated/results.tsv, the same rows as EXPECTED.json
# "fit"), the hash-images FIT of test_fit_hashes.py, and libfdtxx's signed
# FITs.  U-Boot's "PASS" for a FIT nobody signed (no key in its control
# DTB) is a rejection here: the records demand a supplier signature
# (FIT_UNSIGNED / FIT_SIG_INVALID); every U-Boot "FAIL" must be refused.
. "$(dirname "$0")/../e2e/lib.sh"
PEER=${TG_PEER:-$ROOT/../shared/fixtures/peer}
if [ ! -f "$PEER/EXPECTED.json" ]; then
	skip "peer corpus not present ($PEER)"
	exit 0
fi
V=$PEER/u-boot-vboot-generated
fresh() { # a database with one supplier whose firmware keys come from DTB
	rm -f "$TRUSTGATE_DB"*
	tg db init >/dev/null
	tg supplier add uboot --country CN --max-tier 5 --cii --review SR-P --review-expires 2099-12-31 --reason peer >/dev/null
	tg product add uboot fw --kind firmware --reason peer >/dev/null
	[ -n "$1" ] && tg key add uboot "$1" --reason "peer control DTB" >/dev/null 2>&1
	return 0
}
if [ -f "$V/results.tsv" ]; then
	while IFS=$'\t' read -r dir fit dtb expected uboot _; do
		f=$V/$dir/$fit
		[ -f "$f" ] || { skip "$dir/$fit not in this corpus"; continue; }
		fresh "$V/$dir/$dtb"
		keys=$(tg --json key list uboot | jq length)
		out=$(tg --json check "$f" --product fw --version 1.0 --tier 2 2>"$WORK/.stderr"); rc=$?
		verdict=$(printf '%s' "$out" | jq -r '.verdict // "none"' 2>/dev/null)
		codes=$(printf '%s' "$out" | jq -r '[.reasons[].code] | join(",")' 2>/dev/null)
		if [ "$expected" = PASS ] && [ "$keys" -gt 0 ]; then
			[ "$rc" -eq 0 ] && ok "$dir/$fit with $dtb: APPROVED (U-Boot: $uboot)" || bad "$dir/$fit: want APPROVED, got $verdict $codes $(head -1 "$WORK/.stderr")"
		elif [ "$expected" = PASS ]; then
			[ "$rc" -eq 1 ] && printf '%s' "$codes" | grep -qE 'FIT_UNSIGNED|FIT_SIG_INVALID' &&
				ok "$dir/$fit: U-Boot boots it with no key; refused here ($codes)" || bad "$dir/$fit: want FIT_UNSIGNED/FIT_SIG_INVALID, got rc $rc $codes"
		else
			[ "$rc" -eq 1 ] && ok "$dir/$fit: refused ($codes; U-Boot: $uboot)" || bad "$dir/$fit: want REJECTED, got rc $rc $verdict $(head -1 "$WORK/.stderr")"
		fi
	done < "$V/results.tsv"
	# EXPECTED.json lists the same rows.
	n=$(jq '.fit["u-boot-vboot-generated"] | length' "$PEER/EXPECTED.json")
	[ "$n" -eq "$(wc -l < "$V/results.tsv")" ] && ok "EXPECTED.json and results.tsv list the same $n FITs" || bad "EXPECTED.json lists $n FITs"
fi

H=$PEER/$(jq -r '.fit["hash-images"].fit' "$PEER/EXPECTED.json")
if [ -f "$H" ]; then
	expect 0 "hash-images.fit: fit show" -- tg --json fit show "$H"
	for algo in crc32 sha1 sha256 sha384 sha512; do
		want=$(jq -r --arg a "$algo" '.fit["hash-images"].expected_kernel_hash_values[$a]' "$PEER/EXPECTED.json")
		printf '%s' "$LAST_OUT" | jq -e --arg a "$algo" --arg v "$want" \
			'[.images[] | select(.name == "kernel") | .hashes[] | select(.algo == $a and .value == $v and .match)] | length == 1' >/dev/null \
			&& ok "hash-images: kernel $algo node equals test_fit_hashes.py's value and matches the data" || bad "hash-images $algo"
	done
	fresh ""
	check_reason FIT_UNSIGNED "hash-images.fit (hashes only, md5 and crc16 nodes): refused" -- "$H" --product fw --version 1.0
fi

L=$PEER/libfdtxx/test
if [ -f "$L/verify.fit" ]; then
	for fit in verify.fit verify-offset.fit verify-position.fit; do
		expect 0 "libfdtxx $fit: fit show parses it" -- tg --json fit show "$L/$fit"
		printf '%s' "$LAST_OUT" | jq -e '[.images[] | .hashes[] | select(.algo != "md5") | .match] | all' >/dev/null \
			&& ok "libfdtxx $fit: every crc32/sha1/sha256 hash node matches" || bad "libfdtxx $fit hashes"
		printf '%s' "$LAST_OUT" | jq -e '[.images[] | select(.name == "test-1" or .name == "test-2") | .size] == [12, 12]' >/dev/null \
			&& ok "libfdtxx $fit: data sizes as libfdtxx expects" || bad "libfdtxx $fit sizes"
		fresh "$L/_collector_pubkeys_u-boot.dtb"
		# config-3 signs AES-encrypted images without their cipher nodes
		# (pre-2020.10 mkimage; disputed between U-Boot versions): as
		# current U-Boot, its signature does not verify; and md5 hash
		# nodes are refused.  Every configuration must verify, so the
		# FIT is refused, naming config-3.
		check_reason FIT_KEY_REQUIRED "libfdtxx $fit: refused (config-3 over encrypted images)" -- "$L/$fit" --product fw --version 1.0 --tier 2
		printf '%s' "$LAST_OUT" | jq -e '([.reasons[] | select(.code == "FIT_KEY_REQUIRED") | .detail] | all(test("config-3"))) and ([.reasons[].code] | index("WEAK_ALGORITHM") != null)' >/dev/null \
			&& ok "libfdtxx $fit: only config-3 fails its signatures; md5 refused" || bad "libfdtxx $fit reasons"
	done
fi
