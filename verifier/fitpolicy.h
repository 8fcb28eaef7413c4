/*
 * Which keys signed a FIT, and whether that satisfies U-Boot's verified
 * boot policy as the records hold it (required keys, required-mode), with
 * the appliance's stricter rule on top: a supplier signature is demanded
 * even where U-Boot would boot an unsigned FIT (THREATS 22, 23).
 */
#ifndef TG_FITPOLICY_H
#define TG_FITPOLICY_H

#include "policy.h"
#include "../firmware/fit.h"

struct tg_fit_keys {
	struct tg_keyrec *rec;
	struct tg_key **key;
	size_t n, cap;
};

/* Every firmware key of the records that could sign a FIT. */
enum tg_err tg_fit_keys_load(struct tg_db *db, struct tg_fit_keys *fk, struct tg_diag *d);
void tg_fit_keys_release(struct tg_fit_keys *fk);

/* Verify every signature node with every key, apply the required-key
 * rules, and add FIT_* reasons to v.  On success f->signer points into fk
 * and f->sig_reported is set, so the generic signature rules add nothing;
 * the supplier, product, release and tier rules still run on f. */
enum tg_err tg_fit_evaluate(const struct tg_fit *fit, struct tg_fit_keys *fk, struct tg_findings *f,
			    struct tg_verdict *v, struct tg_diag *d);

#endif
