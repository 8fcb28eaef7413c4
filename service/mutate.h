/* Changes to the records over the API, made by the CLI command that makes
 * them (mutate.c). */
#ifndef TG_MUTATE_H
#define TG_MUTATE_H

#include "api.h"

/* The handler of every change route: the route's name picks the command. */
void tg_mutate(struct tg_request *rq);

#endif
