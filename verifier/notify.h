/*
 * Notifications, queued in the records inside the transaction of the
 * verdict that causes them (so a verdict is never recorded without its
 * notification, nor the other way round): a host attested UNTRUSTED, a
 * verdict re-decided REJECTED or UNTRUSTED, a supplier's review about to
 * expire.  `trustgate serve --webhook URL` delivers them (service/notifier.c).
 */
#ifndef TG_NOTIFY_H
#define TG_NOTIFY_H

#include "cli.h"

/* Queue event about subject with payload (a JSON object; "event",
 * "subject" and "time" are added).  dedupe (or NULL) names the occurrence:
 * a second one with the same name is not queued again. */
enum tg_err tg_notify_enqueue(struct tg_db *db, const char *event, const char *subject, const char *dedupe,
			      struct json_object *payload, struct tg_diag *d);

#endif
