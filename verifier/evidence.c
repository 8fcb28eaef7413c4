/* Verdicts as evidence (evidence.h). */
#define _GNU_SOURCE
#include <string.h>
#include <sys/stat.h>


#include "evidence.h"
#include "help.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../db/integrity.h"
#include "../db/records.h"

/* The SHA-256 of the running executable, remembered in the records per
 * (device, inode, size, mtime, ctime) of the file: hashing a 10 MB
 * sanitizer build on every check would cost more than the check.  ctime
 * cannot be set by a user, so a binary replaced in place is hashed anew. */
static enum tg_err build_digest(struct tg_db *db, char out[65], struct tg_diag *d)
{
	_cleanup_free_ char *cached = NULL;
	struct stat sb;
	char key[160], val[240];

	if (stat("/proc/self/exe", &sb) != 0) {
		snprintf(out, 65, "unknown");
		return TG_OK;
	}
	snprintf(key, sizeof(key), "%llu:%llu:%lld:%lld.%09ld:%lld.%09ld", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino, (long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
		 sb.st_mtim.tv_nsec, (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
	enum tg_err r = tg_db_meta_get(db, "build_digest", &cached, d);
	if (r != TG_OK)
		return r;
	size_t kl = strlen(key);
	if (cached && strlen(cached) == kl + 65 && strncmp(cached, key, kl) == 0 && cached[kl] == ' ') {
		memcpy(out, cached + kl + 1, 65);
		return TG_OK;
	}
	if (!tg_build_digest(out)) {
		snprintf(out, 65, "unknown");
		return TG_OK;
	}
	snprintf(val, sizeof(val), "%s %s", key, out);
	/* A cache only: a database that cannot take the write still decides. */
	if (db->in_tx)
		return tg_db_meta_set(db, "build_digest", val, d);
	if (tg_db_begin(db, d) == TG_OK) {
		if (tg_db_meta_set(db, "build_digest", val, d) == TG_OK)
			tg_db_commit(db, d);
		else
			tg_db_rollback(db);
	}
	return TG_OK;
}

static struct json_object *supplier_rec(const struct tg_supplier *s)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "name", s->name);
	tg_json_str(o, "status", s->status);
	json_object_object_add(o, "max_tier", json_object_new_int(s->max_tier));
	json_object_object_add(o, "cii", json_object_new_boolean(s->cii));
	tg_json_str(o, "country", s->country);
	tg_json_str(o, "review", s->review_ref);
	tg_json_str(o, "review_expires", s->review_expires);
	return o;
}

static struct json_object *key_rec(const struct tg_keyrec *k)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "fingerprint", k->fingerprint);
	tg_json_str(o, "algorithm", k->algorithm);
	tg_json_str(o, "purposes", k->purposes);
	tg_json_str(o, "hashes", k->hashes);
	tg_json_str(o, "not_before", k->not_before);
	tg_json_str(o, "not_after", k->not_after);
	tg_json_str(o, "revoked_at", k->revoked_at);
	return o;
}

static struct json_object *product_rec(const struct tg_product *p)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "name", p->name);
	tg_json_str(o, "kind", p->kind);
	json_object_object_add(o, "max_tier", json_object_new_int(p->max_tier));
	tg_json_str(o, "min_version", p->min_version);
	tg_json_str(o, "guid", p->guid);
	tg_json_str(o, "allow", p->allow);
	return o;
}

static struct json_object *release_rec(const struct tg_release *rel)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "version", rel->version);
	tg_json_str(o, "digest_alg", rel->digest_alg);
	tg_json_str(o, "digest", rel->digest);
	tg_json_str(o, "status", rel->status);
	return o;
}

/* The records a check used: its signer's supplier and key, its product and
 * release.  A record the verdict names but the records lack is null. */
