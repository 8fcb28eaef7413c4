/*
 * trustgate report ID --html FILE
 *
 * One self-contained, printable HTML file a reviewer can file: the verdict
 * banner; why (failing rules first, each with what to do about it); the
 * subject and every input with its digest; signer, supplier, review
 * reference and expiry; for a host, what was observed against what was
 * expected; the audit anchoring and the offline commands that re-verify
 * it.  Inline CSS, no script, no external resource; every string that came
 * from a supplier, a file or a host is HTML-escaped (a supplier named
 * "<img src=x onerror=...>" prints as text).  FILE must not exist; a
 * verdict whose stored document no longer matches its audit row gets no
 * report (exit 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "evidence.h"
#include "appliance.h"
#include "dsse.h"
#include "help.h"
#include <time.h>
#include "../common/text.h"
#include "../common/file.h"
#include "../common/reasons.h"

/* Text into HTML: the five characters that could open markup or close an
 * attribute.  (No string goes into a URL, a script or a style.) */
void tg_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

static void row(FILE *f, const char *label, const char *value)
{
	fputs("<tr><th>", f);
	tg_html_escape(f, label);
	fputs("</th><td>", f);
	tg_html_escape(f, value ? value : "-");
	fputs("</td></tr>\n", f);
}

static void row_code(FILE *f, const char *label, const char *value)
{
	fputs("<tr><th>", f);
	tg_html_escape(f, label);
	fputs("</th><td><code>", f);
	tg_html_escape(f, value ? value : "-");
	fputs("</code></td></tr>\n", f);
}

/* What to do about a failed rule, for the people who read the report: the
 * registry's line for the code (common/reasons.h). */
static const char *remedy(const char *code)
{
	const struct tg_reason_info *ri = tg_reason_find(code);

	return ri ? ri->todo : "See docs/CLI.md (reason codes) for this rule.";
}

static void findings(FILE *f, struct json_object *arr, const char *cls, bool todo)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *x = json_object_array_get_idx(arr, i);
		fprintf(f, "<li class=\"%s\"><code>", cls);
		tg_html_escape(f, tg_jstr(x, "code"));
		fputs("</code> ", f);
		tg_html_escape(f, tg_jstr(x, "detail"));
		if (todo) {
			fputs("<div class=\"todo\">What to do: ", f);
			tg_html_escape(f, remedy(tg_jstr(x, "code")));
			fputs("</div>", f);
		}
		fputs("</li>\n", f);
	}
}

static const char css[] =
	"body{font-family:'Noto Sans','Noto Sans CJK SC','DejaVu Sans',sans-serif;margin:2em;color:#111;max-width:60em}"
	"h1{font-size:1.3em;margin:0}h2{font-size:1.05em;border-bottom:1px solid #999;margin-top:1.6em}"
	".banner{padding:1em 1.2em;border-radius:6px;color:#fff;margin-bottom:1em}"
	".good{background:#1b7a2f}.bad{background:#b3261e}"
	".banner .verdict{font-size:2em;font-weight:bold;letter-spacing:.05em}"
	"table{border-collapse:collapse;width:100%}th{text-align:left;vertical-align:top;width:14em;padding:.2em .6em .2em 0;"
	"font-weight:600}td{padding:.2em 0;word-break:break-all}code,pre{font-family:'DejaVu Sans Mono',monospace;"
	"font-size:.9em}pre{background:#f3f3f3;padding:.6em;white-space:pre-wrap;word-break:break-all}"
	"li{margin:.4em 0}li.reason code{color:#b3261e;font-weight:bold}li.warning code{color:#8a5a00}"
	".todo{color:#333;font-style:italic;margin-top:.2em}.muted{color:#666}"
	"@media print{body{margin:1cm}.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

