/* Product versions, ordered as dpkg orders them. */
#ifndef TG_VERSION_H
#define TG_VERSION_H

#include "tg.h"

/* [epoch:]upstream[-revision] with characters [A-Za-z0-9.+~:-], upstream
 * starting with a digit, at most TG_MAX_VERSION characters. */
bool tg_version_valid(const char *v);
/* <0, 0, >0 as a sorts before, equal to, after b. */
int tg_version_cmp(const char *a, const char *b);
/* The one spelling of v's dpkg equivalence class ("0:2.00-0" -> "2.0"):
 * epoch 0 and revision 0 dropped, digit runs without leading zeros and
 * never empty.  Two versions compare equal exactly when their canonical
 * forms are the same string.  false if v is not valid (or the result does
 * not fit in n bytes or TG_MAX_VERSION). */
bool tg_version_canonical(const char *v, char *out, size_t n);

#endif
