/*
 * The appliance's PKI on GnuTLS: see pki.h.  Keys are ECDSA P-256 (fast
 * handshakes, accepted by every browser's PKCS#12 import); signatures
 * SHA-256.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <time.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs12.h>

#include "pki.h"
#include "../common/encoding.h"
#include "../common/file.h"

/* The one place a GnuTLS error code becomes ours. */
static enum tg_err pki_err(struct tg_diag *d, int rc, const char *what)
{
	enum tg_err e = rc == GNUTLS_E_MEMORY_ERROR ? TG_E_NOMEM :
			rc == GNUTLS_E_FILE_ERROR ? TG_E_IO :
			rc == GNUTLS_E_ASN1_DER_ERROR || rc == GNUTLS_E_BASE64_DECODING_ERROR ||
				rc == GNUTLS_E_ASN1_TAG_ERROR || rc == GNUTLS_E_BASE64_UNEXPECTED_HEADER_ERROR ? TG_E_FORMAT :
			TG_E_CRYPTO;
	return tg_fail(d, e, "%s: %s", what, gnutls_strerror(rc));
}

#define TRY(call, what)                                 \
	do {                                            \
		int rc_ = (call);                       \
		if (rc_ < 0)                            \
			return pki_err(d, rc_, (what)); \
	} while (0)

bool tg_role_ok(const char *role)
{
	return role && *role && !strchr(role, ',') && tg_list_has(TG_ROLES, role);
}

void tg_issued_release(struct tg_issued *is)
{
	free(is->cert_pem);
	free(is->key_pem);
	free(is->p12);
	memset(is, 0, sizeof(*is));
}

static void crtp(gnutls_x509_crt_t *c) { if (*c) gnutls_x509_crt_deinit(*c); }
static void keyp(gnutls_x509_privkey_t *k) { if (*k) gnutls_x509_privkey_deinit(*k); }
static void crlp(gnutls_x509_crl_t *c) { if (*c) gnutls_x509_crl_deinit(*c); }
static void datump(gnutls_datum_t *x) { gnutls_free(x->data); x->data = NULL; }
#define _cleanup_crt_ _cleanup_(crtp)
#define _cleanup_xkey_ _cleanup_(keyp)
#define _cleanup_crl_ _cleanup_(crlp)
#define _cleanup_datum_ _cleanup_(datump)

/* Write a new file: never over an existing one unless replace, and then
 * through a temporary file and rename, so a reader (serve, at SIGHUP) sees
 * the old file or the new one, whole. */
static enum tg_err put_file(const char *dir, const char *name, const void *p, size_t n, mode_t mode, bool replace,
			    struct tg_diag *d)
{
	_cleanup_free_ char *path = tg_path_join(dir, name), *tmp = NULL;
	enum tg_err r;

	if (!path || (replace && asprintf(&tmp, "%s.tmp%ld", path, (long)getpid()) < 0))
		return TG_E_NOMEM;
	r = tg_file_write_new(replace ? tmp : path, p, n, mode, d);
	if (r == TG_OK && replace && rename(tmp, path) < 0) {
		unlink(tmp);
		r = tg_fail(d, TG_E_IO, "%s: cannot write: %s", path, strerror(errno));
	}
	return r;
}

static enum tg_err get_file(const char *dir, const char *name, size_t max, gnutls_datum_t *out, struct tg_diag *d)
{
	_cleanup_free_ char *path = tg_path_join(dir, name);
	uint8_t *buf = NULL;
	size_t len = 0;
	enum tg_err r;

	if (!path)
		return TG_E_NOMEM;
	r = tg_file_read(path, max, &buf, &len, d);
	if (r != TG_OK)
		return r;
	out->data = gnutls_malloc(len + 1);
	if (!out->data) {
		free(buf);
		return TG_E_NOMEM;
	}
	memcpy(out->data, buf, len);
	out->data[len] = 0;
	out->size = (unsigned)len;
	free(buf);
	return TG_OK;
}

