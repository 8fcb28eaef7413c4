/* Unit tests: a zip behind a stub decided from the bytes as they go by, in
 * pieces of any size, gives the answer of the same rule read from a file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "../../verifier/ziptail.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* n random bytes, then an end record naming a central directory of cd_size
 * bytes before it; "PK\1\2" planted at plant (or nowhere: plant == 0). */
static uint8_t *make(size_t n, uint32_t cd_size, size_t plant, size_t *len)
{
	uint8_t *b = malloc(n + 22);

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(rand() % 251);   /* never 251..255; 'P' = 80 occurs */
	for (size_t i = 0; i + 4 <= n; i++)  /* no stray signature */
		if (memcmp(b + i, "PK\1\2", 4) == 0)
			b[i] = 0;
	if (plant)
		memcpy(b + plant, "PK\1\2", 4);
	memset(b + n, 0, 22);
	memcpy(b + n, "PK\5\6", 4);
	put32(b + n + 12, cd_size);
	*len = n + 22;
	return b;
}

static bool from_file(const uint8_t *b, size_t len)
{
	char path[] = "/tmp/tg-unit-ziptail-XXXXXX";
	int fd = mkstemp(path);
	bool r = fd >= 0 && write(fd, b, len) == (ssize_t)len && tg_zip_at_end(fd, len);

	if (fd >= 0)
		close(fd);
	unlink(path);
	return r;
}

/* Fed in pieces of the given sizes, in turn. */
static int streamed(const uint8_t *b, size_t len, const size_t *sizes, size_t nsizes, size_t max_marks)
{
	struct tg_ziptail *z = calloc(1, sizeof(*z));
	size_t off = 0, i = 0;

	z->max_marks = max_marks;
	while (off < len) {
		size_t k = sizes[i++ % nsizes];
		if (k > len - off)
			k = len - off;
		tg_ziptail_feed(z, b + off, k);
		off += k;
	}
	int r = tg_ziptail_end(z);
	tg_ziptail_release(z);
	free(z);
	return r;
}

int main(void)
{
	static const size_t one[] = { 1 }, two[] = { 2 }, three[] = { 3 }, odd[] = { 5, 1, 7, 2, 4093 },
			    big[] = { 65536 }, whole[] = { 1u << 30 };
	static const struct { const size_t *s; size_t n; const char *name; } cuts[] = {
		{ one, 1, "1-byte" }, { two, 1, "2-byte" }, { three, 1, "3-byte" }, { odd, 5, "uneven" },
		{ big, 1, "64 KiB" }, { whole, 1, "a single piece, not" },
	};
	size_t len;

	srand(7);
	/* The directory 200,000 bytes before the end: far past the kept tail. */
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		size_t n = 300000, plant = n - 200000;
		uint8_t *b = make(n, 200000, plant, &len);
		CHECK(from_file(b, len) && streamed(b, len, cuts[c].s, cuts[c].n, 0) == 1,
		      "a directory far before the end record: a zip behind a stub, read or fed in %s pieces", cuts[c].name);
		b[plant + 3] = 3;
		CHECK(!from_file(b, len) && streamed(b, len, cuts[c].s, cuts[c].n, 0) == 0,
		      "no file header where the record says: not a zip, read or fed in %s pieces", cuts[c].name);
		free(b);
	}
	/* The signature across every possible boundary of 2- and 3-byte pieces. */
	for (size_t shift = 0; shift < 6; shift++) {
		size_t n = 1000, plant = 500 + shift;
		uint8_t *b = make(n, (uint32_t)(n - plant), plant, &len);
		CHECK(streamed(b, len, two, 1, 0) == 1 && streamed(b, len, three, 1, 0) == 1 && from_file(b, len),
		      "a file header split across pieces is found (shift %zu)", shift);
		free(b);
	}
	/* The record must end the file exactly. */
	{
		uint8_t *b = make(5000, 4000, 1000, &len);
		uint8_t *c = malloc(len + 1);
		memcpy(c, b, len);
		c[len] = 'x';
		CHECK(!from_file(c, len + 1) && streamed(c, len + 1, odd, 5, 0) == 0, "a byte after the record: not a zip");
		free(b);
		free(c);
	}
	/* Too many signatures to note: the answer is "not known", never "no". */
	{
		size_t n = 100000, plant = 90000;
		uint8_t *b = make(n, (uint32_t)(n - plant), plant, &len);
		for (size_t i = 1000; i < 1000 + 4 * 50; i += 4)
			memcpy(b + i, "PK\1\2", 4);
		CHECK(streamed(b, len, odd, 5, 10) == -1, "marks over the limit before the directory: not known (fail closed)");
		CHECK(streamed(b, len, odd, 5, 100) == 1, "within the limit: found");
		b[plant] = 0;
		CHECK(streamed(b, len, odd, 5, 100) == 0, "within the limit, none there: not a zip");
		free(b);
	}
	/* Short files. */
	{
		uint8_t b[21] = { 'P', 'K', 5, 6 };
		CHECK(streamed(b, sizeof(b), one, 1, 0) == 0 && !from_file(b, sizeof(b)), "shorter than a record: not a zip");
	}
	TEST_DONE();
}
