/*
 * trustgate's service part (built into trustgate-service, which `trustgate
 * serve|ca|user|agent` runs): the commands, and what they share.
 */
#ifndef TG_SERVICE_H
#define TG_SERVICE_H

#include "../verifier/cli.h"

int tg_cmd_ca(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_user(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_serve(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_agent(struct tg_ctx *ctx, int argc, char **argv);

/* The CA directory: --ca, else $TRUSTGATE_CA, else ./trustgate-ca. */
const char *tg_service_ca_dir(const char *opt);
/* The CA of dir is the one the records were set up with (meta
 * "service_ca"), or the records have none yet and pin is false. */
enum tg_err tg_service_ca_pinned(struct tg_db *db, const char *dir, struct tg_diag *d);

#endif
