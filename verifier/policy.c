/*
 * The tier rules of DESIGN.md.  The verdict starts rejected; every rule that
 * fails adds a reason (or, where the tier only warns, a warning).  Rules are
 * all evaluated, so a REJECTED names every problem, not only the first.
 */
#include <string.h>

#include "policy.h"
#include "../common/version.h"
#include "../db/integrity.h"
#include "../common/reasons.h"

/* The tier rules of DESIGN.md, one row per tier: what a destination of
 * that tier requires beyond a verifying signature by a recorded key of an
 * approved supplier (required at every tier).  A CII destination is held
 * to tier 4 at least.  Every rule below reads its tier's row here and
 * nowhere else. */
static const struct tg_tier_rules tier_rules[] = {
	/* tier  products  sha1   sha256  rsa   supplier  release by digest */
	[1] = { 1, false, true, true, 2048, false, false },
	[2] = { 2, false, true, true, 2048, false, false },
	[3] = { 3, true, false, true, 2048, true, false },
	[4] = { 4, true, false, false, 3072, true, true },
	[5] = { 5, true, false, false, 3072, true, true },
};

const struct tg_tier_rules *tg_tier_rules_for(int tier, bool cii)
{
	if (tier < 1)
		tier = 1;
	if (tier > 5)
		tier = 5;
	if (cii && tier < 4)
		tier = 4;
	return &tier_rules[tier];
}

struct policy {
	struct tg_db *db;
	const struct tg_findings *f;
	struct tg_verdict *v;
	const struct tg_tier_rules *t;
	int64_t now;
};

/* A record that does not match its audit history cannot support an
 * approval (THREATS case 57): reject, and say which record. */
static enum tg_err tampered(struct tg_verdict *v, enum tg_err r, const char *why)
{
	if (r == TG_OK && why[0])
		tg_verdict_reason(v, TG_R(RECORD_TAMPERED), "%s", why);
	return r;
}

void tg_policy_signature(const struct tg_findings *f, const struct tg_tier_rules *tr, int64_t now,
			 const struct tg_product *claimed, struct tg_verdict *v)
{
	const struct tg_keyrec *k = f->signer;
	int64_t t;

	if (f->manifest_invalid)
		return;
	if (!f->sig_given) {
		tg_verdict_reason(v, TG_R(SIG_MISSING), "no signature given (--sig); a supplier signature "
						     "is required at every tier");
		return;
	}
	if (!k && f->sig_reported)
		return;
	if (!k) {
		if (f->sig_problem) {
			tg_verdict_reason(v, TG_R(SIG_INVALID), "%s", f->sig_problem);
		} else if (f->other_content_fpr[0]) {
			tg_verdict_reason(v, TG_R(SIG_INVALID), "signature was made by key %s but not over "
							     "this file (content differs)",
					  f->other_content_fpr);
		} else if (claimed) {
			/* The file claims to be this supplier's product: say so. */
			tg_verdict_reason(v, TG_R(SIG_INVALID), "signature does not verify with any key of "
							     "%s, supplier of %s (file altered, or "
							     "signed by another key)", claimed->supplier,
					  claimed->name);
		} else {
			tg_verdict_reason(v, TG_R(KEY_UNKNOWN), "no key in the records verifies this "
							     "signature (unknown signer, or the file "
							     "was altered)");
		}
		return;
	}
	v->has_key = true;
	snprintf(v->key_fpr, sizeof(v->key_fpr), "%s", k->fingerprint);
	snprintf(v->key_alg, sizeof(v->key_alg), "%s", k->algorithm);
	snprintf(v->scheme, sizeof(v->scheme), "%s/%s", tg_scheme_name(f->scheme),
		 tg_hash_name(f->sig_hash));
	snprintf(v->supplier, sizeof(v->supplier), "%s", k->supplier);

	/* After revocation or the end of validity every signature is refused,
	 * whatever time the signer claims (CLI.md). */
	if (k->revoked_at)
		tg_verdict_reason(v, TG_R(KEY_REVOKED), "key %s was revoked at %s: %s", k->fingerprint,
				  k->revoked_at, k->revoke_reason ? k->revoke_reason : "");
	if (k->not_before && tg_parse_date(k->not_before, &t) && now < t)
		tg_verdict_reason(v, TG_R(KEY_EXPIRED), "key %s is not valid before %s", k->fingerprint,
				  k->not_before);
	if (k->not_after && (!tg_parse_date(k->not_after, &t) || now >= t))
		tg_verdict_reason(v, TG_R(KEY_EXPIRED), "key %s expired at %s", k->fingerprint,
				  k->not_after);
	bool purpose_ok = false;
	for (const char *const *pp = f->purposes; *pp; pp++)
		purpose_ok = purpose_ok || tg_list_has(k->purposes, *pp);
	if (!purpose_ok)
		tg_verdict_reason(v, TG_R(KEY_PURPOSE), "key %s may sign %s, not this kind of artifact",
				  k->fingerprint, k->purposes);

	/* The key record pins the digest (THREATS cases 22, 35). */
	const char *hname = tg_hash_name(f->sig_hash);
	if (!tg_list_has(k->hashes, hname))
		tg_verdict_reason(v, TG_R(WEAK_ALGORITHM), "signature uses %s; the key record allows %s",
				  hname, k->hashes);
	if (f->sig_hash == TG_HASH_SHA1) {
		if (!tr->sha1)
			tg_verdict_reason(v, TG_R(WEAK_ALGORITHM), "SHA-1 signatures are refused at tier %d%s",
					  v->tier, v->cii ? " (CII)" : "");
		else
			tg_verdict_warn(v, TG_R(WEAK_ALGORITHM), "SHA-1 accepted at tier %d", v->tier);
	} else if (f->sig_hash == TG_HASH_SHA256 && !tr->sha256) {
		tg_verdict_reason(v, TG_R(WEAK_ALGORITHM), "tier %d%s requires SHA-384, SHA-512 or SM3, "
						       "signature uses SHA-256", v->tier,
				  v->cii ? " (CII)" : "");
	}
	if (strncmp(k->algorithm, "rsa", 3) == 0 && k->bits < tr->rsa_min_bits)
		tg_verdict_reason(v, TG_R(KEY_WEAK), "tier %d%s requires RSA of at least %d bits, key "
						 "has %d", v->tier, v->cii ? " (CII)" : "", tr->rsa_min_bits, k->bits);
	if (v->gm && f->scheme != TG_SCHEME_SM2)
		tg_verdict_reason(v, TG_R(GM_REQUIRED), "the GM profile accepts SM2 signatures over SM3 "
						    "only, signature is %s", v->scheme);
}

