/*
 * Names and free text typed by people: supplier, product, host and model
 * names, actors, reasons.  They are UTF-8 — Chinese supplier names are the
 * normal case — and they end up in audit rows, JSON, HTML reports and
 * terminals, so what is accepted is narrow (README, "Names"):
 *
 *  - valid UTF-8 in Unicode normalisation form NFC: one name, one byte
 *    sequence ("é" precomposed and decomposed would otherwise be two
 *    suppliers that print the same);
 *  - letters, marks, digits, punctuation, symbols and the ASCII space only:
 *    no control characters (a newline forges a second log line, THREATS
 *    case 63), no format characters — bidi overrides and isolates
 *    (U+202A..U+202E, U+2066..U+2069, "Trojan Source") reorder what a
 *    reviewer reads, zero-width characters make look-alikes — no other
 *    spaces (U+00A0, U+3000), no private-use, surrogate or unassigned code
 *    points;
 *  - no '/', '\' or '"' (names become parts of record paths like
 *    supplier/product/version and of commands the report prints), no
 *    leading '.', '-' or space, no trailing space, no two spaces in a row;
 *  - at most TG_MAX_NAME bytes.
 */
#ifndef TG_TEXT_H
#define TG_TEXT_H

#include "tg.h"

/* A name as above.  On false, why (if non-NULL) says what is wrong, in
 * words and with the offending code point as U+XXXX. */
bool tg_name_check(const char *s, char *why, size_t whylen);

/* Free text (reasons, review references, key hints): valid UTF-8, 1..max
 * bytes, no control, bidi-control or other format characters; any
 * printable character otherwise. */
bool tg_text_check(const char *s, size_t max, char *why, size_t whylen);

/* Make s valid UTF-8 in place: each byte of an invalid or cut-off sequence
 * becomes '?'.  For text from inputs (member names in findings) that goes
 * into JSON, which is UTF-8 by definition, and into PostgreSQL, which
 * refuses anything else. */
void tg_utf8_scrub(char *s);

/* Copy s into out (n bytes) for a diagnostic: printable ASCII as is, valid
 * UTF-8 letters etc. as is, everything else as \xHH or <U+XXXX>, cut with
 * "..." when long.  Never fails. */
void tg_text_quote(const char *s, char *out, size_t n);

#endif
