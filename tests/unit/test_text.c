/* Unit tests: names and free text (common/text.c), table-driven; each
 * refusal must also say why. */
#include <string.h>

#include "harness.h"
#include "../../common/text.h"

static const struct {
	const char *s, *why;   /* why == NULL: accepted */
} names[] = {
	{ "acme", NULL },
	{ "Acme Networks", NULL },
	{ "华为技术有限公司", NULL },
	{ "中兴通讯 (ZTE)", NULL },
	{ "Café", NULL },                              /* NFC é */
	{ "Cafe\xcc\x81", "NFC" },                     /* e + combining acute */
	{ "ac\xe2\x80\xaeme", "U+202E" },
	{ "a\xe2\x81\xa6" "b", "U+2066" },
	{ "a\xe2\x80\x8b" "b", "U+200B" },
	{ "a\xc2\xa0" "b", "U+00A0" },
	{ "\xe5\x8d\x8e\xe3\x80\x80\xe4\xb8\xba", "U+3000" },
	{ "a\nb", "U+000A" },
	{ "a\x1b[2J", "U+001B" },
	{ "a\xc2\x85", "U+0085" },
	{ "a\xee\x80\x80", "U+E000" },
	{ "a\xff", "not valid UTF-8" },
	{ "a\xc0\xaf", "not valid UTF-8" },
	{ "a\xed\xa0\x80", "not valid UTF-8" },       /* a surrogate in UTF-8 */
	{ "a/b", "'/'" },
	{ "a\\b", "'\\'" },
	{ "a\"b", "'\"'" },
	{ ".hidden", "starts with '.'" },
	{ "-rf", "starts with '-'" },
	{ " a", "starts with ' '" },
	{ "a ", "ends with a space" },
	{ "a  b", "two spaces" },
	{ "\xcc\x81" "a", "combining mark" },
	{ "", "is empty" },
};

int main(void)
{
	char why[200], out[64];
	char longname[200];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		why[0] = '\0';
		bool ok = tg_name_check(names[i].s, why, sizeof(why));
		if (!names[i].why)
			CHECK(ok, "name %zu accepted", i);
		else
			CHECK(!ok && strstr(why, names[i].why), "name %zu refused: %s (%s)", i, names[i].why, why);
	}
	memset(longname, 'a', 128);
	longname[128] = '\0';
	CHECK(tg_name_check(longname, NULL, 0), "128 bytes accepted");
	longname[128] = 'a';
	longname[129] = '\0';
	CHECK(!tg_name_check(longname, why, sizeof(why)) && strstr(why, "longer than 128"), "129 bytes refused");
	CHECK(tg_text_check("why: 评审通过 / ok", 1024, NULL, 0), "free text may hold '/' and CJK");
	CHECK(!tg_text_check("x\xe2\x80\xaey", 1024, why, sizeof(why)) && strstr(why, "U+202E"), "bidi in text refused");
	CHECK(!tg_text_check("abc", 2, why, sizeof(why)), "text over its limit refused");
	tg_text_quote("a\x1b[2J\xe2\x80\xae\xff" "b", out, sizeof(out));
	CHECK(strcmp(out, "a<U+001B>[2J<U+202E>\\xffb") == 0, "quote escapes controls, bidi, bad bytes: %s", out);
	tg_text_quote("华为", out, sizeof(out));
	CHECK(strcmp(out, "华为") == 0, "quote keeps CJK: %s", out);
	memset(longname, 'x', 190);
	longname[190] = '\0';
	tg_text_quote(longname, out, sizeof(out));
	CHECK(strlen(out) < sizeof(out) && strstr(out, "..."), "quote cuts long text with ...");
	TEST_DONE();
}