static enum tg_err new_key(gnutls_x509_privkey_t *k, struct tg_diag *d)
{
	TRY(gnutls_x509_privkey_init(k), "key");
	TRY(gnutls_x509_privkey_generate(*k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    "generating an ECDSA P-256 key");
	return TG_OK;
}

/* A positive 159-bit random serial (RFC 5280: at most 20 octets, positive). */
static enum tg_err new_serial(uint8_t s[20], char hex[41], struct tg_diag *d)
{
	TRY(gnutls_rnd(GNUTLS_RND_NONCE, s, 20), "random serial");
	s[0] = (uint8_t)((s[0] & 0x7f) | 0x01);
	tg_hex_encode(s, 20, hex);
	return TG_OK;
}

static enum tg_err base_crt(gnutls_x509_crt_t c, gnutls_x509_privkey_t key, gnutls_pubkey_t pub, const char *cn,
			    const char *ou, int64_t not_after, char serial_hex[41], struct tg_diag *d)
{
	uint8_t serial[20], kid[64];
	size_t kidlen = sizeof(kid);
	time_t now = time(NULL);
	enum tg_err r = new_serial(serial, serial_hex, d);

	if (r != TG_OK)
		return r;
	TRY(gnutls_x509_crt_set_version(c, 3), "certificate");
	TRY(gnutls_x509_crt_set_serial(c, serial, sizeof(serial)), "certificate serial");
	TRY(gnutls_x509_crt_set_activation_time(c, now - 300), "certificate");
	TRY(gnutls_x509_crt_set_expiration_time(c, (time_t)not_after), "certificate");
	TRY(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "trustgate", 9), "certificate name");
	if (ou)
		TRY(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, 0, ou,
						  (unsigned)strlen(ou)), "certificate role");
	TRY(gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, cn, (unsigned)strlen(cn)),
	    "certificate name");
	if (key)
		TRY(gnutls_x509_crt_set_key(c, key), "certificate key");
	else
		TRY(gnutls_x509_crt_set_pubkey(c, pub), "certificate key");
	TRY(gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA1, kid, &kidlen), "key id");
	TRY(gnutls_x509_crt_set_subject_key_id(c, kid, kidlen), "key id");
	return TG_OK;
}

static enum tg_err sign_by(gnutls_x509_crt_t c, gnutls_x509_crt_t ca, gnutls_x509_privkey_t cakey, struct tg_diag *d)
{
	uint8_t kid[64];
	size_t kidlen = sizeof(kid);

	TRY(gnutls_x509_crt_get_subject_key_id(ca, kid, &kidlen, NULL), "CA key id");
	TRY(gnutls_x509_crt_set_authority_key_id(c, kid, kidlen), "authority key id");
	TRY(gnutls_x509_crt_sign2(c, ca, cakey, GNUTLS_DIG_SHA256, 0), "signing the certificate");
	return TG_OK;
}

static enum tg_err export_pem(gnutls_x509_crt_t c, gnutls_x509_privkey_t k, gnutls_datum_t *cpem,
			      gnutls_datum_t *kpem, struct tg_diag *d)
{
	if (cpem)
		TRY(gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, cpem), "certificate export");
	if (kpem)
		TRY(gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, kpem), "key export");
	return TG_OK;
}

/* Add the SAN entries of one comma-separated list: IPv4/IPv6 literals as
 * addresses, everything else as a DNS name. */
static enum tg_err add_names(gnutls_x509_crt_t c, const char *names, struct tg_diag *d)
{
	_cleanup_free_ char *copy = tg_strdup(names);
	char *save = NULL;

	if (!copy)
		return TG_E_NOMEM;
	for (char *n = strtok_r(copy, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		uint8_t ip[16];
		if (!*n)
			continue;
		if (inet_pton(AF_INET, n, ip) == 1)
			TRY(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, ip, 4, GNUTLS_FSAN_APPEND),
			    "service address");
		else if (inet_pton(AF_INET6, n, ip) == 1)
			TRY(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, ip, 16, GNUTLS_FSAN_APPEND),
			    "service address");
		else
			TRY(gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_DNSNAME, n, (unsigned)strlen(n),
								 GNUTLS_FSAN_APPEND), "service name");
	}
	return TG_OK;
}

static enum tg_err crl_sign_write(const char *dir, gnutls_x509_crt_t ca, gnutls_x509_privkey_t cakey,
				  char *const *serials, const int64_t *when, size_t n, int64_t next_update,
				  struct tg_diag *d)
{
	_cleanup_crl_ gnutls_x509_crl_t crl = NULL;
	_cleanup_datum_ gnutls_datum_t pem = { 0 };
	uint8_t kid[64], number[8];
	size_t kidlen = sizeof(kid);
	time_t now = time(NULL);

