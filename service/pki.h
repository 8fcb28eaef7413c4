/*
 * The appliance's own small PKI (GnuTLS): a client CA, the service's TLS
 * certificate, client certificates for people and hosts, the CRL, and the
 * check of a peer's certificate on every request.
 *
 * Layout of a CA directory (`trustgate ca init --ca DIR`):
 *   ca.pem ca.key      the client CA (key 0600)
 *   server.pem server.key   the service's TLS certificate, issued by the CA
 *   crl.pem            revoked client certificates, signed by the CA
 *   nonce.key          32 random bytes (0600): the MAC key of attestation nonces
 * Every GnuTLS error code is converted in pki_err() (pki.c) and goes no
 * further.
 */
#ifndef TG_PKI_H
#define TG_PKI_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "../common/tg.h"

/* Roles, as written in a client certificate's OU and in the records. */
#define TG_ROLES "admin,procurement,operator,reviewer,host"
bool tg_role_ok(const char *role);

struct tg_issued {
	char *cert_pem, *key_pem;   /* malloc'd */
	uint8_t *p12;               /* PKCS#12 (certificate + encrypted key) */
	size_t p12_len;
	char serial[41];            /* lowercase hex */
	char fingerprint[65];       /* SHA-256 of the DER certificate */
	char subject[512];          /* RFC 4514 */
	char not_after[32];
};
void tg_issued_release(struct tg_issued *is);

/* Create the CA, the service certificate (for names: DNS names or IP
 * addresses, comma-separated; "localhost,127.0.0.1,::1" always included)
 * and an empty CRL in dir (created 0700; refused if it holds a CA). */
enum tg_err tg_pki_ca_init(const char *dir, const char *ca_name, const char *names, unsigned days,
			   struct tg_diag *d);

/* Issue a client certificate: CN name, OU role, valid `days` (or until
 * not_after_epoch when nonzero, for tests of expiry it may be in the past),
 * key usage digitalSignature, extended key usage clientAuth.  The PKCS#12
 * is protected by p12_pass.  With csr_pem (PKCS#10), the certificate is
 * for the request's key, checked by tg_pki_csr_load's rules, and there is
 * no key and no PKCS#12. */
enum tg_err tg_pki_issue(const char *dir, const char *name, const char *role, unsigned days,
			 int64_t not_after_epoch, const char *p12_pass, const char *csr_pem, struct tg_issued *ret,
			 struct tg_diag *d);

/* Read a certificate request a client certificate may be issued for
 * (*ret_pem, malloc'd): PEM PKCS#10 of at most 64 KiB whose signature
 * verifies with its own key (proof of possession), an ECDSA P-256/P-384 or
 * RSA >= 2048 key.  TG_E_FORMAT for anything else. */
enum tg_err tg_pki_csr_load(const char *path, char **ret_pem, struct tg_diag *d);

/* A new ECDSA P-256 key and a request for it (CN name), both PEM. */
enum tg_err tg_pki_csr_make(const char *name, char **key_pem, char **csr_pem, struct tg_diag *d);

/* Write dir/crl.pem listing these serials (hex), signed by the CA, valid
 * until next_update (0: TG_CRL_DAYS from now). */
#define TG_CRL_DAYS 365L
enum tg_err tg_pki_crl_write(const char *dir, char *const *serials, const int64_t *revoked_at, size_t n,
			     int64_t next_update, struct tg_diag *d);

/* SHA-256 fingerprint of dir/ca.pem: the records pin the CA they were set
 * up with, so a swapped CA directory is refused (serve, user add). */
enum tg_err tg_pki_ca_fingerprint(const char *dir, char hex[65], struct tg_diag *d);

/* What the service trusts: the CA and its CRL (both verified on load). */
struct tg_trust {
	gnutls_x509_trust_list_t tl;
	char *ca_pem, *server_pem, *server_key;   /* for the TLS layer */
	size_t ca_len, server_len, key_len;
	uint8_t nonce_key[32];                    /* nonce.key: the MAC key of attestation nonces */
	int64_t crl_next_update;                  /* past it, no client is admitted */
};
enum tg_err tg_trust_load(const char *dir, struct tg_trust *ret, struct tg_diag *d);
void tg_trust_release(struct tg_trust *t);

/* The client of a TLS session, verified: chain to the CA, in its validity
 * period, not on the CRL, clientAuth usage.  *why says what failed. */
struct tg_peer {
	char name[256], role[32], subject[512];
	char fingerprint[65], serial[41];
};
bool tg_peer_verify(const struct tg_trust *t, gnutls_session_t s, struct tg_peer *ret, char *why, size_t whylen);

#endif