void tg_policy_supplier(const struct tg_supplier *s, const struct tg_tier_rules *tr, int64_t now, struct tg_verdict *v)
{
	int64_t t;

	if (strcmp(s->status, "approved") != 0)
		tg_verdict_reason(v, TG_R(SUPPLIER_NOT_APPROVED), "supplier %s is %s", s->name, s->status);
	if (!tr->supplier_review)
		return;
	if (v->tier > s->max_tier)
		tg_verdict_reason(v, TG_R(SUPPLIER_TIER), "supplier %s is approved up to tier %d, destination is tier %d",
				  s->name, s->max_tier, v->tier);
	if (v->cii && !s->cii)
		tg_verdict_reason(v, TG_R(SUPPLIER_TIER), "supplier %s is not approved for CII", s->name);
	if (!s->review_expires)
		tg_verdict_reason(v, TG_R(REVIEW_MISSING), "supplier %s has no security review on record (required at "
							 "tier %d)", s->name, v->tier);
	else if (!tg_parse_date(s->review_expires, &t) || now >= t + 86400)
		tg_verdict_reason(v, TG_R(REVIEW_EXPIRED), "security review %s of supplier %s expired on %s",
				  s->review_ref ? s->review_ref : "", s->name, s->review_expires);
}

/* The signer's supplier, loaded and checked against its history, then
 * judged by tg_policy_supplier(). */
static enum tg_err rules_supplier(struct policy *p, int64_t supplier_id, struct tg_diag *d)
{
	struct tg_supplier s = { 0 };
	enum tg_err r = tg_rec_supplier_get_id(p->db, supplier_id, &s, d);

	if (r != TG_OK)
		return r == TG_E_NOTFOUND ? tg_fail(d, TG_E_DB, "records: key refers to a missing "
							      "supplier") : r;
	char why[320];
	r = tampered(p->v, tg_integrity_supplier(p->db, &s, why, sizeof(why), d), why);
	if (r == TG_OK)
		tg_policy_supplier(&s, p->t, p->now, p->v);
	tg_supplier_release(&s);
	return r;
}