	TRY(gnutls_x509_crl_init(&crl), "CRL");
	TRY(gnutls_x509_crl_set_version(crl, 2), "CRL");
	TRY(gnutls_x509_crl_set_this_update(crl, now - 60), "CRL");
	TRY(gnutls_x509_crl_set_next_update(crl, next_update ? (time_t)next_update : now + TG_CRL_DAYS * 86400L), "CRL");
	for (size_t i = 0; i < n; i++) {
		uint8_t s[20];
		size_t sl = 0;
		if (!tg_hex_decode(serials[i], s, sizeof(s), &sl) || sl == 0)
			return tg_fail(d, TG_E_DB, "revoked serial '%s' in the records is not a serial", serials[i]);
		TRY(gnutls_x509_crl_set_crt_serial(crl, s, sl, (time_t)when[i]), "CRL entry");
	}
	for (int i = 0; i < 8; i++)
		number[i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
	TRY(gnutls_x509_crl_set_number(crl, number, sizeof(number)), "CRL number");
	TRY(gnutls_x509_crt_get_subject_key_id(ca, kid, &kidlen, NULL), "CA key id");
	TRY(gnutls_x509_crl_set_authority_key_id(crl, kid, kidlen), "CRL");
	TRY(gnutls_x509_crl_sign2(crl, ca, cakey, GNUTLS_DIG_SHA256, 0), "signing the CRL");
	TRY(gnutls_x509_crl_export2(crl, GNUTLS_X509_FMT_PEM, &pem), "CRL export");
	return put_file(dir, "crl.pem", pem.data, pem.size, 0644, true, d);
}

enum tg_err tg_pki_ca_init(const char *dir, const char *ca_name, const char *names, unsigned days,
			   struct tg_diag *d)
{
	_cleanup_xkey_ gnutls_x509_privkey_t cakey = NULL, skey = NULL;
	_cleanup_crt_ gnutls_x509_crt_t ca = NULL, srv = NULL;
	_cleanup_datum_ gnutls_datum_t capem = { 0 }, cakpem = { 0 }, spem = { 0 }, skpem = { 0 };
	_cleanup_free_ char *all = NULL;
	char serial[41];
	int64_t until = (int64_t)time(NULL) + (int64_t)days * 86400;
	struct stat st;
	enum tg_err r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return tg_fail(d, TG_E_IO, "%s: cannot create: %s", dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return tg_fail(d, TG_E_IO, "%s: not a directory", dir);
	_cleanup_free_ char *probe = tg_path_join(dir, "ca.key");
	if (!probe)
		return TG_E_NOMEM;
	if (access(probe, F_OK) == 0)
		return tg_fail(d, TG_E_EXISTS, "%s: already holds a CA (ca.key); a second one would orphan every "
				     "certificate issued", dir);
	if (asprintf(&all, "localhost,127.0.0.1,::1%s%s", names && *names ? "," : "", names ? names : "") < 0)
		return TG_E_NOMEM;

	if ((r = new_key(&cakey, d)) != TG_OK)
		return r;
	TRY(gnutls_x509_crt_init(&ca), "CA");
	if ((r = base_crt(ca, cakey, NULL, ca_name, NULL, until, serial, d)) != TG_OK)
		return r;
	TRY(gnutls_x509_crt_set_basic_constraints(ca, 1, 0), "CA");
	TRY(gnutls_x509_crt_set_key_usage(ca, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), "CA");
	TRY(gnutls_x509_crt_sign2(ca, ca, cakey, GNUTLS_DIG_SHA256, 0), "signing the CA");

	if ((r = new_key(&skey, d)) != TG_OK)
		return r;
	TRY(gnutls_x509_crt_init(&srv), "service certificate");
	if ((r = base_crt(srv, skey, NULL, "trustgate service", NULL, until, serial, d)) != TG_OK)
		return r;
	TRY(gnutls_x509_crt_set_basic_constraints(srv, 0, -1), "service certificate");
	TRY(gnutls_x509_crt_set_key_usage(srv, GNUTLS_KEY_DIGITAL_SIGNATURE), "service certificate");
	TRY(gnutls_x509_crt_set_key_purpose_oid(srv, GNUTLS_KP_TLS_WWW_SERVER, 0), "service certificate");
	if ((r = add_names(srv, all, d)) != TG_OK || (r = sign_by(srv, ca, cakey, d)) != TG_OK)
		return r;

	if ((r = export_pem(ca, cakey, &capem, &cakpem, d)) != TG_OK || (r = export_pem(srv, skey, &spem, &skpem, d)) != TG_OK)
		return r;
	/* The key first: a directory with ca.key is "a CA", never half of one
	 * that a retry would overwrite. */
	if ((r = put_file(dir, "ca.key", cakpem.data, cakpem.size, 0600, false, d)) != TG_OK)
		return r;
	uint8_t nk[32];
	if (gnutls_rnd(GNUTLS_RND_KEY, nk, sizeof(nk)) < 0)
		return tg_fail(d, TG_E_CRYPTO, "no randomness for the nonce key");
	if ((r = put_file(dir, "nonce.key", nk, sizeof(nk), 0600, true, d)) != TG_OK ||
	    (r = put_file(dir, "ca.pem", capem.data, capem.size, 0644, true, d)) != TG_OK ||
	    (r = put_file(dir, "server.key", skpem.data, skpem.size, 0600, true, d)) != TG_OK ||
	    (r = put_file(dir, "server.pem", spem.data, spem.size, 0644, true, d)) != TG_OK)
		return r;
	return crl_sign_write(dir, ca, cakey, NULL, NULL, 0, 0, d);
}

static enum tg_err load_ca(const char *dir, gnutls_x509_crt_t *ca, gnutls_x509_privkey_t *key, struct tg_diag *d)
{
	_cleanup_datum_ gnutls_datum_t c = { 0 }, k = { 0 };
	enum tg_err r = get_file(dir, "ca.pem", 64 * 1024, &c, d);

