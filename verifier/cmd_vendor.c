#define _GNU_SOURCE
/*
 * trustgate vendor manifest ARCHIVE [--json]: print the statement of the
 * embedded manifest (parsed strictly, signature not judged: `check` does
 * that against the records).
 * trustgate vendor sign ARCHIVE --key PRIVATE.pem --product NAME --version V
 *     --out FILE [--supplier NAME]: the supplier's side, a copy of ARCHIVE in
 * the same format with the signed manifest added at its root.  Links are
 * listed with their targets, so check accepts them at every tier.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "cli.h"
#include "dsse.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../common/privkey.h"
#include "../common/version.h"

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

static void privkey_freep(struct tg_privkey **k)
{
	tg_privkey_free(*k);
}

static int member_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct tg_ar_member *const *)a)->norm, (*(const struct tg_ar_member *const *)b)->norm);
}

/* The in-toto Statement v1 over every root file of the walk, sorted by
 * name so the same package always gives the same statement. */
/* The root files of a walk (what a manifest lists), sorted by name. */
static const struct tg_ar_member **root_files(const struct tg_ar_result *ar, size_t *ret_n)
{
	const struct tg_ar_member **m = tg_calloc(ar->n ? ar->n : 1, sizeof(*m));
	size_t n = 0;

	if (!m)
		return NULL;
	for (size_t i = 0; i < ar->n; i++)
		if (!ar->m[i].nested && !ar->m[i].manifest &&
		    (strcmp(ar->m[i].type, "file") == 0 || ar->m[i].link))
			m[n++] = &ar->m[i];
	qsort(m, n, sizeof(*m), member_cmp);
	*ret_n = n;
	return m;
}

static char *statement_json(const struct tg_ar_result *ar, const char *supplier, const char *product,
			    const char *version, bool sm3, size_t *count)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	size_t n = 0;
	_cleanup_free_ const struct tg_ar_member **m = root_files(ar, &n);
	struct json_object *subj = json_object_new_array(), *pred = json_object_new_object();

	if (!o || !m || !subj || !pred) {
		json_object_put(subj);
		json_object_put(pred);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object(), *dg = json_object_new_object();
		const char *sha = m[i]->sha256, *sm = m[i]->sm3;
		char lsha[65], lsm3[65];
		json_object_object_add(e, "name", json_object_new_string(m[i]->norm));
		if (m[i]->link) {
			/* A link is listed by what it points at (dsse.h). */
			struct json_object *an = json_object_new_object();
			uint8_t dgst[32];
			tg_digest(TG_HASH_SHA256, m[i]->link, strlen(m[i]->link), dgst);
			tg_hex_encode(dgst, 32, lsha);
			tg_digest(TG_HASH_SM3, m[i]->link, strlen(m[i]->link), dgst);
			tg_hex_encode(dgst, 32, lsm3);
			sha = lsha;
			sm = lsm3;
			json_object_object_add(an, TG_ANNOT_LINK, json_object_new_string(m[i]->type));
			json_object_object_add(an, TG_ANNOT_TARGET, json_object_new_string(m[i]->link));
			json_object_object_add(e, "annotations", an);
		}
		json_object_object_add(dg, "sha256", json_object_new_string(sha));
		if (sm3)
			json_object_object_add(dg, "sm3", json_object_new_string(sm));
		json_object_object_add(e, "digest", dg);
		json_object_array_add(subj, e);
	}
	json_object_object_add(o, "_type", json_object_new_string(TG_INTOTO_STATEMENT));
	json_object_object_add(o, "subject", subj);
	json_object_object_add(o, "predicateType", json_object_new_string(TG_PACKAGE_PREDICATE));
	json_object_object_add(pred, "supplier", json_object_new_string(supplier));
	json_object_object_add(pred, "product", json_object_new_string(product));
	json_object_object_add(pred, "version", json_object_new_string(version));
	json_object_object_add(o, "predicate", pred);
	*count = n;
	return strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The DSSE envelope line: signature over PAE(payloadType, statement). */
static enum tg_err envelope_line(const struct tg_privkey *k, const char *st, char **ret, struct tg_diag *d)
{
	size_t sl = strlen(st), pl;
	_cleanup_free_ char *pae = NULL, *b64p = NULL, *b64s = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	_cleanup_json_ struct json_object *env = json_object_new_object();
	struct json_object *sigs = json_object_new_array(), *one = json_object_new_object();
	size_t siglen = 0;
	enum tg_err r;
	int n;

