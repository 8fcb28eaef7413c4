#!/bin/bash
# The reviewer's report: one self-contained HTML file, opened in headless
# Chromium and asserted on its DOM (banner, reasons with what to do,
# signer and review, audit anchoring, offline commands) — hostile names
# (a supplier named like an <img onerror>, a review reference carrying a
# <script>) must come out as text, never as elements — and a screenshot
# made.  Bad inputs: unknown or malformed ids, an existing file, a
# directory, a verdict edited since its decision.
. "$(dirname "$0")/lib.sh"

tg db init >/dev/null
EVIL='Acme <img src=x onerror=alert(1)>'
tg supplier add "$EVIL" --country CN --max-tier 4 --review 'SR-9 </td><script>alert(2)</script>' --review-expires 2099-01-01 --reason x >/dev/null
PROD='固件 <svg onload=alert(3)>'
tg product add "$EVIL" "$PROD" --kind firmware --reason p >/dev/null
genkey k p256
tg key add "$EVIL" k.pub --purpose firmware --reason k >/dev/null
head -c 2000 /dev/urandom > fw.bin; sign k fw.bin fw.sig
tg release add "$EVIL" "$PROD" 1.0 --file fw.bin --reason r >/dev/null
ok_id=$(tg --json --actor "审计员 张三" check fw.bin --sig fw.sig --product "$PROD" --version 1.0 | jq -r .id)
head -c 2000 /dev/urandom > other.bin
bad_id=$(tg --json check other.bin --sig fw.sig --product "$PROD" --version 1.0 | jq -r .id)

expect 0 "report of an approved verdict" -- tg report "$ok_id" --html ok.html
printf '%s' "$LAST_OUT" | grep -q "written to ok.html" && ok "the report's path is printed" || bad "report output: $LAST_OUT"
expect 0 "report of a rejected verdict (--json)" -- tg --json report "$bad_id" --html bad.html
printf '%s' "$LAST_OUT" | jq -e --argjson i "$bad_id" '.id == $i and .html == "bad.html"' >/dev/null && ok "report --json" || bad "report --json: $LAST_OUT"
n=$(grep -oiE '<(script|link|img|iframe|object|svg)[ >]' ok.html bad.html | wc -l)
[ "$n" = 0 ] && ok "no script, no element that loads anything, in the raw HTML" || bad "raw HTML has $n loading elements"

if ! command -v chromium >/dev/null; then
	skip "chromium not installed: DOM and screenshot not checked"
	exit 0
fi
chrome() { timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/chrome" "$@" 2>/dev/null; }
dom=$(chrome --dump-dom "file://$WORK/ok.html")
[ -n "$dom" ] && ok "Chromium renders the report" || { bad "Chromium renders the report"; exit 0; }
printf '%s' "$dom" > ok.dom
python3 - ok.dom "$EVIL" "$ok_id" "$PROD" <<'EOF' && ok "DOM: banner APPROVED, signer, review, supplier as text, audit row, commands" || bad "DOM of the approved report"
import sys, html.parser
dom, evil, vid, prod = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.tags = []; s.text = {}; s.cur = []
    def handle_starttag(s, t, a):
        s.tags.append(t); d = dict(a)
        if t not in ("meta", "br", "hr", "img", "input", "link"):
            s.cur.append(d.get("id"))
    def handle_endtag(s, t):
        if s.cur: s.cur.pop()
    def handle_data(s, d):
        for i in s.cur:
            if i: s.text[i] = s.text.get(i, "") + d
p = P(); p.feed(dom)
assert "script" not in p.tags and "img" not in p.tags and "svg" not in p.tags, p.tags
assert p.text["banner"].startswith("APPROVED"), p.text["banner"]
assert "审计员 张三" in p.text["banner"] and ("verdict %s" % vid) in p.text["banner"]
assert evil in p.text["signer"], p.text["signer"]
assert "SR-9 </td><script>alert(2)</script>" in p.text["signer"]
assert "2099-01-01" in p.text["signer"]
assert prod in p.text["subject"]
assert "Every rule of the tier held" in p.text["reasons"]
import re
assert "audit row" in p.text["audit"] and len(re.findall(r"[0-9a-f]{64}", p.text["audit"])) >= 3
assert ("verdict show %s" % vid) in p.text["commands"] and "openssl dgst -sha256 -verify" in p.text["commands"]
EOF
chrome --dump-dom "file://$WORK/bad.html" > bad.dom
python3 - bad.dom <<'EOF' && ok "DOM: banner REJECTED, the failing rule with what to do" || bad "DOM of the rejected report"
import sys, re
dom = open(sys.argv[1]).read()
assert re.search(r'id="banner"[^>]*>\s*<div class="verdict">REJECTED', dom)
m = re.search(r'<ul id="reasons">(.*?)</ul>', dom, re.S)
assert m and "SIG_INVALID" in m.group(1) or "RELEASE_UNKNOWN" in m.group(1), m and m.group(1)
assert "What to do:" in m.group(1)
EOF
chrome --screenshot="$WORK/bad.png" --window-size=1000,1400 "file://$WORK/bad.html" >/dev/null
[ -s bad.png ] && [ "$(head -c 8 bad.png | xxd -p)" = 89504e470d0a1a0a ] && [ "$(stat -c %s bad.png)" -gt 20000 ] \
	&& ok "a screenshot of the report is made (PNG, $(stat -c %s bad.png) bytes)" || bad "screenshot"
[ -n "${TG_REPORT_SHOTS:-}" ] && cp bad.png "$TG_REPORT_SHOTS/report-rejected.png" 2>/dev/null

bad_input "report to an existing file" "exists" -- tg report "$ok_id" --html ok.html
mkdir adir
bad_input "report to a directory" "adir" -- tg report "$ok_id" --html adir
ln -s /tmp/elsewhere link.html
bad_input "report through a symlink" "link.html" -- tg report "$ok_id" --html link.html
bad_input "report of an unknown verdict" "no verdict 99999" -- tg report 99999 --html x.html
bad_input "report of a malformed id" "not a verdict id" -- tg report 4x2 --html x.html
bad_input "report without --html" "--html FILE is required" -- tg report "$ok_id"
[ ! -e x.html ] && ok "nothing written for bad input" || bad "nothing written for bad input"
db_save before
db_sql "update verdict set report = replace(report, '\"rejected\"', '\"approved\"') where id = $bad_id"
expect 1 "a verdict edited since its decision gets no report" -- tg report "$bad_id" --html edited.html
[ ! -e edited.html ] && ok "no report file for the edited verdict" || bad "no report file for the edited verdict"