static enum tg_err check_records(struct tg_db *db, struct json_object *report, struct json_object *recs,
				 struct tg_diag *d)
{
	struct json_object *key = NULL;
	const char *supplier = tg_jstr(report, "supplier"), *product = tg_jstr(report, "product");
	const char *version = tg_jstr(report, "version");
	struct tg_supplier s = { 0 };
	struct tg_product p = { 0 };
	enum tg_err r = TG_OK;

	if (supplier && (r = tg_rec_supplier_get(db, supplier, &s, d)) == TG_OK)
		json_object_object_add(recs, "supplier", supplier_rec(&s));
	if (r == TG_E_NOTFOUND)
		r = TG_OK;
	if (r == TG_OK && json_object_object_get_ex(report, "key", &key) && key) {
		struct tg_keyrec k = { 0 };
		const char *fpr = tg_jstr(key, "fingerprint");
		r = fpr ? tg_rec_key_get(db, fpr, &k, d) : TG_E_NOTFOUND;
		if (r == TG_OK)
			json_object_object_add(recs, "key", key_rec(&k));
		tg_keyrec_release(&k);
		if (r == TG_E_NOTFOUND)
			r = TG_OK;
	}
	if (r == TG_OK && s.name && product) {
		r = tg_rec_product_get(db, s.id, product, &p, d);
		if (r == TG_OK) {
			json_object_object_add(recs, "product", product_rec(&p));
			if (version) {
				struct tg_release rel = { 0 };
				r = tg_rec_release_get(db, p.id, version, &rel, d);
				if (r == TG_OK)
					json_object_object_add(recs, "release", release_rec(&rel));
				tg_release_release(&rel);
			}
			tg_product_release(&p);
		}
		if (r == TG_E_NOTFOUND)
			r = TG_OK;
	}
	tg_supplier_release(&s);
	return r;
}

/* The records an attestation used: the host and its model's reference set. */
static enum tg_err attest_records(struct tg_db *db, struct json_object *report, struct json_object *recs,
				  struct tg_diag *d)
{
	const char *host = tg_jstr(report, "host");
	struct tg_host h = { 0 };
	enum tg_err r = host ? tg_rec_host_get(db, host, &h, d) : TG_E_NOTFOUND;

	if (r == TG_OK) {
		struct json_object *o = json_object_new_object();
		char set[65];
		tg_json_str(o, "name", h.name);
		tg_json_str(o, "status", h.status);
		json_object_object_add(o, "tier", json_object_new_int(h.tier));
		tg_json_str(o, "model", h.model);
		tg_json_str(o, "ak_fingerprint", h.ak_fingerprint);
		json_object_object_add(recs, "host", o);
		if (h.model && (r = tg_rec_reference_set_digest(db, h.model, set, d)) == TG_OK)
			tg_json_str(recs, "reference_set_sha256", set);
	}
	tg_host_release(&h);
	return r == TG_E_NOTFOUND ? TG_OK : r;
}

enum tg_err tg_evidence_stamp(struct tg_db *db, struct json_object *report, const char *actor,
			      struct tg_diag *d)
{
	return tg_evidence_stamp_with(db, report, actor, NULL, d);
}

enum tg_err tg_evidence_stamp_with(struct tg_db *db, struct json_object *report, const char *actor,
				   struct json_object *given, struct tg_diag *d)
{
	struct json_object *tool = json_object_new_object(), *recs = given ? given : json_object_new_object(), *pol = NULL;
	char now[32], digest[65];
	const char *kind = tg_jstr(report, "kind");
	/* The executable does not change under a running process: its digest
	 * is looked up once (a batch stamps thousands of verdicts). */
	static char build[65];
	enum tg_err r = TG_OK;

