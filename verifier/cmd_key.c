/* trustgate key add|revoke|list|show */
#include <string.h>

#include "cli.h"
#include "reevaluate.h"
#include "../common/crypto.h"
#include "../common/file.h"
#include "../common/encoding.h"
#include "../db/records.h"
#include "../firmware/dtbkeys.h"
#include "../firmware/fit.h"
#include "openpgp.h"

static const char *const purposes_known[] = { "package", "firmware", "ak", "ek-ca" };

/* A comma list of known purposes, each at most once. */
static bool purposes_ok(const char *list)
{
	_cleanup_free_ char *copy = tg_strdup(list);
	unsigned seen = 0;
	char *save = NULL;

	if (!copy || !*copy)
		return false;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < TG_ARRAY_SIZE(purposes_known); i++)
			if (strcmp(t, purposes_known[i]) == 0)
				break;
		if (i == TG_ARRAY_SIZE(purposes_known) || (seen & (1u << i)))
			return false;
		seen |= 1u << i;
	}
	return true;
}

/* The digests a key of this type may be pinned to (THREATS cases 35, 40:
 * the algorithm is fixed by the key record, not by the signature). */
static bool hashes_fit_key(const struct tg_key *k, unsigned mask)
{
	unsigned allowed;

	switch (k->type) {
	case TG_KEY_RSA:
	case TG_KEY_P256:
	case TG_KEY_P384:
		allowed = 1u << TG_HASH_SHA1 | 1u << TG_HASH_SHA256 | 1u << TG_HASH_SHA384 |
			  1u << TG_HASH_SHA512;
		break;
	case TG_KEY_ED25519:
		allowed = 1u << TG_HASH_SHA512;
		break;
	case TG_KEY_SM2:
		allowed = 1u << TG_HASH_SM3;
		break;
	default:
		return false;
	}
	return (mask & ~allowed) == 0;
}

static struct json_object *key_json(const struct tg_keyrec *k)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "fingerprint", k->fingerprint);
	tg_json_str(o, "supplier", k->supplier);
	tg_json_str(o, "algorithm", k->algorithm);
	json_object_object_add(o, "bits", json_object_new_int(k->bits));
	tg_json_str(o, "hashes", k->hashes);
	tg_json_str(o, "purposes", k->purposes);
	tg_json_str(o, "name", k->name);
	tg_json_str(o, "not_before", k->not_before);
	tg_json_str(o, "not_after", k->not_after);
	tg_json_str(o, "added_at", k->added_at);
	tg_json_str(o, "revoked_at", k->revoked_at);
	tg_json_str(o, "revoke_reason", k->revoke_reason);
	json_object_object_add(o, "certificate", json_object_new_boolean(k->cert != NULL));
	if (k->fit_required || k->fit_mode || k->fit_group) {
		tg_json_str(o, "fit_required", k->fit_required);
		tg_json_str(o, "fit_mode", k->fit_mode);
		tg_json_str(o, "fit_group", k->fit_group);
	}
	return o;
}

/* Open the transaction that adds keys to a supplier (never a revoked one). */
static enum tg_err begin_for_supplier(struct tg_db *db, const char *name, struct tg_supplier *s, struct tg_diag *d)
{
	enum tg_err r = tg_db_begin(db, d);

	if (r == TG_OK)
		r = tg_rec_supplier_get(db, name, s, d);
	if (r == TG_OK && strcmp(s->status, "revoked") == 0)
		r = tg_fail(d, TG_E_USAGE, "supplier '%s' is revoked; no keys can be added", s->name);
	return r;
}

/* `key add SUPPLIER control.dtb`: every /signature/key-* node becomes a
 * firmware key pinned to the digest its algo names, keeping `required` and
 * the DTB's required-mode for the group imported together.  All or
 * nothing: one transaction, one audit row per key. */
