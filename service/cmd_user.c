/* trustgate user add|list|revoke: client certificates of the service. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "service.h"
#include "pki.h"
#include "users.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/records.h"

static struct json_object *user_json(const struct tg_user *u)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "name", u->name);
	tg_json_str(o, "role", u->role);
	tg_json_str(o, "host", u->host);
	tg_json_str(o, "ak_fingerprint", u->ak_fingerprint);
	tg_json_str(o, "serial", u->serial);
	tg_json_str(o, "fingerprint", u->fingerprint);
	tg_json_str(o, "subject", u->subject);
	tg_json_str(o, "not_after", u->not_after);
	tg_json_str(o, "created_at", u->created_at);
	tg_json_str(o, "created_by", u->created_by);
	tg_json_str(o, "revoked_at", u->revoked_at);
	tg_json_str(o, "revoked_by", u->revoked_by);
	return o;
}

struct out_files {
	char *pem, *key, *p12, *pass;
};

static void out_files_unlink(struct out_files *f)
{
	char *all[] = { f->pem, f->key, f->p12, f->pass };

	for (size_t i = 0; i < TG_ARRAY_SIZE(all); i++)
		if (all[i])
			unlink(all[i]);
}

static void out_files_release(struct out_files *f)
{
	free(f->pem);
	free(f->key);
	free(f->p12);
	free(f->pass);
}

/* NAME.pem, NAME.key, NAME.p12 (+ NAME.p12.pass when the password was
 * made here) in dir, none over an existing file; only NAME.pem for a
 * certificate issued to a request (the key never came here). */
static enum tg_err write_out(const char *dir, const char *name, const struct tg_issued *is, const char *pass,
			     bool pass_made, struct out_files *f, struct tg_diag *d)
{
	const bool keyed = is->key_pem != NULL;
	enum tg_err r;

	if (asprintf(&f->pem, "%s/%s.pem", dir, name) < 0 ||
	    (keyed && (asprintf(&f->key, "%s/%s.key", dir, name) < 0 || asprintf(&f->p12, "%s/%s.p12", dir, name) < 0)) ||
	    (keyed && pass_made && asprintf(&f->pass, "%s/%s.p12.pass", dir, name) < 0))
		return TG_E_NOMEM;
	char *made[4] = { 0 };
	r = keyed ? tg_file_write_new(f->key, is->key_pem, strlen(is->key_pem), 0600, d) : TG_OK;
	if (r == TG_OK) {
		made[0] = f->key;
		r = tg_file_write_new(f->pem, is->cert_pem, strlen(is->cert_pem), 0644, d);
	}
	if (r == TG_OK && keyed) {
		made[1] = f->pem;
		r = tg_file_write_new(f->p12, is->p12, is->p12_len, 0600, d);
	}
	if (r == TG_OK && keyed) {
		made[2] = f->p12;
		if (pass_made) {
			_cleanup_free_ char *line = NULL;
			if (asprintf(&line, "%s\n", pass) < 0)
				r = TG_E_NOMEM;
			else
				r = tg_file_write_new(f->pass, line, strlen(line), 0600, d);
		}
	}
	if (r != TG_OK)
		for (size_t i = 0; i < 3; i++)
			if (made[i])
				unlink(made[i]);
	return r;
}

/* trustgate user add NAME --role ROLE (--out DIR | --csr FILE [--out DIR])
 *     [--ca DIR] [--days N] [--not-after DATE] [--p12-pass-file FILE] */
