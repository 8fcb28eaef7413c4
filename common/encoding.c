/* Hex, base64 and PEM decoding for untrusted text. */
#include <string.h>

#include "encoding.h"

void tg_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

bool tg_hex_decode(const char *in, uint8_t *out, size_t max_out, size_t *ret_len)
{
	size_t n = strlen(in);

	if (n % 2 || n / 2 > max_out)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = n / 2;
	return true;
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum tg_err tg_base64_decode(struct tg_span in, bool allow_ws, uint8_t **ret, size_t *ret_len)
{
	_cleanup_free_ uint8_t *out = tg_calloc(in.len / 4 * 3 + 3, 1);
	size_t o = 0, pad = 0, nq = 0;
	uint32_t acc = 0;

	if (!out)
		return TG_E_NOMEM;
	for (size_t i = 0; i < in.len; i++) {
		uint8_t c = in.p[i];
		if (is_ws(c)) {
			if (!allow_ws)
				return TG_E_FORMAT;
			continue;
		}
		if (c == '=') {
			pad++;
			if (pad > 2)
				return TG_E_FORMAT;
			acc <<= 6;
			nq++;
		} else {
			int v = b64val(c);
			/* Data after padding would be a second, unsigned message. */
			if (v < 0 || pad)
				return TG_E_FORMAT;
			acc = acc << 6 | (uint32_t)v;
			nq++;
		}
		if (nq == 4) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			/* Non-zero bits under the padding make a second encoding of
			 * the same bytes: refuse it. */
			if ((pad == 1 && (acc & 0xff)) || (pad == 2 && (acc & 0xffff)))
				return TG_E_FORMAT;
			nq = 0;
			acc = 0;
		}
	}
	if (nq != 0 || o == 0)
		return TG_E_FORMAT;
	*ret_len = o - pad;
	*ret = TAKE_PTR(out);
	return TG_OK;
}

char *tg_base64_encode(const uint8_t *in, size_t n)
{
	static const char a[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = tg_calloc((n + 2) / 3 * 4 + 1, 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n) v |= in[i + 2];
		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? a[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Find needle in the span; returns offset or -1. */
static long span_find(struct tg_span s, const char *needle)
{
	size_t n = strlen(needle);

	if (n > s.len)
		return -1;
	for (size_t i = 0; i + n <= s.len; i++)
		if (memcmp(s.p + i, needle, n) == 0)
			return (long)i;
	return -1;
}

enum tg_err tg_pem_decode(struct tg_span text, const char *want_label,
			  char **ret_label, uint8_t **ret_der, size_t *ret_len)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	struct tg_span s = text, label = { 0 }, body = { 0 };
	long at, end;
	char endline[128];

	at = span_find(s, begin);
	if (at < 0)
		return TG_E_NOTFOUND;
	tg_span_take(&s, (size_t)at + strlen(begin), NULL);
	end = span_find(s, dashes);
	if (end < 0 || end == 0 || end > 64)
		return TG_E_FORMAT;
	tg_span_take(&s, (size_t)end, &label);
	tg_span_take(&s, strlen(dashes), NULL);
	for (size_t i = 0; i < label.len; i++)
		if (label.p[i] < 0x20 || label.p[i] > 0x7e)
			return TG_E_FORMAT;
	if (want_label && (strlen(want_label) != label.len ||
			   memcmp(want_label, label.p, label.len) != 0))
		return TG_E_FORMAT;
	snprintf(endline, sizeof(endline), "-----END %.*s-----", (int)label.len,
		 (const char *)label.p);
	end = span_find(s, endline);
	if (end < 0)
		return TG_E_FORMAT;
	tg_span_take(&s, (size_t)end, &body);
	/* RFC 7468 headers ("Proc-Type: 4,ENCRYPTED") contain ':'. */
	for (size_t i = 0; i < body.len; i++)
		if (body.p[i] == ':')
			return TG_E_FORMAT;
	enum tg_err r = tg_base64_decode(body, true, ret_der, ret_len);
	if (r != TG_OK)
		return r;
	if (ret_label) {
		*ret_label = strndup((const char *)label.p, label.len);
		if (!*ret_label) {
			free(*ret_der);
			*ret_der = NULL;
			return TG_E_NOMEM;
		}
	}
	return TG_OK;
}