	if (r == TG_OK)
		r = get_file(dir, "ca.key", 64 * 1024, &k, d);
	if (r != TG_OK)
		return r;
	TRY(gnutls_x509_crt_init(ca), "CA");
	TRY(gnutls_x509_crt_import(*ca, &c, GNUTLS_X509_FMT_PEM), "ca.pem");
	TRY(gnutls_x509_privkey_init(key), "CA key");
	TRY(gnutls_x509_privkey_import2(*key, &k, GNUTLS_X509_FMT_PEM, NULL, 0), "ca.key");
	return TG_OK;
}

static enum tg_err describe(gnutls_x509_crt_t c, char fpr[65], char subject[512], char not_after[32],
			    struct tg_diag *d)
{
	_cleanup_datum_ gnutls_datum_t dn = { 0 };
	uint8_t h[32];
	size_t hl = sizeof(h);

	TRY(gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, h, &hl), "fingerprint");
	tg_hex_encode(h, 32, fpr);
	TRY(gnutls_x509_crt_get_dn3(c, &dn, 0), "subject");
	snprintf(subject, 512, "%s", (const char *)dn.data);
	if (not_after)
		tg_epoch_iso((int64_t)gnutls_x509_crt_get_expiration_time(c), not_after);
	return TG_OK;
}

static enum tg_err make_p12(gnutls_x509_crt_t c, gnutls_x509_privkey_t k, const char *name, const char *pass,
			    struct tg_issued *out, struct tg_diag *d)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_pkcs12_bag_t cb = NULL, kb = NULL;
	gnutls_datum_t der = { 0 }, keyder = { 0 };
	uint8_t kid[64];
	size_t kidlen = sizeof(kid);
	int rc, idx;

