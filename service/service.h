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

/* The processes of the service (workers, notifier, agent) stop when asked:
 * SIGTERM or SIGINT sets tg_service_stop (checked between requests or
 * rounds, never interrupting one), SIGHUP is ignored, SIGCHLD is default,
 * and no signal stays blocked from the supervisor. */
#include <signal.h>
extern volatile sig_atomic_t tg_service_stop;
void tg_service_stop_on_term(void);

/* The CA directory: --ca, else $TRUSTGATE_CA, else ./trustgate-ca. */
const char *tg_service_ca_dir(const char *opt);
/* The CA of dir is the one the records were set up with (meta
 * "service_ca"), or the records have none yet and pin is false. */
/* Sign dir/crl.pem afresh from the records' revoked certificates, valid
 * until next_update (0: the default); *ret_n the entries. */
enum tg_err tg_service_crl_rewrite(struct tg_db *db, const char *ca, int64_t next_update, size_t *ret_n,
				   struct tg_diag *d);
enum tg_err tg_service_ca_pinned(struct tg_db *db, const char *dir, struct tg_diag *d);

#endif
