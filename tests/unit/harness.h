/*
 * A tiny table-friendly test harness: CHECK prints "ok - name" or
 * "not ok - name (file:line)"; main returns non-zero if anything failed.
 */
#ifndef TG_HARNESS_H
#define TG_HARNESS_H

#include <stdio.h>

static int tg_test_failed;

#define CHECK(cond, ...)                                                 \
	do {                                                             \
		int tg_ok_ = !!(cond); /* evaluated once */              \
		if (tg_ok_) {                                            \
			printf("ok - ");                                 \
		} else {                                                 \
			printf("not ok - ");                             \
			tg_test_failed++;                                \
		}                                                        \
		printf(__VA_ARGS__);                                     \
		if (!tg_ok_)                                             \
			printf(" (%s:%d)", __FILE__, __LINE__);          \
		printf("\n");                                            \
	} while (0)

#define TEST_DONE() return tg_test_failed ? 1 : 0

#endif