	rc = gnutls_x509_crt_get_key_id(c, GNUTLS_KEYID_USE_SHA1, kid, &kidlen);
	gnutls_datum_t id = { kid, (unsigned)kidlen };
	if (rc >= 0)
		rc = gnutls_pkcs12_init(&p12);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_init(&cb);
	if (rc >= 0)
		rc = idx = gnutls_pkcs12_bag_set_crt(cb, c);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_set_key_id(cb, idx, &id);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_set_friendly_name(cb, idx, name);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_encrypt(cb, pass, GNUTLS_PKCS_PBES2_AES_256);
	if (rc >= 0)
		rc = gnutls_x509_privkey_export2_pkcs8(k, GNUTLS_X509_FMT_DER, pass, GNUTLS_PKCS_PBES2_AES_256, &keyder);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_init(&kb);
	if (rc >= 0)
		rc = idx = gnutls_pkcs12_bag_set_data(kb, GNUTLS_BAG_PKCS8_ENCRYPTED_KEY, &keyder);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_set_key_id(kb, idx, &id);
	if (rc >= 0)
		rc = gnutls_pkcs12_bag_set_friendly_name(kb, idx, name);
	if (rc >= 0)
		rc = gnutls_pkcs12_set_bag(p12, cb);
	if (rc >= 0)
		rc = gnutls_pkcs12_set_bag(p12, kb);
	if (rc >= 0)
		rc = gnutls_pkcs12_generate_mac2(p12, GNUTLS_MAC_SHA256, pass);
	if (rc >= 0)
		rc = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, &der);
	if (rc >= 0) {
		out->p12 = malloc(der.size);
		if (out->p12) {
			memcpy(out->p12, der.data, der.size);
			out->p12_len = der.size;
		}
	}
	gnutls_free(der.data);
	gnutls_free(keyder.data);
	if (kb)
		gnutls_pkcs12_bag_deinit(kb);
	if (cb)
		gnutls_pkcs12_bag_deinit(cb);
	if (p12)
		gnutls_pkcs12_deinit(p12);
	if (rc < 0)
		return pki_err(d, rc, "PKCS#12");
	return out->p12 ? TG_OK : TG_E_NOMEM;
}

static void pubp(gnutls_pubkey_t *k) { if (*k) gnutls_pubkey_deinit(*k); }
static void crqp(gnutls_x509_crq_t *q) { if (*q) gnutls_x509_crq_deinit(*q); }

/* The public key of a certificate request, after its self-signature is
 * checked: the requester holds the private key (a request made with one
 * key and naming another is refused), and the key is one a TLS client of
 * this service may use (ECDSA P-256/P-384, RSA of 2048 bits or more). */
static enum tg_err csr_key(const char *pem, gnutls_pubkey_t *ret, struct tg_diag *d)
{
	_cleanup_(crqp) gnutls_x509_crq_t q = NULL;
	gnutls_datum_t in = { (unsigned char *)pem, (unsigned)strlen(pem) };
	unsigned bits = 0;
	int alg;

	TRY(gnutls_x509_crq_init(&q), "certificate request");
	TRY(gnutls_x509_crq_import(q, &in, GNUTLS_X509_FMT_PEM), "certificate request (PKCS#10 PEM)");
	TRY(gnutls_x509_crq_verify(q, 0), "certificate request: its signature does not verify with its key");
	TRY(gnutls_pubkey_init(ret), "certificate request");
	TRY(gnutls_pubkey_import_x509_crq(*ret, q, 0), "certificate request key");
	alg = gnutls_pubkey_get_pk_algorithm(*ret, &bits);
	if (!((alg == GNUTLS_PK_ECDSA && (bits == 256 || bits == 384)) || (alg == GNUTLS_PK_RSA && bits >= 2048)))
		return tg_fail(d, TG_E_FORMAT, "certificate request: a %s key of %u bits (ECDSA P-256/P-384 or RSA of "
					       "2048 bits or more)", gnutls_pk_get_name((gnutls_pk_algorithm_t)alg), bits);
	return TG_OK;
}

enum tg_err tg_pki_csr_load(const char *path, char **ret_pem, struct tg_diag *d)
{
	_cleanup_(pubp) gnutls_pubkey_t pub = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;
	enum tg_err r = tg_file_read(path, 64 * 1024, &buf, &n, d);

	*ret_pem = NULL;
	if (r == TG_OK && strlen((char *)buf) != n)
		r = tg_fail(d, TG_E_FORMAT, "%s: not a PEM certificate request", path);
	if (r == TG_OK && (r = csr_key((char *)buf, &pub, d)) == TG_E_CRYPTO)
		r = TG_E_FORMAT;   /* a request that does not verify is bad input */
	if (r == TG_OK)
		*ret_pem = (char *)TAKE_PTR(buf);
	return r;
}

enum tg_err tg_pki_csr_make(const char *name, char **key_pem, char **csr_pem, struct tg_diag *d)
{
	_cleanup_xkey_ gnutls_x509_privkey_t key = NULL;
	_cleanup_(crqp) gnutls_x509_crq_t q = NULL;
	_cleanup_datum_ gnutls_datum_t kpem = { 0 }, qpem = { 0 };
	enum tg_err r;

