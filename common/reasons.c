/* The reason-code registry (reasons.h). */
#include <string.h>

#include "reasons.h"

const struct tg_reason_info tg_reasons[TG_REASON__COUNT] = {
#define TG_REASON_ROW(c, sev, meaning, todo) [TG_REASON_##c] = { #c, TG_SEV_##sev, meaning, todo },
	TG_REASONS(TG_REASON_ROW)
#undef TG_REASON_ROW
};

const struct tg_reason_info *tg_reason_find(const char *code)
{
	for (size_t i = 0; code && i < TG_REASON__COUNT; i++)
		if (strcmp(tg_reasons[i].code, code) == 0)
			return &tg_reasons[i];
	return NULL;
}

const char *tg_severity_name(enum tg_severity s)
{
	switch (s) {
	case TG_SEV_REJECT:
		return "reject";
	case TG_SEV_TIER:
		return "tier";
	case TG_SEV_WARN:
		return "warn";
	}
	return "?";
}
