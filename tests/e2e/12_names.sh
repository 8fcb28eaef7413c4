#!/bin/bash
# Names are UTF-8: Chinese supplier names and names with spaces work end to
# end (records, check, verdict JSON, audit); names that can spoof what a
# reviewer reads (bidi controls, invisible characters, other spaces, NFD
# twins, control characters) are refused with one line naming the code
# point, and nothing is written.
. "$(dirname "$0")/lib.sh"

tg db init >/dev/null
HW="华为技术有限公司"
expect 0 "supplier add with a Chinese name" -- tg supplier add "$HW" --country CN --max-tier 5 --review "安全评审 2026-01" --review-expires 2099-01-01 --reason "供应链安全评审通过"
expect 0 "supplier add with a space in the name" -- tg supplier add "Acme Networks" --reason "onboarding"
expect 0 "product with a Chinese name and a space" -- tg product add "$HW" "交换机 固件" --kind firmware --max-tier 5 --reason "产品评审"
genkey hw p256
expect 0 "key of the Chinese supplier" -- tg key add "$HW" hw.pub --purpose package,firmware --name "签名密钥 1" --reason "密钥登记"
head -c 4096 /dev/urandom > fw.bin
sign hw fw.bin fw.sig
expect 0 "release of the Chinese product" -- tg release add "$HW" "交换机 固件" 1.0 --file fw.bin --reason "发布评审"
expect 0 "a blob signed by the Chinese supplier is approved" -- tg --json check fw.bin --sig fw.sig --product "交换机 固件" --version 1.0
printf '%s' "$LAST_OUT" | jq -e --arg s "$HW" '.supplier == $s and .product == "交换机 固件"' >/dev/null \
	&& ok "verdict JSON carries the names as UTF-8" || bad "verdict JSON carries the names as UTF-8"
expect 0 "supplier show by its Chinese name" -- tg --json supplier show "$HW"
printf '%s' "$LAST_OUT" | jq -e '.review == "安全评审 2026-01"' >/dev/null && ok "review reference round-trips" || bad "review reference round-trips"
expect 0 "audit log" -- tg --json audit log
printf '%s' "$LAST_OUT" | jq -e --arg s "$HW" '[.[] | select(.object == $s)] | length >= 1' >/dev/null \
	&& ok "audit rows name the supplier in UTF-8" || bad "audit rows name the supplier in UTF-8"
expect 0 "audit verify" -- tg audit verify

