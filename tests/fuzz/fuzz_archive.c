/*
 * libFuzzer target: the archive walker on arbitrary bytes (THREATS section
 * A, cases 9-12).  Oracle: no crash, no sanitizer report, no unbounded
 * memory; a walk that succeeds reports consistent members.
 */
#include <stdlib.h>
#include <string.h>

#include "../../verifier/archive.h"
#include "../../common/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t len;
	bool done;
};

static ssize_t rd(void *ud, const void **buf)
{
	struct src *s = ud;

	if (s->done)
		return 0;
	s->done = true;
	*buf = s->p;
	return (ssize_t)s->len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_ar_result res = { .hash_all = true };
	struct src s = { data, size, false };

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	if (size == 0)
		return 0;
	if (tg_archive_walk(rd, &s, "fuzz", &res, &d) == TG_OK) {
		/* Every member has a path.  Every file of the package itself has
		 * a digest unless a finding stopped the walk (the package is then
		 * refused: a stopped walk always carries a rejecting finding).  A
		 * file inside a container the package carries may lack one only
		 * when that container could not be read to its end, which is a
		 * finding too (ARCHIVE_NESTED_OPAQUE, possibly among the findings
		 * counted but not listed). */
		bool rejecting = false;
		for (size_t i = 0; i < res.nf; i++)
			rejecting |= res.f[i].sev == TG_AR_ALWAYS;
		if (res.stopped && !rejecting)
			abort();
		bool any = res.nf > 0 || res.dropped > 0;
		for (size_t i = 0; i < res.n; i++) {
			bool no_digest = strcmp(res.m[i].type, "file") == 0 && strlen(res.m[i].sha256) != 64;
			if (!res.m[i].path || (no_digest && !res.stopped && (!res.m[i].nested || !any)))
				abort();
		}
	}
	tg_archive_result_release(&res);
	return 0;
}
