/* Queueing notifications (notify.h). */

#include "notify.h"

enum tg_err tg_notify_enqueue(struct tg_db *db, const char *event, const char *subject, const char *dedupe,
			      struct json_object *payload, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r;

	if (!db->in_tx)
		return tg_fail(d, TG_E_DB, "%s: notification queued outside a transaction", db->path);
	tg_now_iso(now);
	tg_json_str(payload, "event", event);
	tg_json_str(payload, "subject", subject);
	tg_json_str(payload, "time", now);
	r = tg_db_prepare(db, "INSERT INTO notification (event, subject, dedupe, payload, created_at, next_at) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (dedupe) DO NOTHING;", &st, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, event);
	tg_db_bind_text(st, 2, subject);
	tg_db_bind_text(st, 3, dedupe);
	tg_db_bind_text(st, 4, json_object_to_json_string_ext(payload, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE));
	tg_db_bind_text(st, 5, now);
	tg_db_bind_int(st, 6, tg_now_epoch());
	return tg_db_exec_stmt(db, st, d);
}
