/* Product versions, ordered as dpkg orders them. */
#ifndef TG_VERSION_H
#define TG_VERSION_H

#include "tg.h"

/* [epoch:]upstream[-revision] with characters [A-Za-z0-9.+~:-], upstream
 * starting with a digit, at most TG_MAX_VERSION characters. */
bool tg_version_valid(const char *v);
/* <0, 0, >0 as a sorts before, equal to, after b. */
int tg_version_cmp(const char *a, const char *b);

#endif
