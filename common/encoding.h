/* Hex, base64 and PEM: strict decoders for untrusted text. */
#ifndef TG_ENCODING_H
#define TG_ENCODING_H

#include "tg.h"
#include "span.h"

/* Lowercase hex of in[0..n) into out (2n+1 bytes). */
void tg_hex_encode(const uint8_t *in, size_t n, char *out);
/* Decode exactly 2*max_out hex digits or fewer; returns false on any
 * non-hex character or odd length.  *ret_len is the decoded size. */
bool tg_hex_decode(const char *in, uint8_t *out, size_t max_out, size_t *ret_len);

/* Strict base64 (RFC 4648 §4).  Whitespace (space, tab, CR, LF) is skipped
 * when allow_ws; padding must be canonical and the unused bits zero, so one
 * signature has exactly one accepted encoding.  Output malloc'd. */
enum tg_err tg_base64_decode(struct tg_span in, bool allow_ws, uint8_t **ret, size_t *ret_len);
/* Encode to a malloc'd NUL-terminated string. */
char *tg_base64_encode(const uint8_t *in, size_t n);

/* Find the first PEM block "-----BEGIN <label>-----" in text; if want_label
 * is non-NULL the label must match.  Returns TG_E_NOTFOUND when there is
 * no PEM block at all, TG_E_FORMAT when a block is broken.  *ret_label is
 * malloc'd.  Headers (RFC 1421 Proc-Type etc.) are refused: encrypted or
 * annotated PEM is not a public key. */
enum tg_err tg_pem_decode(struct tg_span text, const char *want_label,
			  char **ret_label, uint8_t **ret_der, size_t *ret_len);

#endif