	*key_pem = *csr_pem = NULL;
	if ((r = new_key(&key, d)) != TG_OK)
		return r;
	TRY(gnutls_x509_crq_init(&q), "certificate request");
	TRY(gnutls_x509_crq_set_dn_by_oid(q, GNUTLS_OID_X520_COMMON_NAME, 0, name, (unsigned)strlen(name)),
	    "certificate request name");
	TRY(gnutls_x509_crq_set_key(q, key), "certificate request key");
	TRY(gnutls_x509_crq_sign2(q, key, GNUTLS_DIG_SHA256, 0), "signing the certificate request");
	TRY(gnutls_x509_crq_export2(q, GNUTLS_X509_FMT_PEM, &qpem), "certificate request export");
	TRY(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, &kpem), "key export");
	*key_pem = strndup((const char *)kpem.data, kpem.size);
	*csr_pem = strndup((const char *)qpem.data, qpem.size);
	if (!*key_pem || !*csr_pem) {
		free(*key_pem);
		free(*csr_pem);
		*key_pem = *csr_pem = NULL;
		return TG_E_NOMEM;
	}
	return TG_OK;
}

enum tg_err tg_pki_issue(const char *dir, const char *name, const char *role, unsigned days,
			 int64_t not_after_epoch, const char *p12_pass, const char *csr_pem, struct tg_issued *ret,
			 struct tg_diag *d)
{
	_cleanup_xkey_ gnutls_x509_privkey_t cakey = NULL, key = NULL;
	_cleanup_(pubp) gnutls_pubkey_t pub = NULL;
	_cleanup_crt_ gnutls_x509_crt_t ca = NULL, c = NULL;
	_cleanup_datum_ gnutls_datum_t cpem = { 0 }, kpem = { 0 };
	int64_t until = not_after_epoch ? not_after_epoch : (int64_t)time(NULL) + (int64_t)days * 86400;
	enum tg_err r;

	memset(ret, 0, sizeof(*ret));
	if (!tg_role_ok(role))
		return tg_fail(d, TG_E_USAGE, "role '%s' is not one of %s", role ? role : "", TG_ROLES);
	if ((r = load_ca(dir, &ca, &cakey, d)) != TG_OK)
		return r;
	/* With a request the private key stays where it was made: only the
	 * certificate is issued (no key file, no PKCS#12). */
	r = csr_pem ? csr_key(csr_pem, &pub, d) : new_key(&key, d);
	if (r != TG_OK)
		return r;
	TRY(gnutls_x509_crt_init(&c), "certificate");
	if ((r = base_crt(c, key, pub, name, role, until, ret->serial, d)) != TG_OK)
		return r;
	TRY(gnutls_x509_crt_set_basic_constraints(c, 0, -1), "certificate");
	TRY(gnutls_x509_crt_set_key_usage(c, GNUTLS_KEY_DIGITAL_SIGNATURE), "certificate");
	TRY(gnutls_x509_crt_set_key_purpose_oid(c, GNUTLS_KP_TLS_WWW_CLIENT, 0), "certificate");
	if ((r = sign_by(c, ca, cakey, d)) != TG_OK || (r = export_pem(c, key, &cpem, key ? &kpem : NULL, d)) != TG_OK ||
	    (r = describe(c, ret->fingerprint, ret->subject, ret->not_after, d)) != TG_OK ||
	    (key && (r = make_p12(c, key, name, p12_pass, ret, d)) != TG_OK)) {
		tg_issued_release(ret);
		return r;
	}
	ret->cert_pem = strndup((const char *)cpem.data, cpem.size);
	ret->key_pem = key ? strndup((const char *)kpem.data, kpem.size) : NULL;
	if (!ret->cert_pem || (key && !ret->key_pem)) {
		tg_issued_release(ret);
		return TG_E_NOMEM;
	}
	return TG_OK;
}

enum tg_err tg_pki_crl_write(const char *dir, char *const *serials, const int64_t *revoked_at, size_t n,
			     int64_t next_update, struct tg_diag *d)
{
	_cleanup_xkey_ gnutls_x509_privkey_t cakey = NULL;
	_cleanup_crt_ gnutls_x509_crt_t ca = NULL;
	enum tg_err r = load_ca(dir, &ca, &cakey, d);

	return r == TG_OK ? crl_sign_write(dir, ca, cakey, serials, revoked_at, n, next_update, d) : r;
}

