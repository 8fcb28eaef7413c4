/* The tier rules without a database: the tier table, and the signature and
 * supplier rules (tg_policy_signature, tg_policy_supplier) and the product
 * and release rules (tg_policy_product) over records
 * built in memory, one table row per case: tier, CII, GM, key, digest,
 * supplier -> the codes expected (reasons and warnings).  Every approving
 * row has a forged twin that differs in one field and must be rejected. */
#include <string.h>

#include "harness.h"
#include "../../common/reasons.h"
#include "../../verifier/policy.h"

#define NOW 1795953600LL   /* 2026-11-29 12:00 UTC */

/* The codes of a verdict as "R:CODE,W:CODE" in order, for comparison. */
static void codes(const struct tg_verdict *v, char *out, size_t n)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < v->nreasons && off < n; i++)
		off += (size_t)snprintf(out + off, n - off, "%sR:%s", off ? "," : "", v->reasons[i].code);
	for (size_t i = 0; i < v->nwarnings && off < n; i++)
		off += (size_t)snprintf(out + off, n - off, "%sW:%s", off ? "," : "", v->warnings[i].code);
}

static void tier_table(void)
{
	static const struct {
		int tier;
		bool cii;
		int want_tier, rsa;
		bool products, sha1, sha256, review, releases;
	} rows[] = {
		{ 1, false, 1, 2048, false, true, true, false, false },
		{ 2, false, 2, 2048, false, true, true, false, false },
		{ 3, false, 3, 2048, true, false, true, true, false },
		{ 4, false, 4, 3072, true, false, false, true, true },
		{ 5, false, 5, 3072, true, false, false, true, true },
		{ 1, true, 4, 3072, true, false, false, true, true },   /* CII: tier 4 at least */
		{ 3, true, 4, 3072, true, false, false, true, true },
		{ 5, true, 5, 3072, true, false, false, true, true },
		{ 0, false, 1, 2048, false, true, true, false, false },  /* out of range: clamped */
		{ 9, false, 5, 3072, true, false, false, true, true },
	};
	for (size_t i = 0; i < TG_ARRAY_SIZE(rows); i++) {
		const struct tg_tier_rules *t = tg_tier_rules_for(rows[i].tier, rows[i].cii);
		CHECK(t->tier == rows[i].want_tier && t->rsa_min_bits == rows[i].rsa && t->products == rows[i].products &&
			      t->sha1 == rows[i].sha1 && t->sha256 == rows[i].sha256 &&
			      t->supplier_review == rows[i].review && t->releases == rows[i].releases,
		      "tier table: tier %d%s", rows[i].tier, rows[i].cii ? " CII" : "");
	}
}

