/* Unit tests: hex, strict base64, PEM, spans. */
#include <string.h>

#include "harness.h"
#include "../../common/encoding.h"
#include "../../common/span.h"

static int b64(const char *in, bool ws, const char *want, size_t want_len)
{
	uint8_t *out = NULL;
	size_t n = 0;
	enum tg_err r = tg_base64_decode(tg_span_make(in, strlen(in)), ws, &out, &n);
	int ok = want ? (r == TG_OK && n == want_len && memcmp(out, want, n) == 0) : r != TG_OK;
	free(out);
	return ok;
}

int main(void)
{
	char hex[9];
	uint8_t raw[4];
	size_t n;

	tg_hex_encode((const uint8_t *)"\x00\xab\xff\x10", 4, hex);
	CHECK(strcmp(hex, "00abff10") == 0, "hex encode");
	CHECK(tg_hex_decode("00ABff10", raw, 4, &n) && n == 4 && raw[1] == 0xab, "hex decode mixed case");
	CHECK(!tg_hex_decode("00abf", raw, 4, &n), "hex decode refuses odd length");
	CHECK(!tg_hex_decode("00abff1g", raw, 4, &n), "hex decode refuses non-hex");
	CHECK(!tg_hex_decode("00abff1000", raw, 4, &n), "hex decode refuses overflow");

	CHECK(b64("QUJD", false, "ABC", 3), "base64 no padding");
	CHECK(b64("QUI=", false, "AB", 2), "base64 one pad");
	CHECK(b64("QQ==", false, "A", 1), "base64 two pads");
	CHECK(b64("QU\nJD\n", true, "ABC", 3), "base64 whitespace allowed when asked");
	CHECK(b64("QU\nJD", false, NULL, 0), "base64 whitespace refused otherwise");
	CHECK(b64("QUJ", false, NULL, 0), "base64 truncated quantum refused (one byte short)");
	CHECK(b64("QR==", false, NULL, 0), "base64 non-zero bits under padding refused");
	CHECK(b64("QUI=QUJD", false, NULL, 0), "base64 data after padding refused");
	CHECK(b64("Q===", false, NULL, 0), "base64 three pads refused");
	CHECK(b64("QU*D", false, NULL, 0), "base64 bad character refused");
	CHECK(b64("", false, NULL, 0), "base64 empty refused");
	char *enc = tg_base64_encode((const uint8_t *)"AB", 2);
	CHECK(enc && strcmp(enc, "QUI=") == 0, "base64 encode");
	free(enc);

	const char *pem = "junk\n-----BEGIN PUBLIC KEY-----\nQUJD\n-----END PUBLIC KEY-----\n";
	char *label = NULL;
	uint8_t *der = NULL;
	enum tg_err r = tg_pem_decode(tg_span_make(pem, strlen(pem)), NULL, &label, &der, &n);
	CHECK(r == TG_OK && strcmp(label, "PUBLIC KEY") == 0 && n == 3, "PEM decode");
	free(label);
	free(der);
	const char *nopem = "no armour here";
	CHECK(tg_pem_decode(tg_span_make(nopem, strlen(nopem)), NULL, NULL, &der, &n) == TG_E_NOTFOUND,
	      "PEM absent is NOTFOUND");
	const char *noend = "-----BEGIN PUBLIC KEY-----\nQUJD\n";
	CHECK(tg_pem_decode(tg_span_make(noend, strlen(noend)), NULL, NULL, &der, &n) == TG_E_FORMAT,
	      "PEM without END refused");
	const char *hdr = "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\nQUJD\n-----END PUBLIC KEY-----\n";
	CHECK(tg_pem_decode(tg_span_make(hdr, strlen(hdr)), NULL, NULL, &der, &n) == TG_E_FORMAT,
	      "PEM with headers refused");
	const char *mism = "-----BEGIN PUBLIC KEY-----\nQUJD\n-----END CERTIFICATE-----\n";
	CHECK(tg_pem_decode(tg_span_make(mism, strlen(mism)), NULL, NULL, &der, &n) == TG_E_FORMAT,
	      "PEM with mismatched END refused");
	CHECK(tg_pem_decode(tg_span_make(pem, strlen(pem) - 1), "CERTIFICATE", NULL, &der, &n) == TG_E_FORMAT,
	      "PEM with the wrong label refused");

	struct tg_span s = tg_span_make("\x01\x02\x03\x04\x05", 5), t;
	uint32_t v32;
	uint16_t v16;
	CHECK(tg_span_le16(&s, &v16) && v16 == 0x0201, "span le16");
	CHECK(!tg_span_le32(&s, &v32) && s.len == 3, "span refuses a read one byte short and stays put");
	CHECK(tg_span_take(&s, 3, &t) && t.len == 3 && s.len == 0, "span take exact");
	CHECK(!tg_span_take(&s, 1, &t), "span take past the end refused");
	struct tg_span big = tg_span_make("ab", 2);
	CHECK(!tg_span_take(&big, (size_t)-1, &t), "span take SIZE_MAX refused");
	TEST_DONE();
}
