/* FIT signatures against the records (see fitpolicy.h). */
#include <stdlib.h>
#include <string.h>

#include "fitpolicy.h"
#include "../common/reasons.h"

static enum tg_err collect(const struct tg_keyrec *k, void *ud)
{
	struct tg_fit_keys *fk = ud;
	struct tg_diag d = { { 0 } };
	struct tg_key *key = NULL;

	if (!tg_list_has(k->purposes, "firmware") ||
	    (strncmp(k->algorithm, "rsa", 3) != 0 && strcmp(k->algorithm, "ecdsa-p256") != 0 &&
	     strcmp(k->algorithm, "ecdsa-p384") != 0))
		return TG_OK;
	/* A stored key that no longer validates is never used. */
	if (tg_key_from_spki(tg_span_make(k->spki, k->spki_len), &key, &d) != TG_OK)
		return TG_OK;
	if (fk->n == fk->cap) {
		size_t cap = fk->cap ? fk->cap * 2 : 16;
		struct tg_keyrec *nr = realloc(fk->rec, cap * sizeof(*nr));
		if (nr)
			fk->rec = nr;
		struct tg_key **nk = nr ? realloc(fk->key, cap * sizeof(*nk)) : NULL;
		if (!nr || !nk) {
			tg_key_free(key);
			return TG_E_NOMEM;
		}
		fk->key = nk;
		fk->cap = cap;
	}
	memset(&fk->rec[fk->n], 0, sizeof(fk->rec[0]));
	if (tg_keyrec_copy(&fk->rec[fk->n], k, false) != TG_OK) {
		tg_keyrec_release(&fk->rec[fk->n]);
		tg_key_free(key);
		return TG_E_NOMEM;
	}
	fk->key[fk->n++] = key;
	return TG_OK;
}

enum tg_err tg_fit_keys_load(struct tg_db *db, struct tg_fit_keys *fk, struct tg_diag *d)
{
	memset(fk, 0, sizeof(*fk));
	return tg_rec_key_each(db, 0, collect, fk, d);
}

void tg_fit_keys_release(struct tg_fit_keys *fk)
{
	for (size_t i = 0; i < fk->n; i++) {
		tg_keyrec_release(&fk->rec[i]);
		tg_key_free(fk->key[i]);
	}
	free(fk->rec);
	free(fk->key);
	memset(fk, 0, sizeof(*fk));
}

/* ------------------------------------------------------------ evaluation */

struct eval {
	const struct tg_fit *fit;
	struct tg_fit_keys *fk;
	bool *ok;                 /* ok[s * nkeys + k]: key k verified signature s */
	struct tg_verdict *v;
};

static bool verified(const struct eval *e, size_t s, size_t k)
{
	return e->ok[s * e->fk->n + k];
}

/* Did key k sign configuration (conf) or image (!conf) number owner? */
static bool signed_by(const struct eval *e, bool conf, int owner, size_t k)
{
	for (size_t s = 0; s < e->fit->nsig; s++)
		if (e->fit->sig[s].conf == conf && e->fit->sig[s].owner == owner && verified(e, s, k))
			return true;
	return false;
}

static bool usable(const struct tg_keyrec *r, int64_t supplier)
{
	return r->supplier_id == supplier && !r->revoked_at;
}

/* Required keys of the signer's supplier, as U-Boot enforces them: for
 * "conf" keys per configuration, all of a group or any one of it by the
 * group's required-mode; "image" keys must each have signed every image
 * a configuration loads.  Without required keys, every configuration must
 * still carry a verified signature of the supplier. */
static void required_rules(const struct eval *e, int64_t supplier, const char *supplier_name)
{
	const struct tg_fit *fit = e->fit;
	const struct tg_fit_keys *fk = e->fk;
	bool conf_req = false, img_req = false;

	for (size_t k = 0; k < fk->n; k++) {
		if (!usable(&fk->rec[k], supplier) || !fk->rec[k].fit_required)
			continue;
		conf_req |= strcmp(fk->rec[k].fit_required, "conf") == 0;
		img_req |= strcmp(fk->rec[k].fit_required, "image") == 0;
	}
	for (size_t c = 0; c < fit->nconf; c++) {
		const char *cn = fit->conf[c].name;
		if (conf_req) {
			for (size_t k = 0; k < fk->n; k++) {
				const struct tg_keyrec *r = &fk->rec[k];
				if (!usable(r, supplier) || !r->fit_required || strcmp(r->fit_required, "conf") != 0)
					continue;
				bool any_mode = r->fit_mode && strcmp(r->fit_mode, "any") == 0;
				if (!any_mode) {
					if (!signed_by(e, true, (int)c, k))
						tg_verdict_reason(e->v, TG_R(FIT_KEY_REQUIRED), "configuration %s: required key %s "
								  "(%s) did not sign it", cn, r->name ? r->name : "",
								  r->fingerprint);
					continue;
				}
				/* "any": one key of this key's group suffices. */
				bool one = false;
				for (size_t j = 0; j < fk->n && !one; j++)
					one = usable(&fk->rec[j], supplier) && fk->rec[j].fit_required &&
					      strcmp(fk->rec[j].fit_required, "conf") == 0 && fk->rec[j].fit_group &&
					      r->fit_group && strcmp(fk->rec[j].fit_group, r->fit_group) == 0 &&
					      signed_by(e, true, (int)c, j);
				if (!one)
					tg_verdict_reason(e->v, TG_R(FIT_KEY_REQUIRED), "configuration %s: none of the required "
							  "keys of its group (required-mode any) signed it", cn);
			}
		} else if (!img_req) {
			bool one = false;
			for (size_t k = 0; k < fk->n && !one; k++)
				one = usable(&fk->rec[k], supplier) && signed_by(e, true, (int)c, k);
			if (!one)
				tg_verdict_reason(e->v, TG_R(FIT_UNSIGNED), "configuration %s carries no signature verified by "
						  "a key of supplier %s", cn, supplier_name);
		}
	}
	for (size_t i = 0; i < fit->nimg; i++) {
		bool referenced = false;
		for (size_t c = 0; c < fit->nconf; c++)
			for (size_t q = 0; q < fit->conf[c].nref; q++)
				referenced |= fit->conf[c].ref[q].image == (int)i;
		if (img_req && (referenced || !fit->nconf)) {
			for (size_t k = 0; k < fk->n; k++) {
				const struct tg_keyrec *r = &fk->rec[k];
				if (usable(r, supplier) && r->fit_required && strcmp(r->fit_required, "image") == 0 &&
				    !signed_by(e, false, (int)i, k))
					tg_verdict_reason(e->v, TG_R(FIT_KEY_REQUIRED), "image %s: required key %s (%s) did not "
							  "sign it", fit->img[i].name, r->name ? r->name : "", r->fingerprint);
			}
		} else if (!referenced) {
			/* No configuration signature covers it: it needs its own. */
			bool one = false;
			for (size_t k = 0; k < fk->n && !one; k++)
				one = usable(&fk->rec[k], supplier) && signed_by(e, false, (int)i, k);
			if (!one)
				tg_verdict_reason(e->v, TG_R(FIT_UNSIGNED), "image %s is in no configuration and carries no "
						  "verified signature", fit->img[i].name);
		}
	}
}

