/*
 * What turns a verdict into evidence a reviewer can file: when, by whom,
 * with which tool and build, under which records, and where in the audit
 * chain it sits (docs/CLI.md, "Evidence").
 *
 * A verdict document is stored in the verdict table as JSON text; its audit
 * row carries the verdict id and the SHA-256 of that text, and the row's
 * hash chains it to every row before.  The stored text therefore cannot
 * contain its own audit row: "id" and "audit" are added to the document
 * when it is shown (tg_evidence_link, `verdict show`).
 */
#ifndef TG_EVIDENCE_H
#define TG_EVIDENCE_H

#include <json-c/json.h>

#include "../db/db.h"

/* Add "time", "actor", "tool" {name, version, commit, build_sha256} and
 * "records" (the supplier, key, product, release or host records the
 * decision used, as they stand) with "policy.records_sha256" to a verdict
 * document before it is stored. */
enum tg_err tg_evidence_stamp(struct tg_db *db, struct json_object *report, const char *actor,
			      struct tg_diag *d);
/* The same with the records already in hand (owned by the callee): an
 * attestation's host and reference set, loaded once per model in a batch. */
enum tg_err tg_evidence_stamp_with(struct tg_db *db, struct json_object *report, const char *actor,
				   struct json_object *records, struct tg_diag *d);

/* The stored form of the document (what its audit row's report_sha256
 * covers), and that digest (hex). */
const char *tg_evidence_text(struct json_object *report);
void tg_evidence_digest(const char *text, char out[65]);

/* After the verdict row (id, written with audit_seq = predicted_seq from
 * tg_audit_next_seq) and its audit row are written in the open
 * transaction: check the audit row is the predicted one and add "id" and
 * "audit" {seq, hash} to the document that is shown. */
enum tg_err tg_evidence_link(struct tg_db *db, int64_t verdict_id, int64_t predicted_seq, struct json_object *shown,
			     struct tg_diag *d);

/* A stored verdict's place in the audit chain, as found by tg_evidence_load. */
struct tg_anchoring {
	int64_t seq;
	char hash[65];
	bool found, row_ok, id_ok, covered, digest_ok;
	char problem[200];   /* "" when the verdict and its row agree */
};

/* "42" -> 42; anything else is a usage error naming the value. */
enum tg_err tg_evidence_parse_id(const char *s, int64_t *ret, struct tg_diag *d);
/* A recorded verdict as shown: its stored document with "id" and "audit"
 * {seq, hash, intact, report_covered, problem} added; *a says whether the
 * document is the one its audit row recorded. */
enum tg_err tg_evidence_load(struct tg_db *db, int64_t id, struct json_object **ret, struct tg_anchoring *a,
			     struct tg_diag *d);

/* One line for the text output: "verdict 42 at T by A, audit row 118 (hash...)". */
void tg_evidence_fprint(FILE *f, struct json_object *shown);

/* The HTML report of a verdict (verifier/cmd_report.c): one self-contained
 * page, every recorded string escaped by tg_html_escape. */
void tg_report_write_html(FILE *f, struct json_object *o, const struct tg_anchoring *a, const char *db_path);
void tg_html_escape(FILE *f, const char *s);

/* A recorded verdict's signed twin, by the appliance key: a check's VSA
 * (in-toto statement in a DSSE envelope) or an attestation's EAR (JWT);
 * o as tg_evidence_load returned it, whose anchoring the caller checked.
 * TG_E_USAGE for the wrong twin of the kind. */
enum tg_err tg_report_signed(struct tg_db *db, struct json_object *o, bool ear, char **ret, struct tg_diag *d);

#endif
