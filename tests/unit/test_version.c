/* Unit tests: dpkg version ordering and validation. */
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
	TEST_DONE();
}