/* ------------------------------------------------------------ products
 * Load: the product and release records one check reads, each checked
 * against its audit history (a record that fails says so as
 * RECORD_TAMPERED and, for releases, is not used).  Evaluate: the product,
 * version, rollback and release rules over that snapshot, pure. */

void tg_product_records_release(struct tg_product_records *pr)
{
	for (size_t i = 0; i < pr->nrevoked; i++)
		tg_release_release(&pr->revoked[i]);
	free(pr->revoked);
	if (pr->have_approved)
		tg_release_release(&pr->approved);
	if (pr->state == TG_PROD_FOUND)
		tg_product_release(&pr->prod);
	if (pr->have_release)
		tg_release_release(&pr->rel);
	memset(pr, 0, sizeof(*pr));
}

struct loader {
	struct tg_db *db;
	struct tg_verdict *v;
	struct tg_product_records *pr;
	size_t cap;
	struct tg_diag *d;
};

/* Releases that carry one of this artifact's digests: every revoked one,
 * and the first approved one. */
static enum tg_err on_digest_match(const struct tg_release *r, void *ud)
{
	struct loader *l = ud;
	struct tg_product_records *pr = l->pr;
	char why[320];
	enum tg_err e = tampered(l->v, tg_integrity_release(l->db, r, why, sizeof(why), l->d), why);

	if (e != TG_OK || why[0])
		return e;
	if (strcmp(r->status, "revoked") == 0) {
		if (tg_grow(pr->revoked, l->cap, pr->nrevoked, 4) != TG_OK)
			return TG_E_NOMEM;
		if ((e = tg_release_copy(&pr->revoked[pr->nrevoked], r)) == TG_OK)
			pr->nrevoked++;
		return e;
	}
	if (pr->have_approved)
		return TG_OK;
	e = tg_release_copy(&pr->approved, r);
	pr->have_approved = e == TG_OK;
	return e;
}

static enum tg_err on_release_of_product(const struct tg_release *r, void *ud)
{
	struct loader *l = ud;
	char why[320];
	enum tg_err e = tampered(l->v, tg_integrity_release(l->db, r, why, sizeof(why), l->d), why);

	if (e != TG_OK || why[0])
		return e;
	if (strcmp(r->status, "approved") == 0 &&
	    (!l->pr->highest[0] || tg_version_cmp(r->version, l->pr->highest) > 0))
		snprintf(l->pr->highest, sizeof(l->pr->highest), "%s", r->version);
	return TG_OK;
}

/* The version the rules judge: the one given, else the approved release
 * this file is (when it is a release of the product found). */
static const char *judged_version(const struct tg_product_records *pr, const struct tg_findings *f)
{
	if (f->version)
		return f->version;
	if (pr->state == TG_PROD_FOUND && pr->have_approved && pr->approved.product_id == pr->prod.id)
		return pr->approved.version;
	return NULL;
}

enum tg_err tg_policy_load_products(struct tg_db *db, const struct tg_findings *f, int64_t signer_supplier,
				    struct tg_verdict *v, struct tg_product_records *pr, struct tg_diag *d)
{
	struct loader l = { .db = db, .v = v, .pr = pr, .d = d };
	const char *name, *version;
	enum tg_err r = TG_OK;
	int count = 0;
	char why[320];