void tg_report_write_html(FILE *f, struct json_object *o, const struct tg_anchoring *a, const char *db_path)
{
	struct json_object *subj = tg_jget(o, "subject"), *key = tg_jget(o, "key"), *recs = tg_jget(o, "records");
	struct json_object *sup = tg_jget(recs, "supplier"), *pol = tg_jget(o, "policy"), *tool = tg_jget(o, "tool");
	struct json_object *facts = tg_jget(o, "facts"), *audit = tg_jget(o, "audit"), *host = tg_jget(recs, "host");
	const char *verdict = tg_jstr(o, "verdict") ? tg_jstr(o, "verdict") : "?";
	bool good = strcmp(verdict, "approved") == 0 || strcmp(verdict, "trusted") == 0;
	bool is_attest = tg_jstr(o, "kind") && strcmp(tg_jstr(o, "kind"), "attestation") == 0;
	const char *subject = is_attest ? tg_jstr(o, "host") : tg_jstr(subj, "path");
	char buf[160], up[16];
	size_t i;

	for (i = 0; verdict[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(verdict[i] >= 'a' && verdict[i] <= 'z' ? verdict[i] - 32 : verdict[i]);
	up[i] = '\0';
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
	      "<title>trustgate verdict ", f);
	fprintf(f, "%lld", (long long)json_object_get_int64(tg_jget(o, "id")));
	fputs("</title><style>", f);
	fputs(css, f);
	fputs("</style></head><body>\n", f);
	fprintf(f, "<div class=\"banner %s\" id=\"banner\"><div class=\"verdict\">%s</div><h1>", good ? "good" : "bad", up);
	tg_html_escape(f, is_attest ? "host " : "");
	tg_html_escape(f, subject);
	fprintf(f, "</h1><div>verdict %lld &middot; ", (long long)json_object_get_int64(tg_jget(o, "id")));
	tg_html_escape(f, tg_jstr(o, "time"));
	fputs(" &middot; by ", f);
	tg_html_escape(f, tg_jstr(o, "actor"));
	snprintf(buf, sizeof(buf), " &middot; tier %d%s%s", json_object_get_int(tg_jget(pol, "tier") ? tg_jget(pol, "tier") : tg_jget(o, "tier")),
		 json_object_get_boolean(tg_jget(pol, "cii")) ? ", CII" : "", json_object_get_boolean(tg_jget(pol, "gm")) ? ", GM" : "");
	fputs(buf, f);
	fputs("</div></div>\n", f);

	fputs("<h2>Why</h2>\n<ul id=\"reasons\">\n", f);
	struct json_object *reasons = tg_jget(o, "reasons"), *warnings = tg_jget(o, "warnings");
	if (!reasons || json_object_array_length(reasons) == 0)
		fputs("<li class=\"muted\">Every rule of the tier held: no reason to reject.</li>\n", f);
	findings(f, reasons, "reason", true);
	fputs("</ul>\n", f);
	if (warnings && json_object_array_length(warnings)) {
		fputs("<h2>Warnings (do not change the verdict)</h2>\n<ul id=\"warnings\">\n", f);
		findings(f, warnings, "warning", false);
		fputs("</ul>\n", f);
	}
	if (tg_jget(o, "reevaluates")) {
		fprintf(f, "<p>This verdict re-decides verdict %lld (", (long long)json_object_get_int64(tg_jget(o, "reevaluates")));
		tg_html_escape(f, tg_jstr(o, "previous_verdict"));
		fputs(") after the records it relied on changed.</p>\n", f);
	}

	fputs("<h2>Subject and inputs</h2>\n<table id=\"subject\">\n", f);
	if (is_attest) {
		row(f, "host", tg_jstr(o, "host"));
		row(f, "model", tg_jstr(o, "model"));
		row_code(f, "quote (TPMS_ATTEST) SHA-256", tg_jstr(o, "attest_sha256"));
		row_code(f, "nonce", tg_jstr(o, "nonce"));
		row_code(f, "attestation key", tg_jstr(tg_jget(o, "ak"), "fingerprint"));
		snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(tg_jget(o, "measurements_checked")));
		row(f, "measurements checked", buf);
	} else {
		row(f, "kind", tg_jstr(o, "kind"));
		row(f, "file", tg_jstr(subj, "path"));
		snprintf(buf, sizeof(buf), "%lld bytes", (long long)json_object_get_int64(tg_jget(subj, "size")));
		row(f, "size", buf);
		row_code(f, "SHA-256", tg_jstr(subj, "sha256"));
		struct json_object *dgs = tg_jget(facts, "digests");
		/* a verdict recorded before facts were kept has none */
		if (dgs && json_object_is_type(dgs, json_type_object)) {
			json_object_object_foreach(dgs, alg, hex) {
				if (strcmp(alg, "sha256") != 0) {
					snprintf(buf, sizeof(buf), "%s", alg);
					row_code(f, buf, json_object_get_string(hex));
				}
			}
		}
		row(f, "product", tg_jstr(o, "product"));
		row(f, "version", tg_jstr(o, "version"));
		struct json_object *comps = tg_jget(o, "components");
		for (i = 0; comps && i < json_object_array_length(comps); i++) {
			struct json_object *c = json_object_array_get_idx(comps, i);
			snprintf(buf, sizeof(buf), "component %zu", i + 1);
			fputs("<tr><th>", f);
			tg_html_escape(f, buf);
			fputs("</th><td>", f);
			tg_html_escape(f, tg_jstr(c, "path"));
			fputs(" (", f);
			tg_html_escape(f, tg_jstr(c, "kind"));
			fputs(", ", f);
			tg_html_escape(f, tg_jstr(c, "verdict"));
			fputs(") <code>", f);
			tg_html_escape(f, tg_jstr(c, "sha256"));
			fputs("</code></td></tr>\n", f);
		}
	}
	fputs("</table>\n", f);

	if (!is_attest) {
		fputs("<h2>Signer and supplier</h2>\n<table id=\"signer\">\n", f);
		row_code(f, "key fingerprint", tg_jstr(key, "fingerprint"));
		row(f, "key algorithm", tg_jstr(key, "algorithm"));
		row(f, "signature", tg_jstr(facts, "scheme") ? tg_jstr(facts, "scheme") : NULL);
		row(f, "signature digest", tg_jstr(facts, "sig_hash"));
		row(f, "supplier", tg_jstr(o, "supplier"));
		row(f, "supplier status", tg_jstr(sup, "status"));
		row(f, "country", tg_jstr(sup, "country"));
		row(f, "security review", tg_jstr(sup, "review"));
		row(f, "review expires", tg_jstr(sup, "review_expires"));
		row(f, "key revoked", tg_jstr(tg_jget(recs, "key"), "revoked_at"));
		fputs("</table>\n", f);
	} else {
		fputs("<h2>Host record</h2>\n<table id=\"host\">\n", f);
		row(f, "status", tg_jstr(host, "status"));
		row(f, "model", tg_jstr(host, "model"));
		row_code(f, "AK fingerprint", tg_jstr(host, "ak_fingerprint"));
		row_code(f, "reference set SHA-256", tg_jstr(recs, "reference_set_sha256"));
		fputs("</table>\n", f);
		struct json_object *unk = tg_jget(o, "unknown_measurements");
		fputs("<h2>Observed against expected</h2>\n", f);
		if (!unk || json_object_array_length(unk) == 0) {
			fputs("<p class=\"muted\">Every measured event of the attested PCRs is a reference value.</p>\n", f);
		} else {
			fputs("<table id=\"measurements\"><tr><th>PCR / event</th><th>observed</th><th>nearest expected</th></tr>\n", f);
			for (i = 0; i < json_object_array_length(unk); i++) {
				struct json_object *e = json_object_array_get_idx(unk, i), *nr = tg_jget(e, "nearest");
				fprintf(f, "<tr><td>PCR %d ", json_object_get_int(tg_jget(e, "pcr")));
				tg_html_escape(f, tg_jstr(e, "type"));
				fputs("<br>", f);
				tg_html_escape(f, tg_jstr(e, "description"));
				fputs("</td><td><code>", f);
				tg_html_escape(f, tg_jstr(e, "digest"));
				fputs("</code></td><td>", f);
				if (nr) {
					fputs("<code>", f);
					tg_html_escape(f, tg_jstr(nr, "digest"));
					fputs("</code><br>", f);
					tg_html_escape(f, tg_jstr(nr, "description"));
					fputs(" (", f);
					tg_html_escape(f, tg_jstr(nr, "model") ? tg_jstr(nr, "model") : tg_jstr(nr, "release"));
					fputs(")", f);
				} else {
					fputs("none for this PCR", f);
				}
				fputs("</td></tr>\n", f);
			}
			fputs("</table>\n", f);
		}
	}

	fputs("<h2>Audit anchoring</h2>\n<table id=\"audit\">\n", f);
	snprintf(buf, sizeof(buf), "%lld", (long long)json_object_get_int64(tg_jget(audit, "seq")));
	row(f, "audit row", buf);
	row_code(f, "audit row hash", tg_jstr(audit, "hash"));
	row(f, "report digest in the row", a->covered ? "yes (SHA-256 of the stored verdict)" : "no (recorded before reports were digested)");
	row_code(f, "records used (SHA-256)", tg_jstr(pol, "records_sha256"));
	snprintf(buf, sizeof(buf), "trustgate %s, commit %s", tg_jstr(tool, "version") ? tg_jstr(tool, "version") : "?",
		 tg_jstr(tool, "commit") ? tg_jstr(tool, "commit") : "?");
	row(f, "decided by", buf);
	row_code(f, "build SHA-256", tg_jstr(tool, "build_sha256"));
	fputs("</table>\n", f);

	fputs("<h2>Re-verify offline</h2>\n<pre id=\"commands\">", f);
	fprintf(f, "# the verdict, checked against its audit row, and the whole chain of records\n"
		   "trustgate --db ");
	tg_html_escape(f, db_path);
	fprintf(f, " verdict show %lld\ntrustgate --db ", (long long)json_object_get_int64(tg_jget(o, "id")));
	tg_html_escape(f, db_path);
	fputs(" audit verify\n", f);
	if (!is_attest) {
		fputs("# the file is the one decided on: its SHA-256 must be ", f);
		tg_html_escape(f, tg_jstr(subj, "sha256"));
		fputs("\nsha256sum FILE\n# its signature, with the supplier's public key (trustgate key show ", f);
		tg_html_escape(f, tg_jstr(key, "fingerprint") ? tg_jstr(key, "fingerprint") : "FINGERPRINT");
		fputs(")\nopenssl dgst -", f);
		tg_html_escape(f, tg_jstr(facts, "sig_hash") ? tg_jstr(facts, "sig_hash") : "sha256");
		fputs(" -verify KEY.pem -signature SIG FILE\n", f);
	} else {
		fputs("# the quote, with the host's AK and the nonce above\ntpm2_checkquote -u AK.pem -m attest.bin -s sig.bin "
		      "-f pcrs.bin -g sha256 -q ", f);
		tg_html_escape(f, tg_jstr(o, "nonce"));
		fputs("\ntpm2_eventlog eventlog.bin\n", f);
	}
	fputs("</pre>\n<p class=\"muted\">Written by trustgate report; names, paths and details above are shown as "
	      "recorded, escaped.</p>\n</body></html>\n", f);
}

