/* Names and free text typed by people (see text.h for the rules and the
 * attacks each one stops).  Unicode tables: libunistring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "text.h"
#include "limits.h"

#include <stdarg.h>

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!why || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(why, n, fmt, ap);
	va_end(ap);
}

/* Bidi embedding/override/isolate controls and marks: they reorder the
 * text around them when displayed (CVE-2021-42574). */
static bool is_bidi_control(ucs4_t c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
	       c == 0x200f || c == 0x061c;
}

/* The characters neither names nor text may carry: controls (C0, DEL,
 * C1), format characters (bidi controls, zero-width joiners and spaces,
 * soft hyphen), surrogates, private use, unassigned, line and paragraph
 * separators. */
static bool refused_anywhere(ucs4_t c, char *why, size_t n)
{
	if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
		say(why, n, "contains the control character U+%04X", c);
		return true;
	}
	if (is_bidi_control(c)) {
		say(why, n, "contains U+%04X, a bidirectional-text control that reorders what a reader sees", c);
		return true;
	}
	if (uc_is_general_category(c, UC_CATEGORY_Cf)) {
		say(why, n, "contains the invisible format character U+%04X", c);
		return true;
	}
	if (uc_is_general_category(c, UC_CATEGORY_C)) {
		say(why, n, "contains U+%04X (unassigned, private-use or surrogate code point)", c);
		return true;
	}
	if (uc_is_general_category(c, UC_CATEGORY_Zl) || uc_is_general_category(c, UC_CATEGORY_Zp)) {
		say(why, n, "contains the line/paragraph separator U+%04X", c);
		return true;
	}
	return false;
}

/* Walk s as UTF-8; call refused_anywhere on each code point.  Returns the
 * number of code points, or -1 with why set. */
static long walk(const uint8_t *s, size_t len, bool name, char *why, size_t n)
{
	long count = 0;
	ucs4_t prev = 0;

	if (u8_check(s, len) != NULL) {
		say(why, n, "is not valid UTF-8");
		return -1;
	}
	for (size_t i = 0; i < len;) {
		ucs4_t c;
		int k = u8_mbtouc(&c, s + i, len - i);
		if (k <= 0)
			return -1;
		if (refused_anywhere(c, why, n))
			return -1;
		if (name) {
			if (c == '/' || c == '\\' || c == '"') {
				say(why, n, "contains '%c' (names become parts of record paths and commands)", c);
				return -1;
			}
			if (c != ' ' && uc_is_general_category(c, UC_CATEGORY_Z)) {
				say(why, n, "contains the space character U+%04X; only the ASCII space is allowed", c);
				return -1;
			}
			if (i == 0 && (c == '.' || c == '-' || c == ' ')) {
				say(why, n, "starts with '%c'", c);
				return -1;
			}
			if (i == 0 && uc_is_general_category(c, UC_CATEGORY_M)) {
				say(why, n, "starts with the combining mark U+%04X", c);
				return -1;
			}
			if (c == ' ' && prev == ' ') {
				say(why, n, "has two spaces in a row");
				return -1;
			}
		}
		prev = c;
		i += (size_t)k;
		count++;
	}
	if (name && prev == ' ') {
		say(why, n, "ends with a space");
		return -1;
	}
	return count;
}

static bool is_nfc(const uint8_t *s, size_t len)
{
	size_t outlen = 0;
	uint8_t *norm = u8_normalize(UNINORM_NFC, s, len, NULL, &outlen);
	bool same = norm && outlen == len && memcmp(norm, s, len) == 0;

	free(norm);
	return same;
}

bool tg_name_check(const char *s, char *why, size_t whylen)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0) {
		say(why, whylen, "is empty");
		return false;
	}
	if (len > TG_MAX_NAME) {
		say(why, whylen, "is longer than %u bytes", TG_MAX_NAME);
		return false;
	}
	if (walk((const uint8_t *)s, len, true, why, whylen) < 0)
		return false;
	if (!is_nfc((const uint8_t *)s, len)) {
		say(why, whylen, "is not in Unicode normalisation form NFC (compose it first, e.g. with "
				 "'uconv -x any-nfc')");
		return false;
	}
	return true;
}

bool tg_text_check(const char *s, size_t max, char *why, size_t whylen)
{
	size_t len = s ? strlen(s) : 0;

	if (len == 0) {
		say(why, whylen, "is empty");
		return false;
	}
	if (len > max) {
		say(why, whylen, "is longer than %u bytes", (unsigned)max);
		return false;
	}
	return walk((const uint8_t *)s, len, false, why, whylen) >= 0;
}

void tg_text_quote(const char *s, char *out, size_t n)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t o = 0, len = s ? strlen(s) : 0;

	if (n < 16) {
		if (n)
			out[0] = '\0';
		return;
	}
	for (size_t i = 0; i < len;) {
		ucs4_t c = 0;
		int k = u8_mbtouc(&c, u + i, len - i);
		/* u8_mbtouc answers U+FFFD for an invalid sequence */
		bool valid = k > 0 && u8_check(u + i, (size_t)k) == NULL;

		if (o + 16 >= n) {
			memcpy(out + o, "...", 4);
			return;
		}
		if (!valid) {
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", u[i]);
			i++;
			continue;
		}
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else if (c < 0x80 || refused_anywhere(c, NULL, 0) || uc_is_general_category(c, UC_CATEGORY_Z))
			o += (size_t)snprintf(out + o, n - o, "<U+%04X>", c);
		else {
			memcpy(out + o, s + i, (size_t)k);
			o += (size_t)k;
		}
		i += (size_t)k;
	}
	out[o] = '\0';
}

void tg_utf8_scrub(char *s)
{
	uint8_t *u = (uint8_t *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		ucs4_t c;
		int k = u8_mbtoucr(&c, u + i, n - i);
		if (k <= 0)
			u[i++] = '?';
		else
			i += (size_t)k;
	}
}