	memset(pr, 0, sizeof(*pr));
	/* Every algorithm a release may be recorded in: a release recorded
	 * (and revoked) by its SHA-384, SHA-512 or SM3 digest is the same file
	 * as one recorded by SHA-256.  The caller computed each algorithm the
	 * records use. */
	for (int h = 1; h < TG_HASH__COUNT && r == TG_OK; h++)
		if (f->digest[h][0])
			r = tg_rec_release_each(db, 0, tg_hash_name((enum tg_hash)h), f->digest[h], on_digest_match, &l, d);
	if (r != TG_OK)
		return r;
	name = f->product ? f->product : pr->have_approved ? pr->approved.product : NULL;
	if (!name)
		return TG_OK;   /* TG_PROD_NONE_NAMED */
	snprintf(pr->name, sizeof(pr->name), "%s", name);
	if (signer_supplier) {
		r = tg_rec_product_get(db, signer_supplier, name, &pr->prod, d);
		if (r == TG_E_NOTFOUND) {
			struct tg_product other = { 0 };
			r = tg_rec_product_find(db, name, &count, &other, d);
			if (r == TG_OK && count > 0) {
				pr->state = TG_PROD_OTHER_SUPPLIER;
				snprintf(pr->other_supplier, sizeof(pr->other_supplier), "%s", other.supplier);
				tg_product_release(&other);
			} else if (r == TG_OK || r == TG_E_NOTFOUND) {
				pr->state = TG_PROD_MISSING;
				r = TG_OK;
			}
			return r;
		}
	} else {
		r = tg_rec_product_find(db, name, &count, &pr->prod, d);
		if (r == TG_OK && count != 1) {
			if (count > 1)
				tg_product_release(&pr->prod);
			memset(&pr->prod, 0, sizeof(pr->prod));
			pr->state = count ? TG_PROD_AMBIGUOUS : TG_PROD_MISSING;
			return TG_OK;
		}
		if (r == TG_E_NOTFOUND) {
			pr->state = TG_PROD_MISSING;
			return TG_OK;
		}
	}
	if (r != TG_OK)
		return r;
	pr->state = TG_PROD_FOUND;
	r = tampered(v, tg_integrity_product(db, &pr->prod, why, sizeof(why), d), why);
	if (r != TG_OK || !(version = judged_version(pr, f)))
		return r;
	r = tg_rec_release_each(db, pr->prod.id, NULL, NULL, on_release_of_product, &l, d);
	if (r != TG_OK)
		return r;
	r = tg_rec_release_get(db, pr->prod.id, version, &pr->rel, d);
	if (r == TG_E_NOTFOUND)
		return TG_OK;
	if (r != TG_OK)
		return r;
	pr->have_release = true;
	return tampered(v, tg_integrity_release(db, &pr->rel, why, sizeof(why), d), why);
}

/* A product rule: rejects where the tier's row says products count, warns
 * below. */
#define RULE(tr, v, code, ...)                               \
	do {                                                  \
		if ((tr)->products)                           \
			tg_verdict_reason((v), code, __VA_ARGS__); \
		else                                          \
			tg_verdict_warn((v), code, __VA_ARGS__);   \
	} while (0)

