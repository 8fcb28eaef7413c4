/*
 * trustgate vendor manifest ARCHIVE [--json]: print the statement of the
 * embedded manifest (parsed strictly, signature not judged: `check` does
 * that against the records).  `vendor sign` comes with the rest of issue 3.
 */
#include <errno.h>
#include <string.h>

#include "archive.h"
#include "cli.h"
#include "dsse.h"
#include "../common/file.h"

static ssize_t fd_read(void *ud, const void **buf)
{
	static uint8_t b[TG_READ_CHUNK];
	int fd = *(int *)ud;
	ssize_t n;

	do
		n = read(fd, b, sizeof(b));
	while (n < 0 && errno == EINTR);
	*buf = b;
	return n;
}

static int cmd_manifest(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_close_ int fd = -1;
	struct tg_diag d = { { 0 } };
	struct tg_ar_result ar = { 0 };
	struct tg_envelope env = { 0 };
	uint64_t size;
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_file_open(pos[0], TG_MAX_BLOB_SIZE, &fd, &size, &d);
	if (r == TG_OK)
		r = tg_archive_walk(fd_read, &fd, pos[0], &ar, &d);
	if (r == TG_OK && !ar.manifest)
		r = tg_fail(&d, TG_E_NOTFOUND, "%s: no %s at the archive root", pos[0], TG_MANIFEST_NAME);
	if (r == TG_OK)
		r = tg_envelope_parse(tg_span_make(ar.manifest, ar.manifest_len), pos[0], &env, &d);
	tg_archive_result_release(&ar);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		struct json_object *subj = json_object_new_array(), *pred = json_object_new_object();
		json_object_object_add(o, "_type", json_object_new_string(TG_INTOTO_STATEMENT));
		for (size_t i = 0; i < env.st.n; i++) {
			struct json_object *s = json_object_new_object(), *dg = json_object_new_object();
			json_object_object_add(s, "name", json_object_new_string(env.st.s[i].name));
			json_object_object_add(dg, "sha256", json_object_new_string(env.st.s[i].sha256));
			if (env.st.s[i].sm3[0])
				json_object_object_add(dg, "sm3", json_object_new_string(env.st.s[i].sm3));
			json_object_object_add(s, "digest", dg);
			json_object_array_add(subj, s);
		}
		json_object_object_add(o, "subject", subj);
		json_object_object_add(o, "predicateType", json_object_new_string(TG_PACKAGE_PREDICATE));
		tg_json_str(pred, "supplier", env.st.supplier);
		tg_json_str(pred, "product", env.st.product);
		tg_json_str(pred, "version", env.st.version);
		json_object_object_add(o, "predicate", pred);
		json_object_object_add(o, "signatures", json_object_new_int64((int64_t)env.nsig));
		tg_cli_print_json(o);
	} else {
		printf("%s: %s %s by %s, %zu members, %zu signature%s\n", pos[0], env.st.product, env.st.version,
		       env.st.supplier, env.st.n, env.nsig, env.nsig == 1 ? "" : "s");
		for (size_t i = 0; i < env.st.n; i++)
			printf("  %s  %s\n", env.st.s[i].sha256, env.st.s[i].name);
	}
	tg_envelope_release(&env);
	return TG_EXIT_OK;
}

int tg_cmd_vendor(struct tg_ctx *ctx, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "manifest") == 0)
		return cmd_manifest(ctx, argc - 1, argv + 1);
	fprintf(stderr, "trustgate: vendor sign is not available in this build yet; use 'vendor manifest ARCHIVE'\n");
	return TG_EXIT_ERROR;
}