/* ------------------------------------------------------- VSA and EAR */

static int64_t iso_epoch(const char *iso)
{
	struct tm tm = { 0 };

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static struct json_object *reason_codes(struct json_object *o)
{
	struct json_object *out = json_object_new_array(), *rs = tg_jget(o, "reasons");

	for (size_t i = 0; rs && i < json_object_array_length(rs); i++)
		json_object_array_add(out, json_object_new_string(tg_jstr(json_object_array_get_idx(rs, i), "code") ?: "?"));
	return out;
}

/* in-toto Statement v1 with a SLSA Verification Summary predicate:
 * https://slsa.dev/verification_summary/v1. */
static char *vsa_statement(struct json_object *o, const char *fpr)
{
	_cleanup_json_ struct json_object *st = json_object_new_object();
	struct json_object *subj = tg_jget(o, "subject"), *facts = tg_jget(o, "facts"), *pol = tg_jget(o, "policy");
	struct json_object *subjects = json_object_new_array(), *s1 = json_object_new_object();
	struct json_object *dg = json_object_new_object(), *pred = json_object_new_object();
	struct json_object *verifier = json_object_new_object(), *ver = json_object_new_object();
	struct json_object *policy = json_object_new_object(), *pdg = json_object_new_object();
	struct json_object *levels = json_object_new_array(), *ext = json_object_new_object();
	bool passed = tg_jstr(o, "verdict") && strcmp(tg_jstr(o, "verdict"), "approved") == 0;
	int tier = json_object_get_int(tg_jget(pol, "tier"));
	char buf[400];

	tg_json_str(st, "_type", "https://in-toto.io/Statement/v1");
	tg_json_str(s1, "name", tg_jstr(subj, "path"));
	tg_json_str(dg, "sha256", tg_jstr(subj, "sha256"));
	struct json_object *dgs = tg_jget(facts, "digests");
	if (dgs && json_object_is_type(dgs, json_type_object)) {
		json_object_object_foreach(dgs, alg, hex)
			if (strcmp(alg, "sha256") != 0)
				json_object_object_add(dg, alg, json_object_get(hex));
	}
	json_object_object_add(s1, "digest", dg);
	json_object_array_add(subjects, s1);
	json_object_object_add(st, "subject", subjects);
	tg_json_str(st, "predicateType", "https://slsa.dev/verification_summary/v1");
	snprintf(buf, sizeof(buf), "trustgate:appliance:%s", fpr);
	tg_json_str(verifier, "id", buf);
	tg_json_str(ver, "trustgate", tg_tool_version());
	json_object_object_add(verifier, "version", ver);
	json_object_object_add(pred, "verifier", verifier);
	tg_json_str(pred, "timeVerified", tg_jstr(o, "time"));
	if (tg_jstr(o, "supplier") && tg_jstr(o, "product"))
		snprintf(buf, sizeof(buf), "trustgate:product:%s/%s@%s", tg_jstr(o, "supplier"), tg_jstr(o, "product"),
			 tg_jstr(o, "version") ? tg_jstr(o, "version") : "");
	else
		snprintf(buf, sizeof(buf), "file:%s", tg_jstr(subj, "path") ? tg_jstr(subj, "path") : "");
	tg_json_str(pred, "resourceUri", buf);
	snprintf(buf, sizeof(buf), "trustgate:policy:tier%d%s%s", tier, json_object_get_boolean(tg_jget(pol, "cii")) ? ":cii" : "",
		 json_object_get_boolean(tg_jget(pol, "gm")) ? ":gm" : "");
	tg_json_str(policy, "uri", buf);
	tg_json_str(pdg, "sha256", tg_jstr(pol, "records_sha256"));
	json_object_object_add(policy, "digest", pdg);
	json_object_object_add(pred, "policy", policy);
	tg_json_str(pred, "verificationResult", passed ? "PASSED" : "FAILED");
	if (passed) {
		snprintf(buf, sizeof(buf), "MLPS_TIER_%d", tier);
		json_object_array_add(levels, json_object_new_string(buf));
	}
	json_object_object_add(pred, "verifiedLevels", levels);
	tg_json_str(pred, "slsaVersion", "1.0");
	/* where the verdict sits in the appliance's audit chain */
	json_object_object_add(ext, "verdict_id", json_object_get(tg_jget(o, "id")));
	json_object_object_add(ext, "audit", json_object_get(tg_jget(o, "audit")));
	json_object_object_add(ext, "reasons", reason_codes(o));
	json_object_object_add(pred, "trustgate", ext);
	json_object_object_add(st, "predicate", pred);
	return strdup(json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* AR4SI trustworthiness claims from an attestation's reasons: 2 affirming,
 * 32-95 warning, 96-127 contraindicated (draft-ietf-rats-ar4si).  An
 * UNTRUSTED verdict is never left "affirming": a reason no claim maps is
 * charged to executables. */
static struct json_object *trust_vector(struct json_object *o, const char **status)
{
	struct json_object *tv = json_object_new_object(), *rs = tg_jget(o, "reasons");
	int identity = 2, hardware = 2, executables = 2, configuration = 2;
	bool trusted = tg_jstr(o, "verdict") && strcmp(tg_jstr(o, "verdict"), "trusted") == 0;

	for (size_t i = 0; rs && i < json_object_array_length(rs); i++) {
		const char *c = tg_jstr(json_object_array_get_idx(rs, i), "code");
		if (!c)
			continue;
		if (!strcmp(c, TG_R(QUOTE_SIG_INVALID)) || !strcmp(c, TG_R(AK_NOT_ENROLLED)) || !strcmp(c, TG_R(HOST_UNKNOWN)) ||
		    !strcmp(c, TG_R(AK_ATTRIBUTES)) || !strcmp(c, TG_R(QUOTE_NOT_TPM_GENERATED)) || !strcmp(c, TG_R(RECORD_TAMPERED)))
			identity = 96;
		else if (!strcmp(c, TG_R(QUOTE_NONCE)) || !strcmp(c, TG_R(QUOTE_CLOCK)) || !strcmp(c, TG_R(QUOTE_TYPE)))
			hardware = hardware > 32 ? hardware : 32;
		else if (!strcmp(c, TG_R(MEASUREMENT_REVOKED)))
			executables = 99;
		else if (!strcmp(c, TG_R(MEASUREMENT_UNKNOWN)) || !strcmp(c, TG_R(REFERENCE_EMPTY)))
			executables = executables > 33 ? executables : 33;
		else if (!strcmp(c, TG_R(EVENTLOG_REPLAY_MISMATCH)) || !strcmp(c, TG_R(SEPARATOR_INVALID)) ||
			 !strcmp(c, TG_R(EVENTLOG_MALFORMED)) || !strcmp(c, TG_R(QUOTE_PCR_DIGEST)) || !strcmp(c, TG_R(QUOTE_PCR_SELECTION)))
			configuration = 96;
		else
			executables = executables > 96 ? executables : 96;
	}
	if (!trusted && identity < 32 && hardware < 32 && executables < 32 && configuration < 32)
		executables = 96;
	json_object_object_add(tv, "instance-identity", json_object_new_int(identity));
	json_object_object_add(tv, "configuration", json_object_new_int(configuration));
	json_object_object_add(tv, "executables", json_object_new_int(executables));
	json_object_object_add(tv, "hardware", json_object_new_int(hardware));
	int worst = identity;
	worst = hardware > worst ? hardware : worst;
	worst = executables > worst ? executables : worst;
	worst = configuration > worst ? configuration : worst;
	/* Only TRUSTED affirms; an UNTRUSTED verdict is contraindicated. */
	*status = trusted && worst < 32 ? "affirming" : "contraindicated";
	return tv;
}

/* EAT Attestation Result claims (draft-ietf-rats-ear), one submodule per host. */
static char *ear_claims(struct json_object *o)
{
	_cleanup_json_ struct json_object *c = json_object_new_object();
	struct json_object *vid = json_object_new_object(), *submods = json_object_new_object();
	struct json_object *app = json_object_new_object(), *tool = tg_jget(o, "tool"), *pol = tg_jget(o, "records");
	const char *status = "contraindicated";
	char buf[300];

	tg_json_str(c, "eat_profile", "tag:github.com,2023:veraison/ear");
	json_object_object_add(c, "iat", json_object_new_int64(iso_epoch(tg_jstr(o, "time"))));
	tg_json_str(vid, "developer", "trustgate");
	snprintf(buf, sizeof(buf), "trustgate %s commit %s build sha256:%s", tg_jstr(tool, "version") ?: "?",
		 tg_jstr(tool, "commit") ?: "?", tg_jstr(tool, "build_sha256") ?: "?");
	tg_json_str(vid, "build", buf);
	json_object_object_add(c, "ear.verifier-id", vid);
	if (tg_jstr(o, "nonce"))
		tg_json_str(c, "eat_nonce", tg_jstr(o, "nonce"));
	struct json_object *tv = trust_vector(o, &status);
	tg_json_str(app, "ear.status", status);
	json_object_object_add(app, "ear.trustworthiness-vector", tv);
	snprintf(buf, sizeof(buf), "trustgate:attest:tier%d:references:%s", json_object_get_int(tg_jget(o, "tier")),
		 tg_jstr(pol, "reference_set_sha256") ?: "none");
	tg_json_str(app, "ear.appraisal-policy-id", buf);
	json_object_object_add(submods, tg_jstr(o, "host") ?: "host", app);
	json_object_object_add(c, "submods", submods);
	json_object_object_add(c, "trustgate.verdict-id", json_object_get(tg_jget(o, "id")));
	json_object_object_add(c, "trustgate.audit", json_object_get(tg_jget(o, "audit")));
	json_object_object_add(c, "trustgate.reasons", reason_codes(o));
	return strdup(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

enum tg_err tg_report_signed(struct tg_db *db, struct json_object *o, bool ear, char **ret, struct tg_diag *d)
{
	bool is_attest = tg_jstr(o, "kind") && strcmp(tg_jstr(o, "kind"), "attestation") == 0;
	long long id = (long long)json_object_get_int64(tg_jget(o, "id"));
	struct tg_privkey *key = NULL;
	char *text = NULL;
	enum tg_err r = TG_OK;

	*ret = NULL;
	if (!ear && is_attest)
		return tg_fail(d, TG_E_USAGE, "verdict %lld is an attestation: its signed twin is an EAR (--ear), not a VSA",
			       id);
	if (ear && !is_attest)
		return tg_fail(d, TG_E_USAGE, "verdict %lld is a check: its signed twin is a VSA (--vsa), not an EAR", id);
	r = tg_appliance_key_load(db, &key, d);
	if (r == TG_OK) {
		_cleanup_free_ char *body = ear ? ear_claims(o) : vsa_statement(o, key->pub->fingerprint);
		if (!body)
			r = TG_E_NOMEM;
		else if (ear)
			r = tg_appliance_jwt(key, body, &text, d);
		else
			r = tg_appliance_dsse(key, TG_INTOTO_PAYLOAD_TYPE, body, &text, d);
	}
	tg_privkey_free(key);
	*ret = text;
	return r;
}

static int cmd_report(struct tg_ctx *ctx, const char *id_s, const char *html, const char *vsa, const char *ear)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *o = NULL, *out = json_object_new_object();
	_cleanup_free_ char *vsa_text = NULL, *ear_text = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_anchoring a;
	int64_t id = 0;
	enum tg_err r = tg_evidence_parse_id(id_s, &id, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_evidence_load(db, id, &o, &a, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!a.found || a.problem[0]) {
		fprintf(stderr, "trustgate: verdict %lld: %s: nothing written\n", (long long)id,
			a.problem[0] ? a.problem : "no audit row");
		return TG_EXIT_NEGATIVE;
	}
	/* Everything is made before anything is written: bad input leaves no file. */
	if (vsa)
		r = tg_report_signed(db, o, false, &vsa_text, &d);
	if (r == TG_OK && ear)
		r = tg_report_signed(db, o, true, &ear_text, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	const char *paths[3] = { html, vsa, ear };
	for (int i = 0; i < 3 && r == TG_OK; i++) {
		if (!paths[i])
			continue;
		if (i == 0) {
			_cleanup_free_ char *text = NULL;
			size_t tl = 0;
			FILE *m = open_memstream(&text, &tl);
			if (!m)
				return tg_cli_fail(ctx, TG_E_NOMEM, &d);
			tg_report_write_html(m, o, &a, db->path);
			if (fclose(m) != 0 || !text)
				return tg_cli_fail(ctx, TG_E_NOMEM, &d);
			r = tg_file_write_new(paths[i], text, tl, 0644, &d);
		} else {
			{
			const char *t = i == 1 ? vsa_text : ear_text;
			r = tg_file_write_new(paths[i], t, strlen(t), 0644, &d);
		}
		}
		if (r != TG_OK) {
			/* all or nothing: what this run wrote goes again */
			for (int k = 0; k < i; k++)
				if (paths[k])
					unlink(paths[k]);
		}
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	json_object_object_add(out, "id", json_object_new_int64(id));
	tg_json_str(out, "html", html);
	tg_json_str(out, "vsa", vsa);
	tg_json_str(out, "ear", ear);
	if (ctx->json) {
		tg_cli_print_json(out);
	} else {
		for (int i = 0; i < 3; i++)
			if (paths[i])
				printf("%s of verdict %lld written to %s\n", i == 0 ? "report" : i == 1 ? "VSA" : "EAR",
				       (long long)id, paths[i]);
	}
	return TG_EXIT_OK;
}

int tg_cmd_report(struct tg_ctx *ctx, int argc, char **argv)
{
	const char *html = NULL, *vsa = NULL, *ear = NULL;
	const struct tg_opt opts[] = {
		{ "html", true, &html, NULL }, { "vsa", true, &vsa, NULL }, { "ear", true, &ear, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);

	if (r == TG_OK && !html && !vsa && !ear)
		r = tg_fail(&d, TG_E_USAGE, "report: --html FILE is required (or --vsa FILE / --ear FILE)");
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	return cmd_report(ctx, pos[0], html, vsa, ear);
}