	if (!env || !sigs || !one || sl > TG_MAX_MANIFEST / 2) {
		json_object_put(sigs);
		json_object_put(one);
		return env && sigs && one ? tg_fail(d, TG_E_LIMIT, "manifest over %u bytes", TG_MAX_MANIFEST / 2)
					  : TG_E_NOMEM;
	}
	n = asprintf(&pae, "DSSEv1 %zu %s %zu %s", strlen(TG_INTOTO_PAYLOAD_TYPE), TG_INTOTO_PAYLOAD_TYPE, sl, st);
	if (n < 0) {
		pae = NULL;
		json_object_put(sigs);
		json_object_put(one);
		return TG_E_NOMEM;
	}
	pl = (size_t)n;
	r = tg_privkey_sign(k, tg_span_make((const uint8_t *)pae, pl), &sig, &siglen, d);
	if (r == TG_OK && (!(b64p = tg_base64_encode((const uint8_t *)st, sl)) || !(b64s = tg_base64_encode(sig, siglen))))
		r = TG_E_NOMEM;
	if (r != TG_OK) {
		json_object_put(sigs);
		json_object_put(one);
		return r;
	}
	json_object_object_add(env, "payloadType", json_object_new_string(TG_INTOTO_PAYLOAD_TYPE));
	json_object_object_add(env, "payload", json_object_new_string(b64p));
	json_object_object_add(one, "keyid", json_object_new_string(k->pub->fingerprint));
	json_object_object_add(one, "sig", json_object_new_string(b64s));
	json_object_array_add(sigs, one);
	json_object_object_add(env, "signatures", sigs);
	if (asprintf(ret, "%s\n", json_object_to_json_string_ext(env, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE)) < 0) {
		*ret = NULL;
		return TG_E_NOMEM;
	}
	return TG_OK;
}

/* Read the written copy back: the same root files with the same digests,
 * and our manifest, byte for byte.  Stops a copy that would not verify
 * (the input changed between the two reads, or the writer altered a
 * member) from ever leaving as "signed". */
static enum tg_err verify_copy(int fd, const char *out, const struct tg_ar_result *signed_, const char *line,
			       struct tg_diag *d)
{
	struct tg_ar_result o = { .hash_all = true };
	size_t na = 0, nb = 0;
	enum tg_err r;

	if (lseek(fd, 0, SEEK_SET) != 0)
		return tg_fail(d, TG_E_IO, "%s: %s", out, strerror(errno));
	r = tg_archive_walk(fd_read, &fd, out, &o, d);
	if (r == TG_OK) {
		_cleanup_free_ const struct tg_ar_member **a = root_files(signed_, &na);
		_cleanup_free_ const struct tg_ar_member **b = root_files(&o, &nb);
		if (!a || !b)
			r = TG_E_NOMEM;
		else if (na != nb || !o.manifest || o.manifest_len != strlen(line) || memcmp(o.manifest, line, o.manifest_len))
			r = tg_fail(d, TG_E_IO, "%s: the written copy does not read back as signed; removed", out);
		for (size_t i = 0; r == TG_OK && i < na; i++)
			if (strcmp(a[i]->norm, b[i]->norm) != 0 || strcmp(a[i]->sha256, b[i]->sha256) != 0 ||
			    strcmp(a[i]->type, b[i]->type) != 0 || !a[i]->link != !b[i]->link ||
			    (a[i]->link && strcmp(a[i]->link, b[i]->link) != 0))
				r = tg_fail(d, TG_E_IO, "%s: %s reads back differently from the input; removed", out,
					    b[i]->path);
	}
	tg_archive_result_release(&o);
	return r;
}