static int cmd_add(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	_cleanup_free_ uint8_t *passbuf = NULL;
	_cleanup_free_ char *csrbuf = NULL;
	const char *role = NULL, *outdir = NULL, *ca = NULL, *days_s = NULL, *not_after_s = NULL, *pass_file = NULL;
	const char *csr = NULL;
	const struct tg_opt opts[] = {
		{ "role", true, &role, NULL },         { "out", true, &outdir, NULL },
		{ "csr", true, &csr, NULL },
		{ "ca", true, &ca, NULL },             { "days", true, &days_s, NULL },
		{ "not-after", true, &not_after_s, NULL }, { "p12-pass-file", true, &pass_file, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_issued is = { 0 };
	struct tg_host host = { 0 };
	struct out_files files = { 0 };
	struct tg_user u = { 0 };
	char now[32], passhex[33], **pos;
	const char *pass = NULL;
	int64_t not_after = 0;
	unsigned long long days = 365;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if ((r = tg_cli_name_arg("user name", pos[0], &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!role || !tg_role_ok(role))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "user add: --role is one of %s", TG_ROLES), &d);
	if (!outdir && !csr)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "user add: --out DIR is required (where the "
							      "certificate, key and PKCS#12 go)"), &d);
	if (csr && pass_file)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "user add: --csr issues no PKCS#12 (the key stays with "
							      "the requester): no --p12-pass-file"), &d);
	if (csr && (r = tg_pki_csr_load(csr, &csrbuf, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (days_s && not_after_s)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "user add: --days and --not-after exclude each other"), &d);
	if (days_s && !tg_parse_uint(days_s, 1, 3650, &days))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--days must be 1 to 3650"), &d);
	if (not_after_s && !tg_parse_date(not_after_s, &not_after))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--not-after '%s' is not a date YYYY-MM-DD", not_after_s), &d);
	if (pass_file) {
		size_t n = 0;
		r = tg_file_read(pass_file, 1024, &passbuf, &n, &d);
		if (r != TG_OK)
			return tg_cli_fail(ctx, r, &d);
		while (n && (passbuf[n - 1] == '\n' || passbuf[n - 1] == '\r'))
			n--;
		passbuf[n] = 0;   /* tg_file_read leaves room for a NUL */
		if (n < 8 || strlen((char *)passbuf) != n)
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "%s: a PKCS#12 password of at least 8 characters, "
								      "one line", pass_file), &d);
		pass = (const char *)passbuf;
	} else if (!csr) {
		uint8_t rnd[16];
		if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) < 0)
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_CRYPTO, "no randomness for a password"), &d);
		tg_hex_encode(rnd, sizeof(rnd), passhex);
		pass = passhex;
	}
	ca = tg_service_ca_dir(ca);

	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_service_ca_pinned(db, ca, &d);
	/* A host's certificate speaks for one enrolled host, bound to the AK
	 * it enrolled with: the service checks both on every attestation. */
	if (r == TG_OK && strcmp(role, "host") == 0) {
		r = tg_rec_host_get(db, pos[0], &host, &d);
		if (r == TG_E_NOTFOUND)
			r = tg_fail(&d, TG_E_NOTFOUND, "host '%s' is not enrolled (a host certificate is issued to an "
							 "enrolled host: trustgate host enroll)", pos[0]);
	}
	if (r == TG_OK) {
		struct tg_user cur = { 0 };
		enum tg_err e = tg_user_get_active(db, pos[0], &cur, &d);
		tg_user_release(&cur);
		if (e == TG_OK)
			r = tg_fail(&d, TG_E_EXISTS, "user '%s' already has a certificate in force (revoke it first)", pos[0]);
		else if (e != TG_E_NOTFOUND)
			r = e;
	}
	if (r == TG_OK)
		r = tg_pki_issue(ca, pos[0], role, (unsigned)days, not_after, pass, csrbuf, &is, &d);
	if (r == TG_OK && outdir)
		r = write_out(outdir, pos[0], &is, pass, !pass_file, &files, &d);
	if (r != TG_OK) {
		tg_host_release(&host);
		tg_issued_release(&is);
		out_files_release(&files);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_now_iso(now);
	u.name = pos[0];
	u.role = (char *)role;
	u.host = host.name;
	u.ak_fingerprint = host.ak_fingerprint;
	u.serial = is.serial;
	u.fingerprint = is.fingerprint;
	u.subject = is.subject;
	u.not_after = is.not_after;
	u.created_at = now;
	u.created_by = (char *)ctx->actor;
	detail = user_json(&u);
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_user_insert(db, &u, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "user.add", u.name, detail, &d);
	else
		tg_db_rollback(db);
	if (r != TG_OK) {
		/* Not recorded: the files would be a certificate nobody knows. */
		out_files_unlink(&files);
	} else {
		if (not_after_s)
			tg_cli_warn_past("--not-after", not_after_s);
		if (ctx->json) {
			tg_json_str(detail, "cert_file", files.pem);
			tg_json_str(detail, "key_file", files.key);
			tg_json_str(detail, "p12_file", files.p12);
			tg_json_str(detail, "p12_password_file", files.pass);
			if (csr)
				tg_json_str(detail, "cert_pem", is.cert_pem);
			tg_cli_print_json(detail);
		} else if (!outdir) {
			fputs(is.cert_pem, stdout);
		} else if (csr) {
			printf("user %s (%s): certificate %s (for the key of %s)\n  subject %s\n  valid until %s\n", u.name,
			       role, files.pem, csr, u.subject, u.not_after);
		} else {
			printf("user %s (%s): certificate %s, key %s, PKCS#12 %s", u.name, role, files.pem, files.key,
			       files.p12);
			if (files.pass)
				printf(" (password in %s)", files.pass);
			printf("\n  subject %s\n  valid until %s\n", u.subject, u.not_after);
		}
	}
	tg_host_release(&host);
	tg_issued_release(&is);
	out_files_release(&files);
	return r == TG_OK ? TG_EXIT_OK : tg_cli_fail(ctx, r, &d);
}

