/*
 * trustgate quote verify --ak AKPUB --msg ATTEST --sig SIG
 *                        [--pcrs PCRS] [--eventlog LOG] [--nonce HEX]
 *                        [--bundle DIR] [--pcr-list LIST]
 *
 * Verify a TPM 2.0 quote as tpm2-tools 5.x writes it.  TRUSTED (exit 0)
 * only when every check ran and none failed; UNTRUSTED (exit 1) names each
 * failed check; exit 2 when the inputs cannot be read.  The agent side
 * (`trustgate quote --nonce HEX --out DIR`) comes with the appliance work.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attest.h"
#include "cli.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../measure/quote.h"
#include "../measure/decisions.h"
#include "../measure/tpm.h"
#include "../common/reasons.h"

static void findings_json(struct json_object *o, const char *key, const struct tg_quote_finding *f, size_t n)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_string(f[i].code));
		json_object_object_add(e, "detail", json_object_new_string(f[i].detail));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, key, arr);
}

static int cmd_verify(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ uint8_t *akb = NULL, *msgb = NULL, *sigb = NULL, *pcrb = NULL, *logb = NULL;
	_cleanup_(tg_eventlog_freep) struct tg_eventlog *el = NULL;
	const char *ak = NULL, *msg = NULL, *sig = NULL, *pcrs = NULL, *log = NULL, *nonce = NULL;
	const char *bundle = NULL, *pcr_list = NULL;
	const struct tg_opt opts[] = {
		{ "ak", true, &ak, NULL },         { "msg", true, &msg, NULL },
		{ "sig", true, &sig, NULL },       { "pcrs", true, &pcrs, NULL },
		{ "eventlog", true, &log, NULL },  { "nonce", true, &nonce, NULL },
		{ "bundle", true, &bundle, NULL }, { "pcr-list", true, &pcr_list, NULL },
		{ NULL, false, NULL, NULL },
	};
	_cleanup_(tg_bundle_release) struct tg_bundle bf = { 0 };
	struct tg_diag d = { { 0 } };
	struct tg_ak akey = { 0 };
	struct tg_quote q = { 0 };
	struct tg_pcr_values pv;
	struct tg_quote_result res;
	uint8_t nonce_b[64];
	size_t nonce_len = 0, akl = 0, msgl = 0, sigl = 0, pcrl = 0, logl = 0;
	uint32_t required = 0xff;
	char **pos, hex[2 * TG_HASH_MAX_LEN + 1];
	int npos, exit_code;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (bundle) {
		/* A bundle from `trustgate quote --out DIR`. */
		if (tg_bundle_open(bundle, &bf) != TG_OK)
			return tg_cli_fail(ctx, TG_E_NOMEM, &d);
		ak = ak ? ak : tg_bundle_if_present(bf.ak_tpm2b) ? bf.ak_tpm2b : bf.ak_pem;
		msg = msg ? msg : bf.msg;
		sig = sig ? sig : bf.sig;
		pcrs = pcrs ? pcrs : tg_bundle_if_present(bf.pcrs);
		log = log ? log : tg_bundle_if_present(bf.log);
	}
	if (!ak || !msg || !sig)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "quote verify: --ak, --msg and --sig (or --bundle DIR) are required"), &d);
	if (nonce && (!tg_hex_decode(nonce, nonce_b, sizeof(nonce_b), &nonce_len) || nonce_len == 0))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--nonce must be hex (at most 64 bytes)"), &d);
	if (pcr_list && !tg_attest_parse_pcr_list(pcr_list, &required))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--pcr-list '%s': use e.g. 0-7 or 0,2,4,7", pcr_list), &d);

	r = tg_file_read(ak, TG_MAX_KEY_FILE, &akb, &akl, &d);
	if (r == TG_OK)
		r = tg_ak_parse(tg_span_make(akb, akl), ak, &akey, &d);
	if (r == TG_OK)
		r = tg_file_read(msg, sizeof(TPM2B_ATTEST) + 2, &msgb, &msgl, &d);
	if (r == TG_OK)
		r = tg_file_read(sig, sizeof(TPMT_SIGNATURE) + 16, &sigb, &sigl, &d);
	if (r == TG_OK)
		r = tg_quote_parse(tg_span_make(msgb, msgl), msg, tg_span_make(sigb, sigl), sig, &q, &d);
	if (r == TG_OK && pcrs) {
		r = tg_file_read(pcrs, 1024 * 1024, &pcrb, &pcrl, &d);
		if (r == TG_OK)
			r = tg_pcrs_parse(tg_span_make(pcrb, pcrl), pcrs,
					  q.attest.type == TPM2_ST_ATTEST_QUOTE ? &q.attest.attested.quote.pcrSelect : NULL,
					  &pv, &d);
	}
	if (r == TG_OK && log)
		r = tg_file_read(log, TG_MAX_EVENTLOG, &logb, &logl, &d);
	if (r != TG_OK) {
		tg_ak_release(&akey);
		tg_quote_release(&q);
		return tg_cli_fail(ctx, r, &d);
	}
	struct tg_quote_inputs in = {
		.ak = &akey, .quote = &q, .nonce = nonce ? nonce_b : NULL, .nonce_len = nonce_len,
		.pcrs = pcrs ? &pv : NULL, .required_pcrs = required,
	};
	struct tg_diag logd = { { 0 } };
	bool log_bad = false;
	if (log) {
		/* A malformed log from the host is a finding about the host. */
		if (tg_eventlog_parse(tg_span_make(logb, logl), log, &el, &logd) != TG_OK)
			log_bad = true;
		else
			in.eventlog = el;
	}
	r = tg_quote_check(&in, &res, &d);
	if (r != TG_OK) {
		tg_ak_release(&akey);
		tg_quote_release(&q);
		return tg_cli_fail(ctx, r, &d);
	}
	if (log_bad && res.n < TG_QUOTE_MAX_FINDINGS) {
		res.f[res.n].code = TG_R(EVENTLOG_MALFORMED);
		snprintf(res.f[res.n].detail, sizeof(res.f[res.n].detail), "%.200s", logd.msg);
		res.n++;
	}
	bool trusted = res.complete && res.n == 0;
	exit_code = trusted ? TG_EXIT_OK : TG_EXIT_NEGATIVE;

	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		struct json_object *ako = json_object_new_object(), *qo = json_object_new_object(),
				   *selo = json_object_new_object();
		json_object_object_add(o, "verdict", json_object_new_string(trusted ? "trusted" : "untrusted"));
		json_object_object_add(o, "kind", json_object_new_string("quote"));
		json_object_object_add(ako, "fingerprint", json_object_new_string(akey.key->fingerprint));
		json_object_object_add(ako, "algorithm", json_object_new_string(tg_key_algorithm(akey.key)));
		if (akey.name_len) {
			tg_hex_encode(akey.name, akey.name_len, hex);
			json_object_object_add(ako, "name", json_object_new_string(hex));
		}
		json_object_object_add(o, "ak", ako);
		tg_json_str(o, "nonce", nonce);
		if (q.attest.type == TPM2_ST_ATTEST_QUOTE) {
			const TPML_PCR_SELECTION *sel = &q.attest.attested.quote.pcrSelect;
			for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
				struct json_object *arr = json_object_new_array();
				for (int p = 0; p < 8 * sel->pcrSelections[i].sizeofSelect && p < 32; p++)
					if (sel->pcrSelections[i].pcrSelect[p / 8] & (1u << (p % 8)))
						json_object_array_add(arr, json_object_new_int(p));
				json_object_object_add(selo, tg_hash_name(tg_tpm_alg_hash(sel->pcrSelections[i].hash)), arr);
			}
			tg_hex_encode(q.attest.attested.quote.pcrDigest.buffer,
				      q.attest.attested.quote.pcrDigest.size, hex);
			json_object_object_add(qo, "pcr_digest", json_object_new_string(hex));
		}
		json_object_object_add(qo, "pcr_selection", selo);
		json_object_object_add(qo, "clock", json_object_new_int64((int64_t)q.attest.clockInfo.clock));
		json_object_object_add(qo, "reset_count", json_object_new_int64(q.attest.clockInfo.resetCount));
		json_object_object_add(qo, "restart_count", json_object_new_int64(q.attest.clockInfo.restartCount));
		json_object_object_add(o, "quote", qo);
		findings_json(o, "reasons", res.f, res.n);
		findings_json(o, "warnings", res.w, res.nw);
		tg_cli_print_json(o);
	} else {
		printf("%s  quote  AK %s (%s)\n", trusted ? "TRUSTED" : "UNTRUSTED", akey.key->fingerprint,
		       tg_key_algorithm(akey.key));
		for (size_t i = 0; i < res.n; i++)
			printf("  reason    %s: %s\n", res.f[i].code, res.f[i].detail);
		for (size_t i = 0; i < res.nw; i++)
			printf("  warning   %s: %s\n", res.w[i].code, res.w[i].detail);
	}
	tg_ak_release(&akey);
	tg_quote_release(&q);
	return exit_code;
}

