/*
 * Records moved between engines (`db copy`), the table digests that prove a
 * copy equal to what it was copied from, and what each appliance keeps of
 * its own beside shared records.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "driver.h"
#include "../common/crypto.h"
#include "../common/file.h"

/* Every table of the schema but schema_version (each engine's own), parents
 * before the rows that refer to them, each with the key its rows are read
 * in.  pg.c drops them in the reverse order. */
const struct tg_db_table tg_db_tables[] = {
	{ "meta", "name" },
	{ "supplier", "id" },
	{ "key", "id" },
	{ "product", "id" },
	{ "release", "id" },
	{ "verdict", "id" },
	{ "audit", "seq" },
	{ "host", "id" },
	{ "reference", "id" },
	{ "measurement_revoked", "id" },
	{ "service_user", "id" },
	{ "notification", "id" },
};
const size_t tg_db_ntables = TG_ARRAY_SIZE(tg_db_tables);

enum tg_err tg_db_begin_snapshot(struct tg_db *db, struct tg_diag *d)
{
	return tg_db_begin_with(db, db->drv->snapshot_sql, d);
}

static void bind_value(struct tg_stmt *to, int i, struct tg_stmt *from, int c)
{
	size_t n = 0;
	const void *p;

	switch (tg_db_col_type(from, c)) {
	case TG_DB_NULL:
		tg_db_bind_null(to, i);
		break;
	case TG_DB_INT:
		tg_db_bind_int(to, i, tg_db_col_int(from, c));
		break;
	case TG_DB_BLOB:
		p = tg_db_col_blob(from, c, &n);
		tg_db_bind_blob(to, i, p ? p : "", n);
		break;
	default:
		tg_db_bind_text(to, i, tg_db_col_str(from, c));
		break;
	}
}

