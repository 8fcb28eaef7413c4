/* The reason-code registry (common/reasons.h) and how verdicts use it:
 * every code well-formed and unique, and a code outside the registry can
 * never pass as a known reason or as a harmless warning. */
#include <regex.h>
#include <string.h>

#include "harness.h"
#include "../../common/reasons.h"
#include "../../verifier/verdict.h"

static void registry_well_formed(void)
{
	regex_t re;
	size_t bad = 0, dup = 0;

	regcomp(&re, "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$", REG_EXTENDED | REG_NOSUB);
	for (size_t i = 0; i < TG_REASON__COUNT; i++) {
		const struct tg_reason_info *r = &tg_reasons[i];
		if (!r->code || regexec(&re, r->code, 0, NULL, 0) != 0 ||
		    strlen(r->code) >= sizeof(((struct tg_finding *)0)->code) || !r->meaning || !*r->meaning ||
		    !r->todo || !*r->todo || r->severity > TG_SEV_WARN)
			bad++;
		for (size_t j = 0; j < i; j++)
			if (strcmp(tg_reasons[j].code, r->code) == 0)
				dup++;
		if (tg_reason_find(r->code) != r)
			bad++;
	}
	regfree(&re);
	CHECK(TG_REASON__COUNT >= 70, "the registry holds %d codes", TG_REASON__COUNT);
	CHECK(bad == 0, "every code is UPPER_SNAKE, fits a finding, has a meaning, a remedy and a severity");
	CHECK(dup == 0, "no code twice");
	CHECK(strcmp(TG_R(SIG_INVALID), "SIG_INVALID") == 0, "TG_R gives the code's text");
	CHECK(tg_reason_find("SIG_INVALD") == NULL && tg_reason_find("") == NULL && tg_reason_find(NULL) == NULL,
	      "a misspelt, empty or absent code is not found");
}

static void verdicts_use_it(void)
{
	struct tg_verdict v = { 0 };

	v.complete = true;
	tg_verdict_warn(&v, TG_R(HOST_REBOOTED), "reset");
	CHECK(tg_verdict_finish(&v) && v.nwarnings == 1, "a registered warning does not change an approval");

	memset(&v, 0, sizeof(v));
	v.complete = true;
	tg_verdict_reason(&v, TG_R(KEY_REVOKED), "revoked");
	CHECK(!tg_verdict_finish(&v) && strcmp(v.reasons[0].code, "KEY_REVOKED") == 0, "a registered reason is kept");

	memset(&v, 0, sizeof(v));
	v.complete = true;
	tg_verdict_reason(&v, "KEY_REVOKD", "typo %d", 1);
	CHECK(!tg_verdict_finish(&v) && strcmp(v.reasons[0].code, "INCOMPLETE") == 0 &&
		      strstr(v.reasons[0].detail, "unregistered reason code 'KEY_REVOKD': typo 1"),
	      "an unregistered reason is recorded as INCOMPLETE, naming it");

	memset(&v, 0, sizeof(v));
	v.complete = true;
	tg_verdict_warn(&v, "SOMETHING_NEW", "not harmless");
	CHECK(!tg_verdict_finish(&v) && v.nreasons == 1 && v.nwarnings == 0 &&
		      strcmp(v.reasons[0].code, "INCOMPLETE") == 0,
	      "an unregistered warning rejects instead of passing as harmless");
}

int main(void)
{
	registry_well_formed();
	verdicts_use_it();
	TEST_DONE();
}