static void signature_rules(void)
{
	static const char *const fw[] = { "firmware", "package", NULL };
	static const char *const pkg[] = { "package", NULL };
	static const struct {
		const char *name;
		int tier;
		bool cii, gm;
		const char *alg;
		int bits;
		const char *hashes, *purposes;
		enum tg_hash h;
		enum tg_sig_scheme scheme;
		const char *revoked, *not_before, *not_after;
		bool package;
		const char *want;
	} rows[] = {
		{ "P-256/SHA-256 at tier 3", 3, false, false, "ecdsa-p256", 256, "sha256,sha384", "firmware", TG_HASH_SHA256,
		  TG_SCHEME_ECDSA, NULL, NULL, NULL, false, "" },
		{ "  twin: same key revoked", 3, false, false, "ecdsa-p256", 256, "sha256,sha384", "firmware", TG_HASH_SHA256,
		  TG_SCHEME_ECDSA, "2026-01-01", NULL, NULL, false, "R:KEY_REVOKED" },
		{ "  twin: key expired", 3, false, false, "ecdsa-p256", 256, "sha256", "firmware", TG_HASH_SHA256,
		  TG_SCHEME_ECDSA, NULL, NULL, "2026-06-01", false, "R:KEY_EXPIRED" },
		{ "  twin: key not valid yet", 3, false, false, "ecdsa-p256", 256, "sha256", "firmware", TG_HASH_SHA256,
		  TG_SCHEME_ECDSA, NULL, "2027-06-01", NULL, false, "R:KEY_EXPIRED" },
		{ "  twin: a package, key only for firmware", 3, false, false, "ecdsa-p256", 256, "sha256", "firmware",
		  TG_HASH_SHA256, TG_SCHEME_ECDSA, NULL, NULL, NULL, true, "R:KEY_PURPOSE" },
		{ "  twin: SHA-384 signature, key pinned to SHA-256", 3, false, false, "ecdsa-p256", 256, "sha256",
		  "firmware", TG_HASH_SHA384, TG_SCHEME_ECDSA, NULL, NULL, NULL, false, "R:WEAK_ALGORITHM" },
		{ "  twin: same signature at tier 4 (SHA-256 too weak)", 4, false, false, "ecdsa-p256", 256, "sha256",
		  "firmware", TG_HASH_SHA256, TG_SCHEME_ECDSA, NULL, NULL, NULL, false, "R:WEAK_ALGORITHM" },
		{ "  twin: same signature for CII at tier 2", 2, true, false, "ecdsa-p256", 256, "sha256", "firmware",
		  TG_HASH_SHA256, TG_SCHEME_ECDSA, NULL, NULL, NULL, false, "R:WEAK_ALGORITHM" },
		{ "  twin: same signature under GM", 3, false, true, "ecdsa-p256", 256, "sha256", "firmware", TG_HASH_SHA256,
		  TG_SCHEME_ECDSA, NULL, NULL, NULL, false, "R:GM_REQUIRED" },
		{ "RSA-2048/SHA-1 at tier 2: approved with a warning", 2, false, false, "rsa2048", 2048, "sha1,sha256",
		  "firmware", TG_HASH_SHA1, TG_SCHEME_RSA_PKCS1, NULL, NULL, NULL, false, "W:WEAK_ALGORITHM" },
		{ "  twin: the same at tier 3", 3, false, false, "rsa2048", 2048, "sha1,sha256", "firmware", TG_HASH_SHA1,
		  TG_SCHEME_RSA_PKCS1, NULL, NULL, NULL, false, "R:WEAK_ALGORITHM" },
		{ "RSA-3072/SHA-384 at tier 4", 4, false, false, "rsa3072", 3072, "sha384", "firmware", TG_HASH_SHA384,
		  TG_SCHEME_RSA_PSS, NULL, NULL, NULL, false, "" },
		{ "  twin: RSA-2048 at tier 4", 4, false, false, "rsa2048", 2048, "sha384", "firmware", TG_HASH_SHA384,
		  TG_SCHEME_RSA_PSS, NULL, NULL, NULL, false, "R:KEY_WEAK" },
		{ "SM2/SM3 under GM at tier 5", 5, true, true, "sm2", 256, "sm3", "firmware,package", TG_HASH_SM3,
		  TG_SCHEME_SM2, NULL, NULL, NULL, true, "" },
		{ "Ed25519/SHA-512 at tier 5", 5, false, false, "ed25519", 256, "sha512", "package", TG_HASH_SHA512,
		  TG_SCHEME_ED25519, NULL, NULL, NULL, true, "" },
	};
	char got[256];

	for (size_t i = 0; i < TG_ARRAY_SIZE(rows); i++) {
		struct tg_keyrec k = {
			.supplier = "acme", .fingerprint = "00112233445566778899aabbccddeeff", .algorithm = (char *)rows[i].alg,
			.bits = rows[i].bits, .hashes = (char *)rows[i].hashes, .purposes = (char *)rows[i].purposes,
			.revoked_at = (char *)rows[i].revoked, .revoke_reason = "compromised",
			.not_before = (char *)rows[i].not_before, .not_after = (char *)rows[i].not_after,
		};
		struct tg_findings f = { .sig_given = true, .signer = &k, .sig_hash = rows[i].h, .scheme = rows[i].scheme,
					 .purposes = rows[i].package ? pkg : fw };
		struct tg_verdict v = { .tier = rows[i].tier, .cii = rows[i].cii, .gm = rows[i].gm };
		tg_policy_signature(&f, tg_tier_rules_for(v.tier, v.cii), NOW, NULL, &v);
		codes(&v, got, sizeof(got));
		CHECK(strcmp(got, rows[i].want) == 0 && v.has_key && strcmp(v.supplier, "acme") == 0,
		      "signature: %s -> [%s]%s%s", rows[i].name, rows[i].want, strcmp(got, rows[i].want) ? " got " : "",
		      strcmp(got, rows[i].want) ? got : "");
	}

	/* No signer. */
	struct tg_product claimed = { .supplier = "acme", .name = "router-fw" };
	struct {
		const char *name;
		struct tg_findings f;
		const struct tg_product *claimed;
		const char *want, *detail;
	} none[] = {
		{ "no signature at all", { .sig_given = false }, NULL, "R:SIG_MISSING", "no signature given" },
		{ "no key verifies", { .sig_given = true }, NULL, "R:KEY_UNKNOWN", "no key in the records" },
		{ "no key verifies a file claiming a product", { .sig_given = true }, &claimed, "R:SIG_INVALID",
		  "any key of acme, supplier of router-fw" },
		{ "a recorded RSA key signed other content", { .sig_given = true, .other_content_fpr = "abcd" }, NULL,
		  "R:SIG_INVALID", "made by key abcd" },
		{ "a manifest already judged invalid", { .sig_given = true, .manifest_invalid = true }, NULL, "", "" },
	};
	for (size_t i = 0; i < TG_ARRAY_SIZE(none); i++) {
		struct tg_verdict v = { .tier = 3 };
		none[i].f.purposes = fw;
		tg_policy_signature(&none[i].f, tg_tier_rules_for(3, false), NOW, none[i].claimed, &v);
		codes(&v, got, sizeof(got));
		CHECK(strcmp(got, none[i].want) == 0 && !v.has_key &&
			      (!none[i].detail[0] || strstr(v.reasons[0].detail, none[i].detail)),
		      "signature: %s -> [%s]", none[i].name, none[i].want);
	}
}