static int cmd_sign(struct tg_ctx *ctx, int argc, char **argv)
{
	const char *keyf = NULL, *product = NULL, *version = NULL, *out = NULL, *supplier = NULL;
	const struct tg_opt opts[] = {
		{ "key", true, &keyf, NULL },
		{ "product", true, &product, NULL },
		{ "version", true, &version, NULL },
		{ "out", true, &out, NULL },
		{ "supplier", true, &supplier, NULL },
		{ NULL, false, NULL, NULL },
	};
	_cleanup_(privkey_freep) struct tg_privkey *k = NULL;
	_cleanup_free_ uint8_t *pem = NULL;
	_cleanup_free_ char *st = NULL, *line = NULL, *tmp = NULL, *sup = NULL;
	_cleanup_close_ int fd = -1, ofd = -1;
	struct tg_diag d = { { 0 } };
	struct tg_ar_result ar = { 0 };
	size_t pem_len = 0, count = 0;
	uint64_t size;
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);

	if (r == TG_OK && (!keyf || !product || !version || !out || !*out))
		r = tg_fail(&d, TG_E_USAGE, "vendor sign needs --key, --product, --version and --out");
	if (r == TG_OK)
		r = tg_cli_name_arg("--product", product, &d);
	if (r == TG_OK && supplier)
		r = tg_cli_name_arg("--supplier", supplier, &d);
	if (r == TG_OK && !tg_version_valid(version))
		r = tg_fail(&d, TG_E_USAGE, "'%s' is not a version", version);
	if (r == TG_OK)
		r = tg_file_read(keyf, 64 * 1024, &pem, &pem_len, &d);
	if (r == TG_OK)
		r = tg_privkey_parse(tg_span_make(pem, pem_len), keyf, &k, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);

	/* The predicate must name the supplier `check` will find behind the
	 * key; without --supplier it comes from the records. */
	if (supplier) {
		sup = strdup(supplier);
	} else {
		_cleanup_(tg_db_closep) struct tg_db *db = NULL;
		struct tg_keyrec kr = { 0 };
		r = tg_cli_open_db(ctx, &db, &d);
		if (r == TG_OK)
			r = tg_rec_key_get(db, k->pub->fingerprint, &kr, &d);
		if (r == TG_E_NOTFOUND || (r == TG_OK && !kr.supplier))
			r = tg_fail(&d, TG_E_NOTFOUND, "%s: key %s is not in the records; name the supplier with --supplier",
				    keyf, k->pub->fingerprint);
		else if (r == TG_OK)
			sup = strdup(kr.supplier);
		tg_keyrec_release(&kr);
		if (r != TG_OK)
			return tg_cli_fail(ctx, r, &d);
	}
	if (!sup)
		return tg_cli_fail(ctx, TG_E_NOMEM, &d);

	/* Sign only what check would accept as a package: the same walk,
	 * every member hashed (SM3 too for an SM2 key, as --gm requires). */
	ar.hash_all = true;
	ar.hash_sm3 = k->pub->type == TG_KEY_SM2;
	r = tg_file_open(pos[0], TG_MAX_BLOB_SIZE, &fd, &size, &d);
	if (r == TG_OK)
		r = tg_archive_walk(fd_read, &fd, pos[0], &ar, &d);
	if (r == TG_OK && ar.stopped)
		r = tg_fail(&d, TG_E_LIMIT, "%s: over the package limits; not signed", pos[0]);
	for (size_t i = 0; r == TG_OK && i < ar.nf; i++)
		if (ar.f[i].sev == TG_AR_ALWAYS)
			r = tg_fail(&d, TG_E_FORMAT, "%s: %s: %s; not signed", pos[0], ar.f[i].code, ar.f[i].detail);
	if (r == TG_OK && ar.manifest)
		r = tg_fail(&d, TG_E_EXISTS, "%s: already carries %s", pos[0], TG_MANIFEST_NAME);
	if (r == TG_OK && ar.deb_version[0])
		r = tg_fail(&d, TG_E_UNSUPPORTED, "%s: a .deb has a fixed member list; sign it detached (--sig)", pos[0]);
	if (r == TG_OK && !(st = statement_json(&ar, sup, product, version, ar.hash_sm3, &count)))
		r = TG_E_NOMEM;
	if (r == TG_OK && count == 0)
		r = tg_fail(&d, TG_E_FORMAT, "%s: no files to sign", pos[0]);
	for (size_t i = 0; r == TG_OK && i < ar.nf; i++)
		if (ar.f[i].sev == TG_AR_STRICT)
			fprintf(stderr, "trustgate: warning: %s: %s: %s (rejected by check from tier 3)\n", pos[0],
				ar.f[i].code, ar.f[i].detail);
	if (r == TG_OK)
		r = envelope_line(k, st, &line, &d);

	/* Written beside FILE and renamed into place: FILE is either the
	 * complete signed copy or untouched. */
	if (r == TG_OK && (asprintf(&tmp, "%s.XXXXXX", out) < 0 || (ofd = mkstemp(tmp)) < 0)) {
		if (ofd < 0 && tmp)
			r = tg_fail(&d, TG_E_IO, "%s: %s", out, strerror(errno));
		else
			r = TG_E_NOMEM;
	}
	if (r == TG_OK && lseek(fd, 0, SEEK_SET) != 0)
		r = tg_fail(&d, TG_E_IO, "%s: %s", pos[0], strerror(errno));
	if (r == TG_OK)
		r = tg_archive_rewrite(fd, pos[0], ofd, out, TG_MANIFEST_NAME, (const uint8_t *)line, strlen(line), &d);
	if (r == TG_OK)
		r = verify_copy(ofd, out, &ar, line, &d);
	tg_archive_result_release(&ar);
	if (r == TG_OK && (fchmod(ofd, 0644) != 0 || fsync(ofd) != 0 || rename(tmp, out) != 0))
		r = tg_fail(&d, TG_E_IO, "%s: %s", out, strerror(errno));
	if (r != TG_OK) {
		if (ofd >= 0)
			unlink(tmp);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		tg_json_str(o, "out", out);
		tg_json_str(o, "supplier", sup);
		tg_json_str(o, "product", product);
		tg_json_str(o, "version", version);
		tg_json_str(o, "key", k->pub->fingerprint);
		json_object_object_add(o, "members", json_object_new_int64((int64_t)count));
		tg_cli_print_json(o);
	} else {
		printf("%s: %s %s by %s, %zu members signed with %s\n", out, product, version, sup, count,
		       k->pub->fingerprint);
	}
	return TG_EXIT_OK;
}

int tg_cmd_vendor(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "sign", cmd_sign },
		{ "manifest", cmd_manifest },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "vendor sign|manifest ARCHIVE ...");
}