enum tg_err tg_pki_ca_fingerprint(const char *dir, char hex[65], struct tg_diag *d)
{
	_cleanup_crt_ gnutls_x509_crt_t ca = NULL;
	_cleanup_datum_ gnutls_datum_t c = { 0 };
	uint8_t h[32];
	size_t hl = sizeof(h);
	enum tg_err r = get_file(dir, "ca.pem", 64 * 1024, &c, d);

	if (r != TG_OK)
		return r;
	TRY(gnutls_x509_crt_init(&ca), "CA");
	TRY(gnutls_x509_crt_import(ca, &c, GNUTLS_X509_FMT_PEM), "ca.pem");
	TRY(gnutls_x509_crt_get_fingerprint(ca, GNUTLS_DIG_SHA256, h, &hl), "ca.pem");
	tg_hex_encode(h, 32, hex);
	return TG_OK;
}

/* ------------------------------------------------------------ the service */

void tg_trust_release(struct tg_trust *t)
{
	if (t->tl)
		gnutls_x509_trust_list_deinit(t->tl, 1);
	gnutls_free(t->ca_pem);
	gnutls_free(t->server_pem);
	gnutls_free(t->server_key);
	memset(t, 0, sizeof(*t));
}

enum tg_err tg_trust_load(const char *dir, struct tg_trust *ret, struct tg_diag *d)
{
	gnutls_datum_t ca = { 0 }, crl = { 0 }, sc = { 0 }, sk = { 0 };
	_cleanup_crt_ gnutls_x509_crt_t srv = NULL;
	_cleanup_datum_ gnutls_datum_t crl_owned = { 0 };
	enum tg_err r;
	int rc;

	memset(ret, 0, sizeof(*ret));
	r = get_file(dir, "ca.pem", 64 * 1024, &ca, d);
	ret->ca_pem = (char *)ca.data;
	ret->ca_len = ca.size;
	if (r == TG_OK)
		r = get_file(dir, "server.pem", 64 * 1024, &sc, d);
	ret->server_pem = (char *)sc.data;
	ret->server_len = sc.size;
	if (r == TG_OK)
		r = get_file(dir, "server.key", 64 * 1024, &sk, d);
	ret->server_key = (char *)sk.data;
	ret->key_len = sk.size;
	if (r == TG_OK) {
		_cleanup_datum_ gnutls_datum_t nk = { 0 };
		r = get_file(dir, "nonce.key", 64, &nk, d);
		if (r == TG_OK && nk.size != sizeof(ret->nonce_key))
			r = tg_fail(d, TG_E_FORMAT, "%s/nonce.key: not %zu bytes", dir, sizeof(ret->nonce_key));
		if (r == TG_OK)
			memcpy(ret->nonce_key, nk.data, sizeof(ret->nonce_key));
	}
	if (r == TG_OK)
		r = get_file(dir, "crl.pem", 64 * 1024 * 1024, &crl, d);
	crl_owned = crl;
	if (r != TG_OK)
		goto fail;
	/* Refuse what the TLS layer would only find at the first handshake. */
	rc = gnutls_x509_crt_init(&srv);
	if (rc >= 0)
		rc = gnutls_x509_crt_import(srv, &sc, GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		r = pki_err(d, rc, "server.pem");
		goto fail;
	}
	if (gnutls_x509_crt_get_expiration_time(srv) < time(NULL)) {
		r = tg_fail(d, TG_E_FORMAT, "%s/server.pem: expired", dir);
		goto fail;
	}
	rc = gnutls_x509_trust_list_init(&ret->tl, 0);
	if (rc >= 0)
		rc = gnutls_x509_trust_list_add_trust_mem(ret->tl, &ca, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
	if (rc == 0)
		rc = GNUTLS_E_NO_CERTIFICATE_FOUND;
	if (rc < 0) {
		r = pki_err(d, rc, "ca.pem");
		goto fail;
	}
	/* A CRL past its next update says nothing about revocations made
	 * since: refused, as every client certificate is while it is in
	 * force (fail closed; `ca crl` signs a fresh one). */
	{
		_cleanup_crl_ gnutls_x509_crl_t parsed = NULL;
		rc = gnutls_x509_crl_init(&parsed);
		if (rc >= 0)
			rc = gnutls_x509_crl_import(parsed, &crl, GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			r = pki_err(d, rc, "crl.pem");
			goto fail;
		}
		ret->crl_next_update = (int64_t)gnutls_x509_crl_get_next_update(parsed);
		if (ret->crl_next_update <= 0) {
			r = tg_fail(d, TG_E_FORMAT, "%s/crl.pem: no next update time", dir);
			goto fail;
		}
		if (ret->crl_next_update < (int64_t)time(NULL)) {
			char when[32];
			tg_epoch_iso(ret->crl_next_update, when);
			r = tg_fail(d, TG_E_FORMAT, "%s/crl.pem expired at %s (trustgate ca crl signs a fresh one)", dir,
				    when);
			goto fail;
		}
	}
	/* The CRL must be the CA's (GNUTLS_TL_VERIFY_CRL): one signed by
	 * anybody else is not a reason to trust or distrust anything. */
	rc = gnutls_x509_trust_list_add_trust_mem(ret->tl, NULL, &crl, GNUTLS_X509_FMT_PEM,
						  GNUTLS_TL_VERIFY_CRL | GNUTLS_TL_FAIL_ON_INVALID_CRL, 0);
	if (rc < 0) {
		r = pki_err(d, rc, "crl.pem (not signed by this CA?)");
		goto fail;
	}
	return TG_OK;
fail:
	tg_trust_release(ret);
	return r;
}

static bool peer_field(gnutls_x509_crt_t c, const char *oid, char *out, size_t n)
{
	size_t len = n;

	/* Exactly one value: a second CN or OU could say a second thing. */
	if (gnutls_x509_crt_get_dn_by_oid(c, oid, 0, 0, out, &len) < 0)
		return false;
	len = 0;
	return gnutls_x509_crt_get_dn_by_oid(c, oid, 1, 0, NULL, &len) == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

bool tg_peer_verify(const struct tg_trust *t, gnutls_session_t s, struct tg_peer *ret, char *why, size_t whylen)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0, status = 0;
	_cleanup_crt_ gnutls_x509_crt_t c = NULL;
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT };
	uint8_t h[32], serial[40];
	size_t hl = sizeof(h), sl = sizeof(serial);
	_cleanup_datum_ gnutls_datum_t dn = { 0 }, reason = { 0 };