static void supplier_rules(void)
{
	static const struct {
		const char *name;
		int tier;
		bool cii;
		const char *status;
		int max_tier;
		bool s_cii;
		const char *review, *expires;
		const char *want;
	} rows[] = {
		{ "approved, reviewed, tier 4 at tier 4", 4, false, "approved", 4, false, "SR-1", "2027-12-31", "" },
		{ "  twin: suspended", 4, false, "suspended", 4, false, "SR-1", "2027-12-31", "R:SUPPLIER_NOT_APPROVED" },
		{ "  twin: approved only up to tier 3", 4, false, "approved", 3, false, "SR-1", "2027-12-31",
		  "R:SUPPLIER_TIER" },
		{ "  twin: review expired yesterday", 4, false, "approved", 4, false, "SR-1", "2026-11-27",
		  "R:REVIEW_EXPIRED" },
		{ "  review expiring today still holds", 4, false, "approved", 4, false, "SR-1", "2026-11-29", "" },
		{ "  twin: no review", 4, false, "approved", 4, false, NULL, NULL, "R:REVIEW_MISSING" },
		{ "  twin: a CII destination, supplier not approved for CII", 4, true, "approved", 5, false, "SR-1",
		  "2027-12-31", "R:SUPPLIER_TIER" },
		{ "CII supplier for a CII destination", 3, true, "approved", 5, true, "SR-1", "2027-12-31", "" },
		{ "tier 1: no review needed", 1, false, "approved", 1, false, NULL, NULL, "" },
		{ "  twin: tier 1, revoked supplier", 1, false, "revoked", 5, true, "SR-1", "2027-12-31",
		  "R:SUPPLIER_NOT_APPROVED" },
		{ "  a review date that is not a date", 3, false, "approved", 5, false, "SR-1", "someday",
		  "R:REVIEW_EXPIRED" },
	};
	char got[256];

	for (size_t i = 0; i < TG_ARRAY_SIZE(rows); i++) {
		struct tg_supplier s = { .name = "华为技术有限公司", .status = (char *)rows[i].status,
					 .max_tier = rows[i].max_tier, .cii = rows[i].s_cii,
					 .review_ref = (char *)rows[i].review, .review_expires = (char *)rows[i].expires };
		struct tg_verdict v = { .tier = rows[i].tier, .cii = rows[i].cii };
		tg_policy_supplier(&s, tg_tier_rules_for(v.tier, v.cii), NOW, &v);
		codes(&v, got, sizeof(got));
		CHECK(strcmp(got, rows[i].want) == 0, "supplier: %s -> [%s]%s%s", rows[i].name, rows[i].want,
		      strcmp(got, rows[i].want) ? " got " : "", strcmp(got, rows[i].want) ? got : "");
	}
}

