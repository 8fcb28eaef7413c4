/* The notifier process of `trustgate serve --webhook` (notifier.c). */
#ifndef TG_NOTIFIER_H
#define TG_NOTIFIER_H

#include "api.h"

struct tg_notifier_config {
	const char *db_path, *url, *ca;   /* ca: the webhook's CA file, or NULL for the system's */
	struct tg_metrics *m;
};

/* Deliver until SIGTERM; the exit status of the process. */
int tg_notifier_main(const struct tg_notifier_config *c);

#endif