enum tg_err tg_fit_evaluate(const struct tg_fit *fit, struct tg_fit_keys *fk, struct tg_findings *f,
			    struct tg_verdict *v, struct tg_diag *d)
{
	struct eval e = { .fit = fit, .fk = fk, .v = v };
	long signer = -1, signer_sig = -1;
	bool strict = v->tier >= 3 || v->cii;

	f->sig_reported = true;
	f->sig_given = true;
	if (fit->code)
		tg_verdict_reason(v, fit->code, "%s", fit->problem);
	if (!fit->nsig) {
		tg_verdict_reason(v, TG_R(FIT_UNSIGNED), "the FIT carries no signature node");
		return TG_OK;
	}
	e.ok = calloc(fit->nsig * (fk->n ? fk->n : 1), sizeof(*e.ok));
	if (!e.ok)
		return TG_E_NOMEM;
	for (size_t s = 0; s < fit->nsig; s++)
		for (size_t k = 0; k < fk->n; k++) {
			enum tg_err r = tg_fit_verify(fit, &fit->sig[s], fk->key[k], &e.ok[s * fk->n + k]);
			if (r != TG_OK) {
				free(e.ok);
				return tg_fail(d, r, "FIT signature %s: verification crashed with key %s; refusing",
					       fit->sig[s].name, fk->rec[k].fingerprint);
			}
		}
	/* An image that only hash nodes protect (no image signature of its
	 * own verified) needs a digest a signature can rely on: crc32 is
	 * none, SHA-1 follows the tier rules. */
	for (size_t i = 0; i < fit->nimg; i++) {
		const struct tg_fit_image *im = &fit->img[i];
		bool own = false;
		for (size_t k = 0; k < fk->n && !own; k++)
			own = signed_by(&e, false, (int)i, k);
		if (own)
			continue;
		if (im->strongest == TG_HASH_NONE)
			tg_verdict_reason(v, TG_R(WEAK_ALGORITHM), "image %s has no cryptographic hash node (crc32 at most)",
					  im->name);
		else if (im->strongest == TG_HASH_SHA1 && strict)
			tg_verdict_reason(v, TG_R(WEAK_ALGORITHM), "image %s is hashed with SHA-1 only, refused at tier %d",
					  im->name, v->tier);
		else if (im->strongest == TG_HASH_SHA1)
			tg_verdict_warn(v, TG_R(WEAK_ALGORITHM), "image %s is hashed with SHA-1 only", im->name);
	}
	/* The signer: a key that verified the default configuration (else any
	 * configuration, else an image), unrevoked keys first. */
	for (int pass = 0; pass < 2 && signer < 0; pass++)
		for (int want_def = 1; want_def >= 0 && signer < 0; want_def--)
			for (size_t s = 0; s < fit->nsig && signer < 0; s++) {
				const struct tg_fit_sig *sg = &fit->sig[s];
				if (want_def && !(sg->conf && sg->owner == fit->def))
					continue;
				if (!want_def && !sg->conf && fit->nconf)
					continue;
				for (size_t k = 0; k < fk->n && signer < 0; k++)
					if (verified(&e, s, k) && (pass || !fk->rec[k].revoked_at))
						signer = (long)k, signer_sig = (long)s;
			}
	for (size_t s = 0; s < fit->nsig && signer < 0; s++)
		for (size_t k = 0; k < fk->n && signer < 0; k++)
			if (verified(&e, s, k))
				signer = (long)k, signer_sig = (long)s;
	if (signer < 0) {
		const char *why = "";
		for (size_t s = 0; s < fit->nsig && !*why; s++)
			why = fit->sig[s].problem;
		tg_verdict_reason(v, TG_R(FIT_SIG_INVALID), "no signature node verifies with a firmware key in the records%s%s",
				  *why ? "; " : "", why);
		free(e.ok);
		return TG_OK;
	}
	f->signer = &fk->rec[signer];
	f->sig_hash = fit->sig[signer_sig].hash;
	f->scheme = fit->sig[signer_sig].scheme;
	required_rules(&e, fk->rec[signer].supplier_id, fk->rec[signer].supplier);
	free(e.ok);
	return TG_OK;
}
