/*
 * Moving and keeping the records: `db copy` between files and PostgreSQL,
 * `db backup` (a signed snapshot) and `db restore` (verified, and checked
 * against the TPM anchor: an old backup is a rollback).
 */
#ifndef TG_DBMOVE_H
#define TG_DBMOVE_H

#include "cli.h"

#define TG_DB_BACKUP_MAGIC "trustgate-backup v1\n"
#define TG_DB_BACKUP_TYPE "application/vnd.trustgate.backup+json"

/* Each returns the command's exit code and has said why. */
int tg_db_copy_cmd(struct tg_ctx *ctx, const char *to, const char *reason);
int tg_db_backup_cmd(struct tg_ctx *ctx, const char *out);

struct tg_restore_args {
	const char *file, *key, *tcti, *reason;
	bool replace, accept_rollback;
};
int tg_db_restore_cmd(struct tg_ctx *ctx, const struct tg_restore_args *a);

#endif