static int add_dtb_keys(struct tg_ctx *ctx, struct tg_db *db, char **pos, const uint8_t *buf, size_t len,
			const char *purpose, const char *name, const char *nb_iso, const char *na_iso,
			const char *hash, const char *reason)
{
	struct tg_diag d = { { 0 } };
	struct tg_dtb_keys dk;
	struct tg_supplier s = { 0 };
	char now[32], group[65];
	enum tg_err r;

	if (hash)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--hash cannot be used with a control DTB: each key's "
						"algo pins its digest"), &d);
	if (strcmp(purpose, "firmware") != 0)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "keys from a control DTB are firmware keys "
						"(--purpose firmware)"), &d);
	r = tg_dtb_keys_parse(buf, len, pos[1], &dk, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_hex_encode(dk.sha256, 32, group);
	tg_now_iso(now);
	r = begin_for_supplier(db, pos[0], &s, &d);
	for (size_t i = 0; r == TG_OK && i < dk.n; i++) {
		struct tg_dtb_key *k = &dk.k[i];
		struct tg_keyrec rec = { 0 };
		_cleanup_json_ struct json_object *detail = NULL;
		rec.supplier_id = s.id;
		rec.supplier = s.name;
		rec.fingerprint = k->key->fingerprint;
		rec.algorithm = (char *)tg_key_algorithm(k->key);
		rec.bits = (int)k->key->bits;
		rec.hashes = (char *)tg_hash_name(k->hash);
		rec.purposes = (char *)purpose;
		rec.name = (char *)(name ? name : k->hint ? k->hint : k->node);
		rec.spki = k->key->spki;
		rec.spki_len = k->key->spki_len;
		rec.not_before = (char *)nb_iso;
		rec.not_after = (char *)na_iso;
		rec.added_at = now;
		rec.fit_required = (char *)k->required;
		rec.fit_mode = (char *)dk.mode;
		rec.fit_group = group;
		detail = key_json(&rec);
		tg_json_str(detail, "reason", reason);
		tg_json_str(detail, "source", "U-Boot control DTB");
		r = tg_rec_key_insert(db, &rec, &d);
		if (r == TG_OK)
			r = tg_audit_append(db, ctx->actor, "key.add", k->key->fingerprint,
					    json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN |
									   JSON_C_TO_STRING_NOSLASHESCAPE), &d);
		if (r == TG_OK && !ctx->json)
			printf("key %s (%s, %s%s%s) added to %s for firmware\n", k->key->fingerprint, rec.algorithm,
			       rec.name, k->required ? ", required for " : "", k->required ? k->required : "", pos[0]);
	}
	if (r == TG_OK)
		r = tg_db_commit(db, &d);
	else
		tg_db_rollback(db);
	tg_supplier_release(&s);
	if (r != TG_OK) {
		tg_dtb_keys_release(&dk);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		for (size_t i = 0; i < dk.n; i++)
			json_object_array_add(a, json_object_new_string(dk.k[i].key->fingerprint));
		json_object_object_add(o, "keys", json_object_get(a));
		tg_json_str(o, "required_mode", dk.mode);
		tg_json_str(o, "group", group);
		tg_cli_print_json(o);
	}
	tg_dtb_keys_release(&dk);
	return TG_EXIT_OK;
}

/* `key add SUPPLIER keyring.gpg` with several OpenPGP primary keys (a
 * distribution's archive keyring): each becomes a key record.  All or
 * nothing: one transaction, one audit row per key. */
static int add_pgp_keyring(struct tg_ctx *ctx, struct tg_db *db, char **pos, struct tg_pgp_key *keys, size_t n,
			   const char *purpose, const char *name, const char *nb_iso, const char *na_iso,
			   const char *reason)
{
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	char now[32];
	enum tg_err r;

	tg_now_iso(now);
	r = begin_for_supplier(db, pos[0], &s, &d);
	for (size_t i = 0; r == TG_OK && i < n; i++) {
		struct tg_keyrec rec = { 0 };
		_cleanup_json_ struct json_object *detail = NULL;
		rec.supplier_id = s.id;
		rec.supplier = s.name;
		rec.fingerprint = keys[i].fingerprint;
		rec.algorithm = keys[i].algorithm;
		rec.bits = keys[i].bits;
		rec.hashes = "sha256,sha384,sha512";
		rec.purposes = (char *)purpose;
		rec.name = (char *)name;
		rec.spki = keys[i].binary;
		rec.spki_len = keys[i].len;
		rec.not_before = (char *)nb_iso;
		rec.not_after = (char *)na_iso;
		rec.added_at = now;
		detail = key_json(&rec);
		tg_json_str(detail, "reason", reason);
		tg_json_str(detail, "source", "OpenPGP keyring");
		r = tg_rec_key_insert(db, &rec, &d);
		if (r == TG_OK)
			r = tg_audit_append(db, ctx->actor, "key.add", keys[i].fingerprint,
					    json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN |
									   JSON_C_TO_STRING_NOSLASHESCAPE), &d);
	}
	if (r == TG_OK)
		r = tg_db_commit(db, &d);
	else
		tg_db_rollback(db);
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, json_object_new_string(keys[i].fingerprint));
		json_object_object_add(o, "keys", json_object_get(a));
		tg_cli_print_json(o);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("key %s (%s) added to %s for %s\n", keys[i].fingerprint, keys[i].algorithm, pos[0], purpose);
	}
	return TG_EXIT_OK;
}