	memset(ret, 0, sizeof(*ret));
	if (t->crl_next_update < (int64_t)time(NULL)) {
		snprintf(why, whylen, "the appliance's CRL is past its next update: no client is admitted until an "
			 "administrator signs a fresh one (trustgate ca crl) and reloads (SIGHUP)");
		return false;
	}
	if (!s || gnutls_certificate_type_get(s) != GNUTLS_CRT_X509 || !(chain = gnutls_certificate_get_peers(s, &n)) ||
	    n == 0) {
		snprintf(why, whylen, "no client certificate (this service admits mutual TLS only)");
		return false;
	}
	if (gnutls_x509_crt_init(&c) < 0 || gnutls_x509_crt_import(c, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
		snprintf(why, whylen, "the client certificate does not parse");
		return false;
	}
	/* Only the leaf is used: the CA issues leaves directly, and an
	 * intermediate sent by the client is never a trust anchor. */
	if (gnutls_x509_trust_list_verify_crt2(t->tl, &c, 1, &purpose, 1, 0, &status, NULL) < 0 || status != 0) {
		if (status && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &reason, 0) >= 0)
			snprintf(why, whylen, "client certificate refused: %s", (const char *)reason.data);
		else
			snprintf(why, whylen, "client certificate refused");
		return false;
	}
	if (!peer_field(c, GNUTLS_OID_X520_COMMON_NAME, ret->name, sizeof(ret->name)) ||
	    !peer_field(c, GNUTLS_OID_X520_ORGANIZATIONAL_UNIT_NAME, ret->role, sizeof(ret->role)) ||
	    !tg_role_ok(ret->role)) {
		snprintf(why, whylen, "client certificate has no single name and role");
		return false;
	}
	if (gnutls_x509_crt_get_fingerprint(c, GNUTLS_DIG_SHA256, h, &hl) < 0 ||
	    gnutls_x509_crt_get_serial(c, serial, &sl) < 0 || sl > 20 || gnutls_x509_crt_get_dn3(c, &dn, 0) < 0) {
		snprintf(why, whylen, "client certificate unreadable");
		return false;
	}
	tg_hex_encode(h, 32, ret->fingerprint);
	tg_hex_encode(serial, sl, ret->serial);
	snprintf(ret->subject, sizeof(ret->subject), "%s", (const char *)dn.data);
	return true;
}