/* The product, version, rollback and release rules over a snapshot built
 * here (what tg_policy_load_products would have read). */
static void product_rules(void)
{
	static const char *const D = "9f0c0000000000000000000000000000000000000000000000000000000000aa";
	static const char *const OTHER = "9f0c0000000000000000000000000000000000000000000000000000000000bb";
	static const struct {
		const char *name;
		int tier;
		enum tg_prod_state state;
		const char *given_version;       /* --version */
		const char *floor;               /* product min_version */
		int max_tier;
		const char *highest;             /* newest approved release */
		const char *rel_version;         /* the release of the judged version (NULL: none) */
		const char *rel_status, *rel_digest;
		const char *approved_version;    /* the file is this approved release (NULL: it is none) */
		bool revoked_match;              /* the file is a revoked release */
		const char *want;
	} rows[] = {
		{ "release 2.1 by digest at tier 4", 4, TG_PROD_FOUND, "2.1", NULL, 5, "2.1", "2.1", "approved", D, "2.1",
		  false, "" },
		{ "  twin: other bytes than release 2.1", 4, TG_PROD_FOUND, "2.1", NULL, 5, "2.1", "2.1", "approved",
		  OTHER, NULL, false, "R:DIGEST_MISMATCH" },
		{ "  twin: release 2.1 revoked", 4, TG_PROD_FOUND, "2.1", NULL, 5, "2.0", "2.1", "revoked", D, NULL, true,
		  "R:RELEASE_REVOKED,R:RELEASE_REVOKED" },
		{ "  twin: version not released, tier 4", 4, TG_PROD_FOUND, "2.2", NULL, 5, "2.1", NULL, NULL, NULL, NULL,
		  false, "R:RELEASE_UNKNOWN" },
		{ "version not released, tier 3 (releases not required)", 3, TG_PROD_FOUND, "2.2", NULL, 5, "2.1", NULL,
		  NULL, NULL, NULL, false, "" },
		{ "  twin: 2.0 older than approved 2.1 (rollback)", 3, TG_PROD_FOUND, "2.0", NULL, 5, "2.1", NULL, NULL,
		  NULL, NULL, false, "R:ROLLBACK" },
		{ "  twin: below the product's floor 3.0", 3, TG_PROD_FOUND, "2.2", "3.0", 5, "2.1", NULL, NULL, NULL,
		  NULL, false, "R:ROLLBACK" },
		{ "  rollback below tier 3 only warns", 2, TG_PROD_FOUND, "2.0", NULL, 5, "2.1", NULL, NULL, NULL, NULL,
		  false, "W:ROLLBACK" },
		{ "  twin: product approved up to tier 2", 3, TG_PROD_FOUND, "2.2", NULL, 2, "", NULL, NULL, NULL, NULL,
		  false, "R:PRODUCT_TIER" },
		{ "version from the approved release the file is", 4, TG_PROD_FOUND, NULL, NULL, 5, "2.1", "2.1",
		  "approved", D, "2.1", false, "" },
		{ "  twin: --version 2.2 for the bytes of 2.1", 4, TG_PROD_FOUND, "2.2", NULL, 5, "2.1", "2.2", "approved",
		  OTHER, "2.1", false, "R:DIGEST_MISMATCH,R:DIGEST_MISMATCH" },
		{ "  twin: no version and the file is no release", 3, TG_PROD_FOUND, NULL, NULL, 5, "2.1", NULL, NULL, NULL,
		  NULL, false, "R:VERSION_UNKNOWN" },
		{ "  twin: no product named, no release matched", 3, TG_PROD_NONE_NAMED, NULL, NULL, 5, "", NULL, NULL,
		  NULL, NULL, false, "R:PRODUCT_UNKNOWN" },
		{ "  the same below tier 3 warns", 1, TG_PROD_NONE_NAMED, NULL, NULL, 5, "", NULL, NULL, NULL, NULL, false,
		  "W:PRODUCT_UNKNOWN" },
		{ "  twin: the product is another supplier's (every tier)", 1, TG_PROD_OTHER_SUPPLIER, "2.1", NULL, 5, "",
		  NULL, NULL, NULL, NULL, false, "R:SUPPLIER_MISMATCH" },
		{ "  twin: product unknown", 3, TG_PROD_MISSING, "2.1", NULL, 5, "", NULL, NULL, NULL, NULL, false,
		  "R:PRODUCT_UNKNOWN" },
		{ "  twin: product name ambiguous", 3, TG_PROD_AMBIGUOUS, "2.1", NULL, 5, "", NULL, NULL, NULL, NULL, false,
		  "R:PRODUCT_UNKNOWN" },
	};
	char got[256];

	for (size_t i = 0; i < TG_ARRAY_SIZE(rows); i++) {
		struct tg_product_records pr = { .state = rows[i].state };
		struct tg_findings f = { .version = rows[i].given_version };
		struct tg_verdict v = { .tier = rows[i].tier };
		struct tg_release revoked = { .product_id = 7, .version = "2.1", .status = "revoked",
					      .revoked_at = "2026-11-01T00:00:00Z", .product = "路由器固件",
					      .supplier = "华为技术有限公司" };

		snprintf(f.digest[TG_HASH_SHA256], sizeof(f.digest[0]), "%s", D);
		snprintf(pr.name, sizeof(pr.name), "路由器固件");
		snprintf(pr.other_supplier, sizeof(pr.other_supplier), "其他供应商");
		snprintf(pr.highest, sizeof(pr.highest), "%s", rows[i].highest);
		pr.prod = (struct tg_product){ .id = 7, .supplier = "华为技术有限公司", .name = "路由器固件",
					       .min_version = (char *)rows[i].floor, .max_tier = rows[i].max_tier };
		if (rows[i].rel_version) {
			pr.have_release = true;
			pr.rel = (struct tg_release){ .product_id = 7, .version = (char *)rows[i].rel_version,
						      .digest_alg = "sha256", .digest = (char *)rows[i].rel_digest,
						      .status = (char *)rows[i].rel_status,
						      .revoked_at = "2026-11-01T00:00:00Z" };
		}
		if (rows[i].approved_version) {
			pr.have_approved = true;
			pr.approved = (struct tg_release){ .product_id = 7, .version = (char *)rows[i].approved_version,
							   .status = "approved", .product = "路由器固件" };
		}
		if (rows[i].revoked_match) {
			pr.revoked = &revoked;
			pr.nrevoked = 1;
		}
		tg_policy_product(&pr, &f, tg_tier_rules_for(v.tier, false), &v);
		codes(&v, got, sizeof(got));
		CHECK(strcmp(got, rows[i].want) == 0, "product: %s -> [%s]%s%s", rows[i].name, rows[i].want,
		      strcmp(got, rows[i].want) ? " got " : "", strcmp(got, rows[i].want) ? got : "");
	}
}

int main(void)
{
	tier_table();
	signature_rules();
	supplier_rules();
	product_rules();
	TEST_DONE();
}