# The twins: each would print like an accepted name, or move text around.
bad_input "bidi override (U+202E) refused" "U+202E" -- tg supplier add "$(printf 'acme\xe2\x80\xaeexe.dat')" --reason x
bad_input "bidi isolate (U+2066) refused" "U+2066" -- tg supplier add "$(printf 'a\xe2\x81\xa6b')" --reason x
bad_input "zero-width space refused" "U+200B" -- tg supplier add "$(printf 'ac\xe2\x80\x8bme')" --reason x
bad_input "zero-width joiner refused" "U+200D" -- tg supplier add "$(printf 'ac\xe2\x80\x8dme')" --reason x
bad_input "no-break space refused" "U+00A0" -- tg supplier add "$(printf 'Acme\xc2\xa0Networks')" --reason x
bad_input "ideographic space refused" "U+3000" -- tg supplier add "$(printf '华为\xe3\x80\x80技术')" --reason x
bad_input "decomposed (NFD) name refused" "NFC" -- tg supplier add "$(printf 'Cafe\xcc\x81')" --reason x
bad_input "newline in a name refused" "U+000A" -- tg supplier add "$(printf 'acme\nAPPROVED')" --reason x
bad_input "escape sequence in a name refused" "U+001B" -- tg supplier add "$(printf 'acme\e[2J')" --reason x
bad_input "C1 control refused" "U+0085" -- tg supplier add "$(printf 'acme\xc2\x85')" --reason x
bad_input "private-use character refused" "U+E000" -- tg supplier add "$(printf 'acme\xee\x80\x80')" --reason x
bad_input "invalid UTF-8 refused" "not valid UTF-8" -- tg supplier add "$(printf 'acme\xff')" --reason x
bad_input "overlong UTF-8 refused" "not valid UTF-8" -- tg supplier add "$(printf 'acme\xc0\xaf')" --reason x
bad_input "two spaces in a row refused" "two spaces" -- tg supplier add "Acme  Networks" --reason x
bad_input "leading space refused" "starts with" -- tg supplier add " Acme" --reason x
bad_input "trailing space refused" "ends with a space" -- tg supplier add "Acme " --reason x
bad_input "slash refused" "'/'" -- tg supplier add "a/b" --reason x
bad_input "leading dash refused" "starts with '-'" -- tg supplier add --reason x -- "-acme"
long=$(printf '华%.0s' $(seq 43))
bad_input "a name over 128 bytes refused" "longer than 128 bytes" -- tg supplier add "$long" --reason x
ok_long=$(printf '华%.0s' $(seq 42))
expect 0 "a name of 126 bytes is accepted" -- tg supplier add "$ok_long" --reason "limit"
bad_input "bidi override in a reason refused" "U+202E" -- tg supplier add fine --reason "$(printf 'ok\xe2\x80\xaekcah')"
bad_input "newline in a reason refused" "U+000A" -- tg supplier add fine --reason "$(printf 'one\ntwo')"
bad_input "bidi override in a product name refused" "U+202E" -- tg product add "$HW" "$(printf 'fw\xe2\x80\xae')" --kind firmware --reason x
bad_input "bidi override in --actor refused" "U+202E" -- tg --actor "$(printf 'root\xe2\x80\xae')" supplier add fine --reason x
bad_input "control character in \$TRUSTGATE_ACTOR refused" "U+0007" -- env TRUSTGATE_ACTOR="$(printf 'a\ab')" "$TG_BIN" supplier add fine --reason x
bad_input "bidi override in a host name refused" "U+202E" -- tg host enroll "$(printf 'h\xe2\x80\xae')" --ak hw.pub --no-challenge --reason x
expect 0 "a Chinese actor is recorded" -- tg --actor "审计员 张三" supplier add "中兴通讯" --reason "评审"
tg --json audit log | jq -e '.[-1].actor == "审计员 张三"' >/dev/null && ok "audit row carries the Chinese actor" || bad "audit row carries the Chinese actor"

# A member name that is not UTF-8, inside a nested tar (as golang-1.19-src
# carries one in its test data): the verdict is still recorded and printed
# as valid JSON, the bad bytes shown as '?'.  Found on real data: the report
# carried the raw bytes, which PostgreSQL refused (exit 2, nothing decided).
python3 - <<'PY'
import io, tarfile
inner = io.BytesIO()
with tarfile.open(fileobj=inner, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
    for name in ["hi\udc80\udc81bye", "中文.txt"]:
        ti = tarfile.TarInfo(name); ti.size = 1; t.addfile(ti, io.BytesIO(b"x"))
with tarfile.open("outer.tar", "w", format=tarfile.GNU_FORMAT) as t:
    ti = tarfile.TarInfo("testdata/not-utf8.tar"); data = inner.getvalue(); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
PY
genkey nk p256
tg key add "中兴通讯" nk.pub --purpose package --reason "nested names" >/dev/null
sign nk outer.tar outer.sig
n0=$(db_sql "select count(*) from verdict")
expect 0 "a nested member name that is not UTF-8 at tier 1: approved with a warning, not 'could not decide'" -- tg --json --tier 1 check outer.tar --sig outer.sig
printf '%s' "$LAST_OUT" > nonutf8.json
python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' nonutf8.json 2>/dev/null \
	&& ok "the verdict JSON is valid UTF-8" || bad "verdict JSON is not UTF-8"
jq -e '[.warnings[] | select(.code == "ARCHIVE_UNSAFE_PATH" and (.detail | contains("hi??bye")))] | length == 1' nonutf8.json >/dev/null \
	&& ok "the bad name shown with '?' for its bad bytes" || bad "name in the finding: $(jq -c .warnings nonutf8.json | head -c 300)"
[ "$(db_sql "select count(*) from verdict")" = $((n0 + 1)) ] && ok "the verdict is recorded" || bad "verdict not recorded"