/* INSERT INTO t (the columns the SELECT returned) VALUES (?1, ...). */
static char *insert_sql(const char *table, struct tg_stmt *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int n = tg_db_col_count(st);

	if (!f)
		return NULL;
	fprintf(f, "INSERT INTO %s (", table);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? ", " : "", tg_db_col_name(st, i));
	fputs(") VALUES (", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%s?%d", i ? ", " : "", i + 1);
	fputs(");", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum tg_err copy_table(struct tg_db *from, struct tg_db *to, const struct tg_db_table *t, int64_t *ret_rows,
			      struct tg_diag *d)
{
	_cleanup_free_ char *sel = NULL, *ins = NULL;
	_cleanup_stmt_ struct tg_stmt *src = NULL;
	_cleanup_stmt_ struct tg_stmt *dst = NULL;
	bool row = false;
	enum tg_err r;

	*ret_rows = 0;
	if (asprintf(&sel, "SELECT * FROM %s ORDER BY %s;", t->name, t->key) < 0)
		return TG_E_NOMEM;
	r = tg_db_prepare_scan(from, sel, &src, d);
	while (r == TG_OK && (r = tg_db_step(from, src, &row, d)) == TG_OK && row) {
		if (!dst) {
			if (!(ins = insert_sql(t->name, src)))
				return TG_E_NOMEM;
			r = tg_db_prepare(to, ins, &dst, d);
			if (r != TG_OK)
				break;
		} else {
			tg_db_reset(dst);
		}
		for (int c = 0; c < tg_db_col_count(src); c++)
			bind_value(dst, c + 1, src, c);
		r = tg_db_exec_stmt(to, dst, d);
		if (r == TG_OK)
			(*ret_rows)++;
	}
	if (r == TG_OK && to->drv->sync_ids && strcmp(t->key, "name") != 0)
		r = to->drv->sync_ids(to, t->name, t->key, d);
	return r;
}

enum tg_err tg_db_copy_rows(struct tg_db *from, struct tg_db *to, int64_t rows[], struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *clear = NULL;
	/* The new records' migrations wrote meta rows of their own: the
	 * copy's are the ones that count. */
	enum tg_err r = tg_db_prepare(to, "DELETE FROM meta;", &clear, d);

	if (r == TG_OK)
		r = tg_db_exec_stmt(to, clear, d);
	for (size_t i = 0; r == TG_OK && i < tg_db_ntables; i++)
		r = copy_table(from, to, &tg_db_tables[i], &rows[i], d);
	return r;
}

static void put(struct tg_md *md, char tag, const void *p, size_t n)
{
	uint8_t len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	tg_md_write(md, &tag, 1);
	tg_md_write(md, len, 8);
	if (n)
		tg_md_write(md, p, n);
}

/* SHA-256 over every row in key order, each value tagged with its kind and
 * length-prefixed: equal on two engines only when every value is. */
enum tg_err tg_db_table_digest(struct tg_db *db, const struct tg_db_table *t, uint8_t out[32], int64_t *ret_rows,
			       struct tg_diag *d)
{
	_cleanup_free_ char *sel = NULL;
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	struct tg_md *md = NULL;
	bool row = false;
	enum tg_err r;

	*ret_rows = 0;
	if (asprintf(&sel, "SELECT * FROM %s ORDER BY %s;", t->name, t->key) < 0)
		return TG_E_NOMEM;
	r = tg_md_new(TG_HASH_SHA256, &md);
	if (r == TG_OK)
		r = tg_db_prepare_scan(db, sel, &st, d);
	while (r == TG_OK && (r = tg_db_step(db, st, &row, d)) == TG_OK && row) {
		for (int c = 0; c < tg_db_col_count(st); c++) {
			const char *name = tg_db_col_name(st, c), *s;
			const void *p;
			size_t n = 0;
			char num[24];

			put(md, 'c', name, strlen(name));
			switch (tg_db_col_type(st, c)) {
			case TG_DB_NULL:
				put(md, 'n', NULL, 0);
				break;
			case TG_DB_INT:
				snprintf(num, sizeof(num), "%lld", (long long)tg_db_col_int(st, c));
				put(md, 'i', num, strlen(num));
				break;
			case TG_DB_BLOB:
				p = tg_db_col_blob(st, c, &n);
				put(md, 'b', p, n);
				break;
			default:
				s = tg_db_col_str(st, c);
				put(md, 't', s, strlen(s));
				break;
			}
		}
		(*ret_rows)++;
	}
	if (md && r == TG_OK)
		tg_md_final(md, out);
	tg_md_free(md);
	return r;
}

enum tg_err tg_db_snapshot_file(struct tg_db *db, const char *file, struct tg_diag *d)
{
	_cleanup_(tg_db_closep) struct tg_db *out = NULL;
	int64_t rows[32];
	enum tg_err r;

	if (db->drv->backup)
		return db->drv->backup(db, file, d);
	r = tg_db_create(file, &out, d);
	if (r != TG_OK)
		return r;
	r = tg_db_begin(out, d);
	if (r == TG_OK)
		r = tg_db_copy_rows(db, out, rows, d);
	if (r == TG_OK)
		r = tg_db_commit(out, d);
	if (r != TG_OK) {
		tg_db_close(TAKE_PTR(out));
		tg_db_destroy(file);
	}
	return r;
}

bool tg_db_shared(const struct tg_db *db)
{
	return !(db->drv->caps & TG_DB_CAP_FILE);
}

/* The local settings file: a JSON object of strings, read whole. */
static enum tg_err local_read(struct tg_db *db, const char *path, struct json_object **ret, struct tg_diag *d)
{
	FILE *f = fopen(path, "re");
	char buf[8192];
	size_t n;

	*ret = NULL;
	if (!f)
		return errno == ENOENT ? TG_OK : tg_fail(d, TG_E_IO, "%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	*ret = n < sizeof(buf) - 1 ? json_tokener_parse(buf) : NULL;
	if (!*ret || !json_object_is_type(*ret, json_type_object)) {
		json_object_put(*ret);
		*ret = NULL;
		return tg_fail(d, TG_E_FORMAT, "%s: this appliance's settings for %s are not a JSON object", path, db->path);
	}
	return TG_OK;
}

static void json_putp(struct json_object **o)
{
	json_object_put(*o);
}

enum tg_err tg_db_local_get(struct tg_db *db, const char *name, char **ret, struct tg_diag *d)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_(json_putp) struct json_object *o = NULL;
	struct json_object *v = NULL;
	enum tg_err r;

	*ret = NULL;
	if (!tg_db_shared(db))
		return tg_db_meta_get(db, name, ret, d);
	if (!(path = tg_db_local_file(db, ".local.json")))
		return TG_E_NOMEM;
	r = local_read(db, path, &o, d);
	if (r == TG_OK && o && json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string) &&
	    !(*ret = strdup(json_object_get_string(v))))
		r = TG_E_NOMEM;
	return r;
}

enum tg_err tg_db_local_set(struct tg_db *db, const char *name, const char *value, struct tg_diag *d)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	_cleanup_(json_putp) struct json_object *o = NULL;
	const char *text;
	enum tg_err r;

	if (!tg_db_shared(db))
		return tg_db_meta_set(db, name, value, d);
	if (!(path = tg_db_local_file(db, ".local.json")) || asprintf(&tmp, "%s.tmp%ld", path, (long)getpid()) < 0)
		return TG_E_NOMEM;
	r = local_read(db, path, &o, d);
	if (r != TG_OK)
		return r;
	if (!o)
		o = json_object_new_object();
	json_object_object_add(o, name, json_object_new_string(value));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	unlink(tmp);
	r = tg_file_write_new(tmp, text, strlen(text), 0600, d);
	if (r == TG_OK && rename(tmp, path) != 0)
		r = tg_fail(d, TG_E_IO, "%s: %s", path, strerror(errno));
	if (r != TG_OK)
		unlink(tmp);
	return r;
}
