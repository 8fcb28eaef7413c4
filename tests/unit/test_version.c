/* Unit tests: dpkg version ordering and validation. */
#include <string.h>

#include "harness.h"
#include "../../common/version.h"

static const struct { const char *a, *b; int want; } order[] = {
	{ "1.0", "1.0", 0 }, { "1.0", "1.1", -1 }, { "1.10", "1.9", 1 }, { "1.0~rc1", "1.0", -1 },
	{ "1.0", "1.0+b1", -1 }, { "1:0.1", "2.0", 1 }, { "2.0-1", "2.0-2", -1 },
	{ "2.0", "2.0-0", 0 }, { "1.0a", "1.0", 1 }, { "1.0a", "1.0+", -1 }, { "1.002", "1.2", 0 },
	{ "1.0~~", "1.0~", -1 }, { "10", "9", 1 }, { "1.0.0", "1.0", 1 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int c = tg_version_cmp(order[i].a, order[i].b);
		c = c < 0 ? -1 : c > 0;
		CHECK(c == order[i].want, "version %s vs %s is %d", order[i].a, order[i].b, order[i].want);
		int r = tg_version_cmp(order[i].b, order[i].a);
		r = r < 0 ? -1 : r > 0;
		CHECK(r == -order[i].want, "version %s vs %s is antisymmetric", order[i].b, order[i].a);
	}
	CHECK(tg_version_valid("1.2.3-4"), "valid version");
	CHECK(tg_version_valid("2:1.0~rc1+dfsg"), "valid version with epoch");
	CHECK(!tg_version_valid(""), "empty version invalid");
	CHECK(!tg_version_valid("v1.0"), "version must start with a digit");
	CHECK(!tg_version_valid("1.0 beta"), "space invalid");
	CHECK(!tg_version_valid("1:2:3"), "two epochs invalid");
	CHECK(!tg_version_valid("a:1.0"), "non-numeric epoch invalid");
	CHECK(!tg_version_valid("1.0/../x"), "slash invalid");
	CHECK(!tg_version_valid("1.0-"), "empty revision invalid (dpkg refuses it)");
	CHECK(tg_version_cmp("99999999999999999999:1", "99999999999999999998:1") > 0, "huge epochs compared exactly");

	/* Canonical spellings: one per dpkg equivalence class. */
	static const struct { const char *in, *want; } canon[] = {
		{ "2.0", "2.0" }, { "2.00", "2.0" }, { "0:2.0", "2.0" }, { "2.0-0", "2.0" }, { "00:02.000-00", "2.0" },
		{ "1.", "1.0" }, { "1.0a", "1.0a0" }, { "1:2.0-1", "1:2.0-1" }, { "01:2.0", "1:2.0" },
		{ "1.0-1-0", "1.0-1-0" }, { "1.0~rc1", "1.0~rc1" }, { "2.0-0a", "2.0-0a0" }, { "1.2.3-4+b1", "1.2.3-4+b1" },
	};
	for (size_t i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		char out[128];
		CHECK(tg_version_canonical(canon[i].in, out, sizeof(out)) && strcmp(out, canon[i].want) == 0,
		      "canonical %s is %s", canon[i].in, canon[i].want);
	}
	/* The property itself, on many generated versions: equal under the
	 * dpkg ordering exactly when the canonical forms are one string, and
	 * a version equals its canonical form. */
	static const char alpha[] = "0012.~+a-";
	unsigned seed = 12345, bad_eq = 0, bad_self = 0, n = 0;
	char va[16][16];
	for (int round = 0; round < 2000; round++) {
		for (int k = 0; k < 16; k++) {
			int len = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 7;
			va[k][0] = (char)('0' + ((seed >> 8) % 3));
			for (int c = 1; c < len; c++)
				va[k][c] = alpha[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof(alpha) - 1)];
			va[k][len] = '\0';
		}
		for (int x = 0; x < 16; x++)
			for (int y = 0; y < 16; y++) {
				char ca[64], cb[64];
				if (!tg_version_canonical(va[x], ca, sizeof(ca)) || !tg_version_canonical(va[y], cb, sizeof(cb)))
					continue;
				n++;
				if ((tg_version_cmp(va[x], va[y]) == 0) != (strcmp(ca, cb) == 0))
					bad_eq++;
				if (tg_version_cmp(va[x], ca) != 0)
					bad_self++;
			}
	}
	CHECK(n > 10000 && bad_eq == 0, "canonical forms equal exactly when versions compare equal (%u pairs)", n);
	CHECK(bad_self == 0, "every version compares equal to its canonical form");
	TEST_DONE();
}
