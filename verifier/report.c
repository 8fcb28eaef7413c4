/* Verdicts: reasons, the one approval point, and their reports. */
#include <stdarg.h>
#include <string.h>

#include "verdict.h"
#include "../common/reasons.h"
#include "../common/text.h"

static void add(struct tg_finding *list, size_t *n, const char *code, const char *fmt, va_list ap)
{
	struct tg_finding *f;

	/* The list never overflows silently: the last slot says so, and a
	 * full reasons list still rejects. */
	if (*n >= TG_MAX_FINDINGS) {
		f = &list[TG_MAX_FINDINGS - 1];
		snprintf(f->detail, sizeof(f->detail), "further findings omitted");
		return;
	}
	f = &list[(*n)++];
	/* A code outside the registry (one built from data, or a rule added
	 * without registering its code) is never shown as if it were one:
	 * it becomes INCOMPLETE, which still rejects. */
	if (!tg_reason_find(code)) {
		char detail[200];
		vsnprintf(detail, sizeof(detail), fmt, ap);
		snprintf(f->code, sizeof(f->code), "%s", TG_R(INCOMPLETE));
		snprintf(f->detail, sizeof(f->detail), "unregistered reason code '%.31s': %s", code ? code : "(none)",
			 detail);
	} else {
		snprintf(f->code, sizeof(f->code), "%s", code);
		vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	}
	for (char *c = f->detail; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	/* Names from the input (a member called "hi\x80bye"), and a
	 * character cut by the buffer's end: the report is JSON. */
	tg_utf8_scrub(f->detail);
}

void tg_verdict_reason(struct tg_verdict *v, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(v->reasons, &v->nreasons, code, fmt, ap);
	va_end(ap);
}

void tg_verdict_warn(struct tg_verdict *v, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* An unregistered code must not pass as a harmless warning. */
	if (!tg_reason_find(code)) {
		add(v->reasons, &v->nreasons, code, fmt, ap);
		va_end(ap);
		return;
	}
	add(v->warnings, &v->nwarnings, code, fmt, ap);
	va_end(ap);
}

bool tg_verdict_finish(struct tg_verdict *v)
{
	v->approved = false;
	if (!v->complete && v->nreasons == 0)
		tg_verdict_reason(v, TG_R(INCOMPLETE), "verification did not run to the end");
	if (v->complete && v->nreasons == 0)
		v->approved = true;
	return v->approved;
}

void tg_verdict_release(struct tg_verdict *v)
{
	json_object_put(v->components);
	json_object_put(v->inventory);
	json_object_put(v->apt);
	v->components = v->inventory = v->apt = NULL;
}

static struct json_object *findings_json(const struct tg_finding *f, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(f[i].code));
		json_object_object_add(o, "detail", json_object_new_string(f[i].detail));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

struct json_object *tg_verdict_codes_json(const struct tg_verdict *v)
{
	struct json_object *codes = json_object_new_array();

	for (size_t i = 0; i < v->nreasons; i++)
		json_object_array_add(codes, json_object_new_string(v->reasons[i].code));
	return codes;
}

struct json_object *tg_report_json(const struct tg_verdict *v)
{
	struct json_object *o = json_object_new_object(), *subj, *pol, *key = NULL;

	json_object_object_add(o, "verdict", json_object_new_string(v->approved ? "approved" : "rejected"));
	json_object_object_add(o, "kind", json_object_new_string(v->kind));
	subj = json_object_new_object();
	json_object_object_add(subj, "path", json_object_new_string(v->path));
	json_object_object_add(subj, "size", json_object_new_int64((int64_t)v->size));
	json_object_object_add(subj, "sha256", json_object_new_string(v->sha256));
	json_object_object_add(o, "subject", subj);
	pol = json_object_new_object();
	json_object_object_add(pol, "tier", json_object_new_int(v->tier));
	json_object_object_add(pol, "cii", json_object_new_boolean(v->cii));
	json_object_object_add(pol, "gm", json_object_new_boolean(v->gm));
	json_object_object_add(o, "policy", pol);
	json_object_object_add(o, "supplier", str_or_null(v->supplier));
	json_object_object_add(o, "product", str_or_null(v->product));
	json_object_object_add(o, "version", str_or_null(v->version));
	if (v->has_key) {
		key = json_object_new_object();
		json_object_object_add(key, "fingerprint", json_object_new_string(v->key_fpr));
		json_object_object_add(key, "algorithm", json_object_new_string(v->key_alg));
	}
	json_object_object_add(o, "key", key);
	json_object_object_add(o, "reasons", findings_json(v->reasons, v->nreasons));
	json_object_object_add(o, "warnings", findings_json(v->warnings, v->nwarnings));
	json_object_object_add(o, "components", v->components ? json_object_get(v->components) : json_object_new_array());
	if (v->inventory)
		json_object_object_add(o, "inventory", json_object_get(v->inventory));
	if (v->apt)
		json_object_object_add(o, "apt", json_object_get(v->apt));
	return o;
}

void tg_report_fprint(FILE *f, const struct tg_verdict *v)
{
	fprintf(f, "%s  %s  %s\n", v->approved ? "APPROVED" : "REJECTED", v->kind, v->path);
	fprintf(f, "  sha256    %s (%llu bytes)\n", v->sha256, (unsigned long long)v->size);
	fprintf(f, "  policy    tier %d%s%s\n", v->tier, v->cii ? ", CII" : "", v->gm ? ", GM" : "");
	if (v->has_key)
		fprintf(f, "  signer    %s (%s%s%s) of %s\n", v->key_fpr, v->key_alg,
		       v->scheme[0] ? ", " : "", v->scheme, v->supplier[0] ? v->supplier : "?");
	if (v->product[0] || v->version[0])
		fprintf(f, "  product   %s %s\n", v->product[0] ? v->product : "(none)",
		       v->version[0] ? v->version : "(no version)");
	for (size_t i = 0; i < v->nreasons; i++)
		fprintf(f, "  reason    %s: %s\n", v->reasons[i].code, v->reasons[i].detail);
	for (size_t i = 0; i < v->nwarnings; i++)
		fprintf(f, "  warning   %s: %s\n", v->warnings[i].code, v->warnings[i].detail);
	if (v->apt) {
		struct json_object *x;
		const char *rel = json_object_object_get_ex(v->apt, "release", &x) ? json_object_get_string(x) : "";
		fprintf(f, "  apt       signed index of %s\n", rel);
	}
	if (v->inventory)
		fprintf(f, "  inventory %zu symlinks (%zu absolute or leaving the package), %zu hard links, %zu setuid/setgid "
		       "files (--json lists them)\n", v->n_symlinks, v->n_symlinks_out, v->n_hardlinks, v->n_setuid);
	for (size_t i = 0; v->components && i < json_object_array_length(v->components); i++) {
		struct json_object *c = json_object_array_get_idx(v->components, i), *x;
		const char *path = json_object_object_get_ex(c, "path", &x) ? json_object_get_string(x) : "";
		const char *kind = json_object_object_get_ex(c, "kind", &x) ? json_object_get_string(x) : "";
		const char *verd = json_object_object_get_ex(c, "verdict", &x) ? json_object_get_string(x) : "";
		fprintf(f, "  component %s %s: %s\n", kind, path, verd);
	}
}

void tg_report_print(const struct tg_verdict *v)
{
	tg_report_fprint(stdout, v);
}