/* Write one bundle file; nothing is left half-written on failure. */
static enum tg_err write_file(const char *dir, const char *name, const void *p, size_t n, struct tg_diag *d)
{
	_cleanup_free_ char *path = tg_path_join(dir, name);
	FILE *f;

	if (!path)
		return TG_E_NOMEM;
	f = fopen(path, "wbx");
	if (!f)
		return tg_fail(d, TG_E_IO, "%s: cannot create: %s", path, strerror(errno));
	bool ok = fwrite(p, 1, n, f) == n;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		unlink(path);
		return tg_fail(d, TG_E_IO, "%s: write failed", path);
	}
	return TG_OK;
}

/* trustgate quote --nonce HEX --out DIR [--tcti CONF] [--ak-alg rsa|ecc]
 *                [--pcr-list LIST] [--eventlog LOG]
 * The agent side: quote this machine's TPM with trustgate's AK (created
 * under the EK and persisted on first use) and write the bundle that
 * `quote verify --bundle` and `attest --bundle` read. */
static int cmd_agent(struct tg_ctx *ctx, int argc, char **argv)
{
	static const char *const default_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
	const char *nonce = NULL, *out = NULL, *tcti = NULL, *alg = NULL, *pcr_list = NULL, *log = NULL;
	const char *decisions = NULL;
	const struct tg_opt opts[] = {
		{ "nonce", true, &nonce, NULL },   { "out", true, &out, NULL },
		{ "tcti", true, &tcti, NULL },     { "ak-alg", true, &alg, NULL },
		{ "pcr-list", true, &pcr_list, NULL }, { "eventlog", true, &log, NULL },
		{ "decisions", true, &decisions, NULL },
		{ NULL, false, NULL, NULL },
	};
	_cleanup_free_ uint8_t *decb = NULL;
	size_t decl = 0;
	struct tg_diag d = { { 0 } };
	struct tg_tpm *tpm = NULL;
	struct tg_tpm_quote q = { 0 };
	_cleanup_free_ uint8_t *logb = NULL;
	uint8_t nb[64];
	size_t nl = 0, logl = 0;
	uint32_t mask = 0xff;
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && (!nonce || !out))
		r = tg_fail(&d, TG_E_USAGE, "quote: --nonce HEX and --out DIR are required (or: quote verify ...)");
	if (r == TG_OK && (!tg_hex_decode(nonce, nb, sizeof(nb), &nl) || nl < 8))
		r = tg_fail(&d, TG_E_USAGE, "--nonce '%s': 8 to 64 bytes of hex", nonce);
	if (r == TG_OK && alg && strcmp(alg, "rsa") != 0 && strcmp(alg, "ecc") != 0)
		r = tg_fail(&d, TG_E_USAGE, "--ak-alg '%s': rsa or ecc", alg);
	if (r == TG_OK && pcr_list && !tg_attest_parse_pcr_list(pcr_list, &mask))
		r = tg_fail(&d, TG_E_USAGE, "--pcr-list '%s' is not a list of PCRs 0-23", pcr_list);
	/* The event log goes into the bundle as read now. */
	if (r == TG_OK && (log || access(default_log, R_OK) == 0))
		r = tg_file_read_stream(log ? log : default_log, TG_MAX_EVENTLOG, &logb, &logl, &d);
	/* The appliance's decision log: its events follow the boot log's in
	 * eventlog.bin (PCR 15 is replayed from them), or it is the log. */
	if (r == TG_OK && decisions) {
		r = tg_file_read(decisions, TG_MAX_EVENTLOG, &decb, &decl, &d);
		if (r == TG_OK && (r = tg_decision_log_join(&logb, &logl, decb, decl)) == TG_E_FORMAT)
			r = tg_fail(&d, TG_E_FORMAT, "%s: not a trustgate decision log", decisions);
	}
	/* The TPM first: a failing TPM leaves nothing behind. */
	if (r == TG_OK && access(out, F_OK) == 0)
		r = tg_fail(&d, TG_E_IO, "%s: already exists; the bundle goes into a new directory", out);
	if (r == TG_OK)
		r = tg_tpm_open(tcti, &tpm, &d);
	if (r == TG_OK)
		r = tg_tpm_quote(tpm, alg && strcmp(alg, "ecc") == 0, nb, nl, mask, &q, &d);
	tg_tpm_close(tpm);
	if (r == TG_OK && mkdir(out, 0700) != 0)
		r = tg_fail(&d, TG_E_IO, "%s: cannot create the bundle directory: %s", out, strerror(errno));
	if (r == TG_OK)
		r = write_file(out, "attest.bin", q.attest, q.attest_len, &d);
	if (r == TG_OK)
		r = write_file(out, "sig.bin", q.sig, q.sig_len, &d);
	if (r == TG_OK)
		r = write_file(out, "ak.tpm2b", q.ak_public, q.ak_public_len, &d);
	if (r == TG_OK && logb)
		r = write_file(out, "eventlog.bin", logb, logl, &d);
	if (r == TG_OK) {
		_cleanup_json_ struct json_object *o = json_object_new_object(), *bank = json_object_new_object();
		char hex[65], idx[4];
		for (int i = 0; i < 24; i++)
			if (mask & (1u << i)) {
				tg_hex_encode(q.pcr[i], 32, hex);
				snprintf(idx, sizeof(idx), "%d", i);
				json_object_object_add(bank, idx, json_object_new_string(hex));
			}
		json_object_object_add(o, "sha256", json_object_get(bank));
		const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
		r = write_file(out, "pcrs.json", text, strlen(text), &d);
	}
	if (r != TG_OK) {
		tg_tpm_quote_release(&q);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		json_object_object_add(o, "bundle", json_object_new_string(out));
		json_object_object_add(o, "ak_handle", json_object_new_int64(alg && strcmp(alg, "ecc") == 0 ?
										TG_AK_HANDLE_ECC : TG_AK_HANDLE_RSA));
		json_object_object_add(o, "ak_created", json_object_new_boolean(q.ak_created));
		json_object_object_add(o, "eventlog", json_object_new_boolean(logb != NULL));
		tg_cli_print_json(o);
	} else {
		printf("quote written to %s (AK 0x%08x%s%s)\n", out, alg && strcmp(alg, "ecc") == 0 ? TG_AK_HANDLE_ECC :
		       TG_AK_HANDLE_RSA, q.ak_created ? ", created now" : "", logb ? ", event log included" : "");
	}
	tg_tpm_quote_release(&q);
	return TG_EXIT_OK;
}

int tg_cmd_quote(struct tg_ctx *ctx, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "verify") == 0) {
		ctx->sub = "verify";
		return cmd_verify(ctx, argc - 1, argv + 1);
	}
	return cmd_agent(ctx, argc, argv);
}
