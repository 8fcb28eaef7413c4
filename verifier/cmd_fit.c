/*
 * trustgate fit show FILE [--json]
 *
 * Print a FIT image as parsed: images, configurations, hash nodes (each
 * recomputed), signature nodes and whether what they cover could be
 * computed.  Decides nothing and needs no records: `check` does that.
 * A file that does not parse as a FIT is exit 2.
 */
#include <string.h>

#include "cli.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../common/limits.h"
#include "../firmware/fit.h"

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *sig_json(const struct tg_fit_sig *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "algo", jstr_or_null(s->algo));
	json_object_object_add(o, "padding", jstr_or_null(s->padding));
	json_object_object_add(o, "key_name_hint", jstr_or_null(s->key_hint));
	json_object_object_add(o, "value_size", json_object_new_int64((int64_t)s->value_len));
	json_object_object_add(o, "checkable", json_object_new_boolean(s->covered));
	json_object_object_add(o, "problem", s->problem[0] ? json_object_new_string(s->problem) : NULL);
	return o;
}

static void print_sig(const struct tg_fit_sig *s, const char *indent)
{
	printf("%ssignature %s: %s%s%s, key hint %s: %s\n", indent, s->name, s->algo ? s->algo : "?",
	       s->padding ? " " : "", s->padding ? s->padding : "", s->key_hint ? s->key_hint : "(none)",
	       s->covered ? "signed bytes computed" : s->problem);
}