static int cmd_add(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_key_ struct tg_key *key = NULL;
	const char *purpose = NULL, *name = NULL, *not_before = NULL, *not_after = NULL;
	const char *hash = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "purpose", true, &purpose, NULL },   { "name", true, &name, NULL },
		{ "not-before", true, &not_before, NULL }, { "not-after", true, &not_after, NULL },
		{ "hash", true, &hash, NULL },         { "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct tg_keyrec rec = { 0 };
	char now[32], nb_iso[32], na_iso[32], **pos;
	int64_t nb = 0, na = 0;
	unsigned mask = 0;
	size_t len = 0;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 2, 2, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if ((r = tg_cli_text_arg("key add: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	bool purpose_given = purpose != NULL;
	if (!purpose)
		purpose = "package,firmware";
	if (!purposes_ok(purpose))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--purpose '%s': use package,firmware,ak,ek-ca", purpose), &d);
	if (name && (r = tg_cli_text_arg("--name", name, TG_MAX_NAME, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (not_before && !tg_parse_date(not_before, &nb))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--not-before '%s' is not a date YYYY-MM-DD", not_before), &d);
	if (not_after && !tg_parse_date(not_after, &na))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--not-after '%s' is not a date YYYY-MM-DD", not_after), &d);
	if (not_before && not_after && na <= nb)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--not-after must be later than --not-before"), &d);
	if (hash && !tg_hash_parse_list(hash, &mask))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--hash '%s': use sha1,sha256,sha384,sha512,sm3", hash), &d);

	/* Inputs first: a bad key file changes nothing in the records. */
	struct tg_pgp_key pgp = { 0 };
	bool is_pgp = false;
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_file_read(pos[1], TG_MAX_KEY_FILE, &buf, &len, &d);
	if (r == TG_OK && tg_fit_magic(buf, len)) {
		char nbs[32] = "", nas[32] = "";
		if (nb)
			tg_epoch_iso(nb, nbs);
		if (na)
			tg_epoch_iso(na, nas);
		return add_dtb_keys(ctx, db, pos, buf, len, purpose_given ? purpose : "firmware", name,
				    nb ? nbs : NULL, na ? nas : NULL, hash, reason);
	}
	if (r == TG_OK) {
		/* `gpg --export` output: armored, or a public-key packet (tag 6). */
		is_pgp = (len > 36 && memcmp(buf, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36) == 0) ||
			 (len > 2 && (buf[0] & 0x80) &&
			  (((buf[0] & 0x40) ? (buf[0] & 0x3f) : ((buf[0] >> 2) & 0x0f)) == 6));
		if (is_pgp) {
			struct tg_pgp_key *ring = NULL;
			size_t nring = 0;
			r = tg_pgp_keyring_split(tg_span_make(buf, len), pos[1], &ring, &nring, &d);
			if (r == TG_OK && nring > 1) {
				char nbs[32] = "", nas[32] = "";
				int rc;
				if (hash)
					rc = tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--hash cannot be used with a keyring"), &d);
				else {
					if (nb)
						tg_epoch_iso(nb, nbs);
					if (na)
						tg_epoch_iso(na, nas);
					rc = add_pgp_keyring(ctx, db, pos, ring, nring, purpose, name, nb ? nbs : NULL,
							     na ? nas : NULL, reason);
				}
				for (size_t i = 0; i < nring; i++)
					tg_pgp_key_release(&ring[i]);
				free(ring);
				return rc;
			}
			if (r == TG_OK)
				pgp = ring[0];   /* one key: the path below, as before */
			free(ring);
		} else
			r = tg_key_parse(tg_span_make(buf, len), pos[1], &key, &d);
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (is_pgp) {
		/* Hold the OpenPGP key in the same record shape: the binary key
		 * in place of the SPKI, its v4 fingerprint. */
		key = tg_calloc(1, sizeof(*key));
		if (!key) {
			tg_pgp_key_release(&pgp);
			return tg_cli_fail(ctx, TG_E_NOMEM, &d);
		}
		key->type = TG_KEY_NONE;
		key->bits = (unsigned)pgp.bits;
		key->spki = pgp.binary;
		key->spki_len = pgp.len;
		pgp.binary = NULL;
		memcpy(key->fingerprint, pgp.fingerprint, 41);
		if (hash && (mask & (1u << TG_HASH_SM3))) {
			tg_pgp_key_release(&pgp);
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--hash sm3 cannot be used with an OpenPGP key"), &d);
		}
	}
	if (!hash)
		tg_hash_parse_list(is_pgp ? "sha256,sha384,sha512" : tg_key_default_hashes(key), &mask);
	else if (!is_pgp && !hashes_fit_key(key, mask))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--hash '%s' cannot be used with a %s key", hash, tg_key_algorithm(key)), &d);
	/* A certificate narrows the window; it never widens --not-before/after. */
	if (key->cert && (!not_before || key->cert_not_before > nb))
		nb = key->cert_not_before;
	if (key->cert && (!not_after || key->cert_not_after < na))
		na = key->cert_not_after;

	_cleanup_free_ char *hashes = NULL;
	{
		char tmp[64] = "";
		for (unsigned h = 1; h < TG_HASH__COUNT; h++)
			if (mask & (1u << h)) {
				if (tmp[0])
					strcat(tmp, ",");
				strcat(tmp, tg_hash_name((enum tg_hash)h));
			}
		hashes = strdup(tmp);
	}
	tg_now_iso(now);
	r = begin_for_supplier(db, pos[0], &s, &d);
	if (r != TG_OK) {
		tg_supplier_release(&s);
		return tg_cli_fail(ctx, r, &d);
	}
	rec.supplier_id = s.id;
	rec.supplier = s.name;
	rec.fingerprint = key->fingerprint;
	rec.algorithm = is_pgp ? pgp.algorithm : (char *)tg_key_algorithm(key);
	rec.bits = (int)key->bits;
	rec.hashes = hashes;
	rec.purposes = (char *)purpose;
	rec.name = (char *)name;
	rec.spki = key->spki;
	rec.spki_len = key->spki_len;
	rec.cert = key->cert;
	rec.cert_len = key->cert_len;
	if (nb) {
		tg_epoch_iso(nb, nb_iso);
		rec.not_before = nb_iso;
	}
	if (na) {
		tg_epoch_iso(na, na_iso);
		rec.not_after = na_iso;
	}
	rec.added_at = now;
	detail = key_json(&rec);
	tg_json_str(detail, "reason", reason);
	if (key->cert_subject)
		tg_json_str(detail, "certificate_subject", key->cert_subject);
	r = tg_rec_key_insert(db, &rec, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "key.add", key->fingerprint, detail, &d);
	tg_supplier_release(&s);
	if (r != TG_OK) {
		tg_pgp_key_release(&pgp);
		return tg_cli_fail(ctx, r, &d);
	}
	if (rec.not_after)
		tg_cli_warn_past("the key's validity (--not-after or its certificate)", rec.not_after);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("key %s (%s) added to %s for %s\n", key->fingerprint, rec.algorithm, pos[0], purpose);
	tg_pgp_key_release(&pgp);
	return TG_EXIT_OK;
}

static int cmd_revoke(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *reason = NULL;
	const struct tg_opt opts[] = {
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_keyrec k = { 0 };
	char now[32], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if ((r = tg_cli_text_arg("key revoke: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	char fpr[65];
	tg_now_iso(now);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_key_resolve(db, pos[0], fpr, &d);
	if (r == TG_OK)
		r = tg_rec_key_get(db, fpr, &k, &d);
	if (r == TG_OK && k.revoked_at)
		r = tg_fail(&d, TG_E_USAGE, "key %s was already revoked at %s", fpr, k.revoked_at);
	if (r == TG_OK)
		r = tg_rec_key_revoke(db, k.id, now, reason, &d);
	if (r == TG_OK) {
		detail = json_object_new_object();
		tg_json_str(detail, "fingerprint", k.fingerprint);
		tg_json_str(detail, "supplier", k.supplier);
		tg_json_str(detail, "revoked_at", now);
		tg_json_str(detail, "reason", reason);
		r = tg_cli_audit_commit(ctx, db, "key.revoke", k.fingerprint, detail, &d);
	}
	tg_keyrec_release(&k);
	return tg_revoked_report(ctx, db, r, &d, detail, TG_IMPACT_KEY, fpr, NULL, NULL, NULL, "key", fpr);
}

struct key_filter {
	struct json_object *arr;
	const char *status, *before, *purpose;
	char today[32];
};

static const char *key_status(const struct tg_keyrec *k, const char *today)
{
	if (k->revoked_at)
		return "revoked";
	if (k->not_after && strncmp(k->not_after, today, 10) < 0)
		return "expired";
	if (k->not_before && strncmp(k->not_before, today, 10) > 0)
		return "not-yet-valid";
	return "active";
}

static bool has_purpose(const char *list, const char *p)
{
	size_t n = strlen(p);

	for (const char *q = list; q && *q;) {
		size_t len = strcspn(q, ",");
		if (len == n && strncmp(q, p, n) == 0)
			return true;
		q += len + (q[len] == ',');
	}
	return false;
}

static enum tg_err list_one(const struct tg_keyrec *k, void *ud)
{
	struct key_filter *f = ud;
	const char *st = key_status(k, f->today);

	if (f->status && strcmp(f->status, st) != 0)
		return TG_OK;
	if (f->purpose && !has_purpose(k->purposes, f->purpose))
		return TG_OK;
	/* --expiring-before D: keys whose validity ends before D */
	if (f->before && (!k->not_after || strncmp(k->not_after, f->before, 10) >= 0))
		return TG_OK;
	if (f->arr) {
		struct json_object *o = key_json(k);
		tg_json_str(o, "status", st);
		json_object_array_add(f->arr, o);
	} else {
		printf("%s  %s  %s  %s  %s%s%s\n", k->fingerprint, k->algorithm, k->supplier, k->purposes, st,
		       k->not_after ? "  until " : "", k->not_after ? k->not_after : "");
	}
	return TG_OK;
}

/* trustgate key list [SUPPLIER] [--supplier NAME] [--status S] [--purpose P]
 *                    [--expiring-before D] */
static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *supplier = NULL, *status = NULL, *purpose = NULL, *before = NULL;
	const struct tg_opt opts[] = {
		{ "supplier", true, &supplier, NULL }, { "status", true, &status, NULL },
		{ "purpose", true, &purpose, NULL },   { "expiring-before", true, &before, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct key_filter f = { NULL };
	char **pos;
	int npos;
	int64_t t;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 1, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (npos == 1 && supplier)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "key list: SUPPLIER and --supplier are the same; give one"), &d);
	if (npos == 1)
		supplier = pos[0];
	if (status && strcmp(status, "active") && strcmp(status, "revoked") && strcmp(status, "expired") &&
	    strcmp(status, "not-yet-valid"))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--status '%.32s': one of active, revoked, expired, "
						   "not-yet-valid", status), &d);
	if (purpose && !purposes_ok(purpose))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--purpose '%.32s': one of package, firmware, ak, ek-ca",
						purpose), &d);
	if (before && !tg_parse_date(before, &t))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--expiring-before '%.32s' is not a date YYYY-MM-DD",
						before), &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK && supplier)
		r = tg_rec_supplier_get(db, supplier, &s, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	f.arr = arr;
	f.status = status;
	f.purpose = purpose;
	f.before = before;
	tg_now_iso(f.today);
	r = tg_rec_key_each(db, s.id, list_one, &f, &d);
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

/* trustgate key show FINGERPRINT (a unique prefix of at least 8 hex digits) */
static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_keyrec k = { 0 };
	char fpr[65], today[32], **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_rec_key_resolve(db, pos[0], fpr, &d);
	if (r == TG_OK)
		r = tg_rec_key_get(db, fpr, &k, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_now_iso(today);
	o = key_json(&k);
	tg_json_str(o, "status", key_status(&k, today));
	if (ctx->json) {
		tg_cli_print_json(o);
	} else {
		printf("key %s\n  supplier   %s\n  algorithm  %s (%d bits)\n  purposes   %s\n  hashes     %s\n"
		       "  status     %s\n", k.fingerprint, k.supplier, k.algorithm, k.bits, k.purposes, k.hashes,
		       key_status(&k, today));
		if (k.name)
			printf("  name       %s\n", k.name);
		printf("  valid      %s .. %s\n  added      %s\n", k.not_before ? k.not_before : "-",
		       k.not_after ? k.not_after : "-", k.added_at);
		if (k.revoked_at)
			printf("  revoked    %s: %s\n", k.revoked_at, k.revoke_reason ? k.revoke_reason : "");
		if (k.fit_required)
			printf("  U-Boot     required=%s mode=%s\n", k.fit_required, k.fit_mode ? k.fit_mode : "-");
	}
	tg_keyrec_release(&k);
	return TG_EXIT_OK;
}

int tg_cmd_key(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "revoke", cmd_revoke },
		{ "list", cmd_list },
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "key add|revoke|list|show ...");
}