	tg_now_iso(now);
	tg_json_str(report, "time", now);
	tg_json_str(report, "actor", actor);
	if (!build[0])
		r = build_digest(db, build, d);
	memcpy(digest, build, sizeof(digest));
	tg_json_str(tool, "name", "trustgate");
	tg_json_str(tool, "version", tg_tool_version());
	tg_json_str(tool, "commit", tg_tool_commit());
	tg_json_str(tool, "build_sha256", digest);
	json_object_object_add(report, "tool", tool);
	if (r == TG_OK && !given)
		r = kind && strcmp(kind, "attestation") == 0 ? attest_records(db, report, recs, d)
							      : check_records(db, report, recs, d);
	json_object_object_add(report, "records", recs);
	if (r != TG_OK)
		return r;
	tg_evidence_digest(json_object_to_json_string_ext(recs, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			   digest);
	if (!json_object_object_get_ex(report, "policy", &pol) || !pol) {
		pol = json_object_new_object();
		json_object_object_add(report, "policy", pol);
	}
	tg_json_str(pol, "records_sha256", digest);
	return TG_OK;
}

const char *tg_evidence_text(struct json_object *report)
{
	tg_json_scrub(report);
	return json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

void tg_evidence_digest(const char *text, char out[65])
{
	uint8_t h[32];
	struct tg_md *md = NULL;

	out[0] = '\0';
	if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK)
		return;
	tg_md_write(md, text, strlen(text));
	tg_md_final(md, h);
	tg_md_free(md);
	tg_hex_encode(h, 32, out);
}

enum tg_err tg_evidence_link(struct tg_db *db, int64_t verdict_id, int64_t predicted_seq, struct json_object *shown,
			     struct tg_diag *d)
{
	struct json_object *audit = json_object_new_object();