static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_fit fit;
	char hex[2 * TG_HASH_MAX_LEN + 1], **pos;
	size_t len = 0;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);
	if (r == TG_OK)
		r = tg_file_read(pos[0], TG_MAX_FIT_FILE, &buf, &len, &d);
	if (r == TG_OK && !tg_fit_magic(buf, len))
		r = tg_fail(&d, TG_E_FORMAT, "%s: not a FIT image (no device-tree magic)", pos[0]);
	if (r == TG_OK)
		r = tg_fit_parse(buf, len, pos[0], &fit, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);

	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		struct json_object *imgs = json_object_new_array(), *confs = json_object_new_array();
		json_object_object_add(o, "description", jstr_or_null(fit.description));
		json_object_object_add(o, "default", fit.def >= 0 ? json_object_new_string(fit.conf[fit.def].name) : NULL);
		for (size_t i = 0; i < fit.nimg; i++) {
			const struct tg_fit_image *im = &fit.img[i];
			struct json_object *io = json_object_new_object(), *hs = json_object_new_array(),
					   *ss = json_object_new_array();
			json_object_object_add(io, "name", json_object_new_string(im->name));
			json_object_object_add(io, "description", jstr_or_null(im->description));
			json_object_object_add(io, "type", jstr_or_null(im->type));
			json_object_object_add(io, "arch", jstr_or_null(im->arch));
			json_object_object_add(io, "os", jstr_or_null(im->os));
			json_object_object_add(io, "compression", jstr_or_null(im->compression));
			json_object_object_add(io, "size", json_object_new_int64((int64_t)im->size));
			json_object_object_add(io, "external", json_object_new_boolean(im->external));
			tg_hex_encode(im->sha256, 32, hex);
			json_object_object_add(io, "sha256", json_object_new_string(hex));
			for (size_t k = 0; k < im->nh; k++) {
				struct json_object *h = json_object_new_object();
				json_object_object_add(h, "name", json_object_new_string(im->h[k].name));
				json_object_object_add(h, "algo", json_object_new_string(im->h[k].algo));
				tg_hex_encode(im->h[k].value, im->h[k].value_len < TG_HASH_MAX_LEN ? im->h[k].value_len :
					      TG_HASH_MAX_LEN, hex);
				json_object_object_add(h, "value", json_object_new_string(hex));
				json_object_object_add(h, "match", json_object_new_boolean(im->h[k].ok));
				json_object_array_add(hs, h);
			}
			json_object_object_add(io, "hashes", hs);
			for (size_t k = 0; k < fit.nsig; k++)
				if (!fit.sig[k].conf && fit.sig[k].owner == (int)i)
					json_object_array_add(ss, sig_json(&fit.sig[k]));
			json_object_object_add(io, "signatures", ss);
			json_object_array_add(imgs, io);
		}
		for (size_t i = 0; i < fit.nconf; i++) {
			const struct tg_fit_conf *cf = &fit.conf[i];
			struct json_object *co = json_object_new_object(), *refs = json_object_new_object(),
					   *ss = json_object_new_array();
			json_object_object_add(co, "name", json_object_new_string(cf->name));
			json_object_object_add(co, "description", jstr_or_null(cf->description));
			json_object_object_add(co, "default", json_object_new_boolean(fit.def == (int)i));
			for (size_t k = 0; k < cf->nref; k++) {
				struct json_object *a;
				if (!json_object_object_get_ex(refs, cf->ref[k].prop, &a)) {
					a = json_object_new_array();
					json_object_object_add(refs, cf->ref[k].prop, a);
				}
				json_object_array_add(a, json_object_new_string(fit.img[cf->ref[k].image].name));
			}
			json_object_object_add(co, "images", refs);
			for (size_t k = 0; k < fit.nsig; k++)
				if (fit.sig[k].conf && fit.sig[k].owner == (int)i)
					json_object_array_add(ss, sig_json(&fit.sig[k]));
			json_object_object_add(co, "signatures", ss);
			json_object_array_add(confs, co);
		}
		json_object_object_add(o, "images", imgs);
		json_object_object_add(o, "configurations", confs);
		if (fit.code) {
			struct json_object *p = json_object_new_object();
			json_object_object_add(p, "code", json_object_new_string(fit.code));
			json_object_object_add(p, "detail", json_object_new_string(fit.problem));
			json_object_object_add(o, "problem", p);
		} else {
			json_object_object_add(o, "problem", NULL);
		}
		tg_cli_print_json(o);
	} else {
		printf("FIT %s%s%s\n", pos[0], fit.description ? ": " : "", fit.description ? fit.description : "");
		for (size_t i = 0; i < fit.nimg; i++) {
			const struct tg_fit_image *im = &fit.img[i];
			tg_hex_encode(im->sha256, 32, hex);
			printf("  image %s: type %s, arch %s, os %s, compression %s, %zu bytes%s\n", im->name,
			       im->type ? im->type : "?", im->arch ? im->arch : "-", im->os ? im->os : "-",
			       im->compression ? im->compression : "-", im->size, im->external ? " (external)" : "");
			printf("    sha256 %s\n", hex);
			for (size_t k = 0; k < im->nh; k++)
				printf("    hash %s: %s %s\n", im->h[k].name, im->h[k].algo, im->h[k].ok ? "matches" : "MISMATCH");
			for (size_t k = 0; k < fit.nsig; k++)
				if (!fit.sig[k].conf && fit.sig[k].owner == (int)i)
					print_sig(&fit.sig[k], "    ");
		}
		for (size_t i = 0; i < fit.nconf; i++) {
			const struct tg_fit_conf *cf = &fit.conf[i];
			printf("  configuration %s%s:", cf->name, fit.def == (int)i ? " (default)" : "");
			for (size_t k = 0; k < cf->nref; k++)
				printf(" %s=%s", cf->ref[k].prop, fit.img[cf->ref[k].image].name);
			printf("\n");
			for (size_t k = 0; k < fit.nsig; k++)
				if (fit.sig[k].conf && fit.sig[k].owner == (int)i)
					print_sig(&fit.sig[k], "    ");
		}
		if (fit.code)
			printf("  problem: %s: %s\n", fit.code, fit.problem);
	}
	tg_fit_release(&fit);
	return TG_EXIT_OK;
}

int tg_cmd_fit(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "fit show FILE [--json]");
}
