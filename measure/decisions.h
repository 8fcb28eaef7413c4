/*
 * Measured decisions: on the appliance every verdict is extended into PCR
 * 15 (SHA-256 bank) and appended to the appliance's decision log, a TCG
 * crypto-agile event log of its own (EV_ACTION events whose data is
 * "trustgate decision: ..."), so a quote of PCR 15 with that log proves
 * which decisions were made, in order.  PCR 15: firmware uses 0-7, shim 14,
 * systemd-stub 11-13, IMA 10; systemd extends 15 only when asked to
 * measure the machine id or volume keys, which the appliance does not do.
 */
#ifndef TG_DECISIONS_H
#define TG_DECISIONS_H

#include "tpm.h"
#include "../common/span.h"

#define TG_DECISION_PCR 15
#define TG_DECISION_PREFIX "trustgate decision: "
#define TG_EV_ACTION 0x00000005u

/* Extend PCR 15 with SHA-256(line with the prefix) and append the event to
 * the log at path (created with its header when absent). */
enum tg_err tg_decision_measure(struct tg_tpm *t, const char *path, const char *line, struct tg_diag *d);

/* Where the events of a decision log start (after its header), or 0 when
 * buf is not one. */
size_t tg_decision_log_events(struct tg_span buf);

/* One log for a bundle: the decision log's events after the boot log's
 * (*log, grown), or the decision log itself when there is no boot log.
 * TG_E_FORMAT when dec is not a decision log. */
enum tg_err tg_decision_log_join(uint8_t **log, size_t *logl, const uint8_t *dec, size_t decl);

#endif