void tg_policy_product(const struct tg_product_records *pr, const struct tg_findings *f,
		       const struct tg_tier_rules *tr, struct tg_verdict *v)
{
	const struct tg_product *prod = &pr->prod;
	const char *version;

	/* Known bad bytes are refused at every tier. */
	for (size_t i = 0; i < pr->nrevoked; i++) {
		const struct tg_release *r = &pr->revoked[i];
		tg_verdict_reason(v, TG_R(RELEASE_REVOKED), "this file is release %s/%s %s, revoked at %s", r->supplier,
				  r->product, r->version, r->revoked_at ? r->revoked_at : "?");
	}
	switch (pr->state) {
	case TG_PROD_NONE_NAMED:
		RULE(tr, v, TG_R(PRODUCT_UNKNOWN), "no product named (--product) and the file matches no approved "
						    "release");
		return;
	case TG_PROD_OTHER_SUPPLIER:
		/* Name and signer must belong together (THREATS 36, 69). */
		tg_verdict_reason(v, TG_R(SUPPLIER_MISMATCH), "product %s belongs to supplier %s, not to the signer's "
							      "supplier %s", pr->name, pr->other_supplier, v->supplier);
		return;
	case TG_PROD_MISSING:
		if (v->supplier[0])
			RULE(tr, v, TG_R(PRODUCT_UNKNOWN), "product %s of supplier %s is not in the records", pr->name,
			      v->supplier);
		else
			RULE(tr, v, TG_R(PRODUCT_UNKNOWN), "product %s is not in the records", pr->name);
		return;
	case TG_PROD_AMBIGUOUS:
		RULE(tr, v, TG_R(PRODUCT_UNKNOWN), "product name %s is ambiguous", pr->name);
		return;
	case TG_PROD_FOUND:
		break;
	}
	snprintf(v->product, sizeof(v->product), "%s", prod->name);
	snprintf(v->product_allow, sizeof(v->product_allow), "%s", prod->allow ? prod->allow : "");
	if (!v->supplier[0])
		snprintf(v->supplier, sizeof(v->supplier), "%s", prod->supplier);
	if (v->tier > prod->max_tier)
		RULE(tr, v, TG_R(PRODUCT_TIER), "product %s is approved up to tier %d, destination is tier %d",
		      prod->name, prod->max_tier, v->tier);
	if (!(version = judged_version(pr, f))) {
		RULE(tr, v, TG_R(VERSION_UNKNOWN), "no version given (--version) and the file matches no approved "
						    "release of %s", prod->name);
		return;
	}
	snprintf(v->version, sizeof(v->version), "%s", version);
	if (pr->have_approved && pr->approved.product_id == prod->id && f->version &&
	    tg_version_cmp(pr->approved.version, f->version) != 0)
		tg_verdict_reason(v, TG_R(DIGEST_MISMATCH), "this file is release %s of %s, not %s",
				  pr->approved.version, prod->name, f->version);
	/* Rollback: below the floor or below the newest approved release
	 * (THREATS case 65). */
	if (prod->min_version && tg_version_cmp(version, prod->min_version) < 0)
		RULE(tr, v, TG_R(ROLLBACK), "version %s is below the floor %s of %s", version, prod->min_version,
		      prod->name);
	if (pr->highest[0] && tg_version_cmp(version, pr->highest) < 0)
		RULE(tr, v, TG_R(ROLLBACK), "version %s is older than approved release %s of %s", version, pr->highest,
		      prod->name);
	if (!pr->have_release) {
		if (tr->releases)
			tg_verdict_reason(v, TG_R(RELEASE_UNKNOWN), "tier %d%s requires release %s of %s to be approved "
								    "by digest first", v->tier, v->cii ? " (CII)" : "",
					  version, prod->name);
		return;
	}
	const struct tg_release *rel = &pr->rel;
	enum tg_hash alg = tg_hash_from_name(rel->digest_alg);
	const char *have = alg != TG_HASH_NONE ? f->digest[alg] : "";
	if (strcmp(rel->status, "revoked") == 0)
		tg_verdict_reason(v, TG_R(RELEASE_REVOKED), "release %s of %s was revoked at %s", version, prod->name,
				  rel->revoked_at ? rel->revoked_at : "?");
	if (!have[0] || strcmp(have, rel->digest) != 0)
		tg_verdict_reason(v, TG_R(DIGEST_MISMATCH), "file %s %s differs from approved release %s of %s (%s)",
				  rel->digest_alg, have[0] ? have : "(not computed)", version, prod->name, rel->digest);
}

enum tg_err tg_policy_evaluate(struct tg_db *db, const struct tg_findings *f,
			       struct tg_verdict *v, struct tg_diag *d)
{
	struct policy p = {
		.db = db, .f = f, .v = v,
		.t = tg_tier_rules_for(v->tier, v->cii),
		.now = tg_now_epoch(),
	};
	struct tg_product claimed = { 0 };
	int count = 0;
	enum tg_err r;
	char why[400];

	/* A record deleted with sqlite3 (a revoked release, the newest one
	 * that sets the rollback floor) is seen only against the whole
	 * history, not row by row. */
	r = tampered(v, tg_integrity_complete(db, why, sizeof(why), d), why);
	if (r != TG_OK)
		return r;
	/* No key verified and the file names a product: the reason says whose
	 * keys it should have verified with. */
	if (!f->signer && f->product) {
		r = tg_rec_product_find(db, f->product, &count, &claimed, d);
		if (r != TG_OK && r != TG_E_NOTFOUND)
			return r;
	}
	tg_policy_signature(f, p.t, p.now, count == 1 ? &claimed : NULL, v);
	if (count >= 1)
		tg_product_release(&claimed);
	if (f->signer) {
		r = tampered(v, tg_integrity_key(db, f->signer, why, sizeof(why), d), why);
		if (r != TG_OK)
			return r;
		r = rules_supplier(&p, f->signer->supplier_id, d);
		if (r != TG_OK)
			return r;
	}
	struct tg_product_records pr;
	r = tg_policy_load_products(db, f, f->signer ? f->signer->supplier_id : 0, v, &pr, d);
	if (r == TG_OK)
		tg_policy_product(&pr, f, p.t, v);
	tg_product_records_release(&pr);
	if (r != TG_OK)
		return r;
	v->complete = true;
	return TG_OK;
}