	json_object_object_add(shown, "id", json_object_new_int64(verdict_id));
	json_object_object_add(audit, "seq", json_object_new_int64(db->last_seq));
	tg_json_str(audit, "hash", db->last_hash);
	json_object_object_add(shown, "audit", audit);
	/* The verdict row was written naming the audit row it expected
	 * (inside one immediate transaction nothing else appends): that row
	 * must be the one just written. */
	if (db->last_seq != predicted_seq)
		return tg_fail(d, TG_E_DB, "%s: verdict %lld expected audit row %lld, got %lld", db->path,
			       (long long)verdict_id, (long long)predicted_seq, (long long)db->last_seq);
	return TG_OK;
}

void tg_evidence_fprint(FILE *f, struct json_object *shown)
{
	struct json_object *id = NULL, *audit = NULL, *seq = NULL, *tool = NULL;

	json_object_object_get_ex(shown, "id", &id);
	json_object_object_get_ex(shown, "audit", &audit);
	json_object_object_get_ex(audit, "seq", &seq);
	json_object_object_get_ex(shown, "tool", &tool);
	fprintf(f, "  evidence  verdict %lld at %s by %s, audit row %lld (%.16s...), trustgate %s\n",
		(long long)json_object_get_int64(id), tg_jstr(shown, "time") ? tg_jstr(shown, "time") : "?",
		tg_jstr(shown, "actor") ? tg_jstr(shown, "actor") : "?", (long long)json_object_get_int64(seq),
		tg_jstr(audit, "hash") ? tg_jstr(audit, "hash") : "", tg_jstr(tool, "version") ? tg_jstr(tool, "version") : "?");
}

/* Decimal id, 1..2^53 (what JSON carries exactly). */
static bool parse_id(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (!*s || strlen(s) > 15 || s[0] == '0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

/* The verdict's audit row: the one the verdict names (audit_seq), else (a
 * verdict recorded before schema 5) the check/attest row naming its id. */
static enum tg_err find_anchor(struct tg_db *db, int64_t id, int64_t audit_seq, const char *report,
			       struct tg_anchoring *a, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char needle[48], digest[65];
	bool row = false;
	enum tg_err r;

	memset(a, 0, sizeof(*a));
	snprintf(needle, sizeof(needle), "\"verdict_id\":%lld,", (long long)id);
	r = tg_db_prepare(db, "SELECT " TG_AUDIT_COLS " FROM audit WHERE (?1 > 0 AND seq = ?1) OR "
			      "(?1 = 0 AND action IN ('check', 'attest') AND replace(detail, ?2, '') <> detail) "
			      "ORDER BY seq LIMIT 1;", &st, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, audit_seq);
	tg_db_bind_text(st, 2, needle);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK || !row) {
		if (r == TG_OK)
			snprintf(a->problem, sizeof(a->problem), "no audit row records verdict %lld", (long long)id);
		return r;
	}
	struct tg_audit_row ar;
	tg_audit_row_get(st, &ar);
	a->found = true;
	a->seq = ar.seq;
	snprintf(a->hash, sizeof(a->hash), "%s", ar.hash);
	a->row_ok = tg_audit_row_hash_ok(&ar);
	_cleanup_json_ struct json_object *detail = json_tokener_parse(ar.detail);
	struct json_object *vid = NULL;
	a->id_ok = detail && json_object_object_get_ex(detail, "verdict_id", &vid) && json_object_get_int64(vid) == id;
	const char *want = tg_jstr(detail, "report_sha256");
	a->covered = want != NULL;
	tg_evidence_digest(report, digest);
	a->digest_ok = want && strcmp(want, digest) == 0;
	if (!a->row_ok)
		snprintf(a->problem, sizeof(a->problem), "audit row %lld was altered (its hash does not match)",
			 (long long)a->seq);
	else if (!a->id_ok)
		snprintf(a->problem, sizeof(a->problem), "audit row %lld records another verdict", (long long)a->seq);
	else if (a->covered && !a->digest_ok)
		snprintf(a->problem, sizeof(a->problem), "the stored report is not the one audit row %lld recorded "
			 "(its SHA-256 differs): edited after the decision", (long long)a->seq);
	return TG_OK;
}

enum tg_err tg_evidence_parse_id(const char *s, int64_t *ret, struct tg_diag *d)
{
	char shown[40];

	if (parse_id(s, ret))
		return TG_OK;
	snprintf(shown, sizeof(shown), "%.32s", s);
	for (char *p = shown; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return tg_fail(d, TG_E_USAGE, "'%s' is not a verdict id (a number like 42)", shown);
}

enum tg_err tg_evidence_load(struct tg_db *db, int64_t id, struct json_object **ret, struct tg_anchoring *a,
			     struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	_cleanup_free_ char *report = NULL;
	struct json_object *o = NULL, *audit;
	int64_t audit_seq = 0;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT report, coalesce(audit_seq, 0) FROM verdict WHERE id = ?1;", &st, d);

	if (r == TG_OK) {
		tg_db_bind_int(st, 1, id);
		r = tg_db_step(db, st, &row, d);
	}
	if (r == TG_OK && !row)
		r = tg_fail(d, TG_E_NOTFOUND, "no verdict %lld in the records", (long long)id);
	if (r == TG_OK) {
		report = tg_db_col_text(st, 0);
		audit_seq = tg_db_col_int(st, 1);
		o = report ? json_tokener_parse(report) : NULL;
		if (!o || !json_object_is_type(o, json_type_object))
			r = tg_fail(d, TG_E_DB, "verdict %lld: its stored report is not a JSON object", (long long)id);
	}
	if (r == TG_OK)
		r = find_anchor(db, id, audit_seq, report, a, d);
	if (r != TG_OK) {
		json_object_put(o);
		return r;
	}
	json_object_object_add(o, "id", json_object_new_int64(id));
	audit = json_object_new_object();
	if (a->found) {
		json_object_object_add(audit, "seq", json_object_new_int64(a->seq));
		tg_json_str(audit, "hash", a->hash);
	}
	json_object_object_add(audit, "intact", json_object_new_boolean(a->found && !a->problem[0]));
	json_object_object_add(audit, "report_covered", json_object_new_boolean(a->covered));
	if (a->problem[0])
		tg_json_str(audit, "problem", a->problem);
	json_object_object_add(o, "audit", audit);
	*ret = o;
	return TG_OK;
}