struct revoked {
	char **serial;
	int64_t *when;
	size_t n, cap, cap2;
};

static enum tg_err collect_revoked(const struct tg_user *u, void *ud)
{
	struct revoked *rv = ud;
	int64_t t = 0;

	if (!u->revoked_at)
		return TG_OK;
	if (tg_grow(rv->serial, rv->cap, rv->n, 16) != TG_OK || tg_grow(rv->when, rv->cap2, rv->n, 16) != TG_OK)
		return TG_E_NOMEM;
	if (!tg_parse_date(u->revoked_at, &t))
		t = tg_now_epoch();
	rv->when[rv->n] = t;
	if (!(rv->serial[rv->n] = tg_strdup(u->serial)))
		return TG_E_NOMEM;
	rv->n++;
	return TG_OK;
}

static void revoked_release(struct revoked *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		free(rv->serial[i]);
	free(rv->serial);
	free(rv->when);
}

enum tg_err tg_service_crl_rewrite(struct tg_db *db, const char *ca, int64_t next_update, size_t *ret_n,
				   struct tg_diag *d)
{
	struct revoked rv = { 0 };
	enum tg_err r = tg_user_each(db, collect_revoked, &rv, d);

	if (r == TG_OK)
		r = tg_pki_crl_write(ca, rv.serial, rv.when, rv.n, next_update, d);
	*ret_n = rv.n;
	revoked_release(&rv);
	return r;
}

/* trustgate user revoke NAME --reason TEXT [--ca DIR]
 * The row is marked revoked and the CRL rewritten inside one transaction:
 * the CRL is written first, so a failed commit leaves a CRL that revokes
 * more, never less. */
static int cmd_revoke(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *ca = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "ca", true, &ca, NULL }, { "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_user u = { 0 };
	size_t entries = 0;
	char now[32], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if ((r = tg_cli_name_arg("user name", pos[0], &d)) != TG_OK ||
	    (r = tg_cli_text_arg("user revoke: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	ca = tg_service_ca_dir(ca);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_service_ca_pinned(db, ca, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_now_iso(now);
	r = tg_user_get_active(db, pos[0], &u, &d);
	if (r == TG_OK)
		r = tg_user_revoke(db, u.id, now, ctx->actor, &d);
	if (r == TG_OK)
		r = tg_service_crl_rewrite(db, ca, 0, &entries, &d);
	if (r == TG_OK) {
		detail = json_object_new_object();
		tg_json_str(detail, "role", u.role);
		tg_json_str(detail, "serial", u.serial);
		tg_json_str(detail, "fingerprint", u.fingerprint);
		tg_json_str(detail, "reason", reason);
		json_object_object_add(detail, "crl_entries", json_object_new_int64((int64_t)entries));
		r = tg_cli_audit_commit(ctx, db, "user.revoke", u.name, detail, &d);
	} else {
		tg_db_rollback(db);
	}
	if (r != TG_OK) {
		tg_user_release(&u);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("user %s revoked (serial %s); %s/crl.pem rewritten — a running serve refuses it now and reads "
		       "the CRL again on SIGHUP\n", u.name, u.serial, ca);
	tg_user_release(&u);
	return TG_EXIT_OK;
}

struct list_ctx {
	struct json_object *arr;
};

static enum tg_err list_one(const struct tg_user *u, void *ud)
{
	struct list_ctx *l = ud;

	if (l->arr) {
		json_object_array_add(l->arr, user_json(u));
		return TG_OK;
	}
	printf("%-20s %-12s %-10s until %s  serial %.16s...%s%s%s\n", u->name, u->role, u->revoked_at ? "REVOKED" : "active",
	       u->not_after, u->serial, u->host ? "  host " : "", u->host ? u->host : "",
	       u->revoked_at ? "" : "");
	return TG_OK;
}

static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const struct tg_opt opts[] = { { NULL, false, NULL, NULL } };
	struct tg_diag d = { { 0 } };
	struct list_ctx l = { 0 };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		l.arr = arr = json_object_new_array();
	r = tg_user_each(db, list_one, &l, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return fflush(stdout) == 0 ? TG_EXIT_OK : TG_EXIT_ERROR;
}

int tg_cmd_user(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "list", cmd_list },
		{ "revoke", cmd_revoke },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "user add|list|revoke ...");
}
