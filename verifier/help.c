/* The help table and its printers (help.h). */
#include <string.h>

#include <archive.h>
#include <gcrypt.h>

#include "help.h"
#include "../common/reasons.h"
#include "../common/encoding.h"
#include "../common/file.h"

#ifndef TG_VERSION
#define TG_VERSION "0.11"
#endif
#ifndef TG_COMMIT
#define TG_COMMIT "unknown"
#endif

#define REASON { "--reason TEXT", "why (required; recorded in the audit row with the actor)" }

static const struct tg_help entries[] = {
	/* ------------------------------------------------------------ db */
	{ "db", "init|copy|backup|restore", "create, copy, back up and restore the records", NULL, { { 0 } }, NULL },
	{ "db init", "", "create the records (a SQLite file, or tables in a PostgreSQL database)",
	  "Creates the records named by --db, $TRUSTGATE_DB or ./trustgate.db.  A path is a SQLite file (WAL "
	  "mode); postgresql://USER@HOST/DBNAME (libpq's URL; the password from ~/.pgpass or $PGPASSWORD) puts "
	  "them in an existing PostgreSQL database, which several appliances may share.  Existing records are "
	  "never touched: a file that exists, or a database already holding a table of the schema, is refused, "
	  "and every other command refuses missing or foreign records and creates nothing.  With records on "
	  "PostgreSQL the appliance's own files (its key, its decision log) are kept in $TRUSTGATE_STATE_DIR "
	  "(default /var/lib/trustgate).",
	  { { 0 } }, "trustgate --db /var/lib/trustgate/records.db db init\n"
		     "trustgate --db postgresql://trustgate@db.example/records db init" },
	{ "db copy", "--to PATH|URL --reason TEXT", "copy every record and the audit chain to new records, verified",
	  "Copies the records (--db) to new ones at --to: a SQLite file to PostgreSQL, PostgreSQL to a file, or "
	  "file to file.  The source is read in one snapshot (writers go on); its audit chain must verify first.  "
	  "Every table of the copy is compared with the source by a SHA-256 over its rows and the copy's chain is "
	  "verified before it is committed; on any difference the copy is removed and nothing is reported done.  "
	  "The copy then records a db.copy row naming its source and the rows copied.",
	  { { "--to PATH|URL", "the new records (a file that does not exist, or a PostgreSQL database without them)" },
	    { "--reason TEXT", "why, for the audit log" } }, "trustgate --db records.db db copy --to postgresql://trustgate@db.example/records --reason \"second site\"" },
	{ "db backup", "--out FILE", "a consistent snapshot of the records, signed by the appliance",
	  "Writes FILE (never over an existing file): a first line \"trustgate-backup v1\", a DSSE envelope signed by "
	  "the appliance key (appliance-key init) whose statement gives the snapshot's SHA-256 and size and the "
	  "audit head it holds, then the snapshot itself as a SQLite database.  The snapshot is one consistent "
	  "state: SQLite's online backup inside a read transaction, or PostgreSQL rows read in one REPEATABLE READ "
	  "transaction; writers are not stopped.  The chain must verify before anything is written; the backup is "
	  "recorded as a db.backup row, which the snapshot holds.",
	  { { "--out FILE", "the backup file (never overwritten)" } }, "trustgate db backup --out /srv/backup/records-2026-11-30.tgb" },
	{ "db restore", "FILE [--replace] [--key PUB.pem] [--tcti CONF] [--accept-rollback] --reason TEXT",
	  "restore the records from a backup, verified, not older than the TPM anchor",
	  "Checks the backup's signature with this appliance's key (that of the records now at --db, or --key "
	  "for a machine whose records are gone), the snapshot's digest and size, and its audit chain; existing "
	  "records are replaced only with --replace.  On an anchored appliance (the records or the backup say "
	  "so, or --tcti) the backup must hold the row the TPM anchored: an older one is a rollback, refused "
	  "unless --accept-rollback.  The restore is recorded as a db.restore row (with the rollback, if "
	  "accepted), which also moves the TPM anchor to the restored head.",
	  { { "--replace", "replace the records now at --db" },
	    { "--key PUB.pem", "this appliance's public key (appliance-key show), when its records are gone" },
	    { "--tcti CONF", "the TPM holding the anchor (default: as the records say)" },
	    { "--accept-rollback", "restore a backup older than the TPM anchor" },
	    { "--reason TEXT", "why, for the audit log" } }, "trustgate db restore records.tgb --replace --reason \"disk replaced\"" },

	/* ------------------------------------------------------ supplier */
	{ "supplier", "add|set|list|show ...", "approved suppliers: who may sign what, up to which tier", NULL,
	  { { 0 } }, NULL },
	{ "supplier add",
	  "NAME [--country CC] [--max-tier N] [--cii] [--review REF --review-expires YYYY-MM-DD] "
	  "[--status approved|pending] --reason TEXT",
	  "approve a supplier (adding it is the act of approving it)",
	  "NAME is UTF-8 (Chinese names and spaces are fine; control, bidi and invisible characters are not, "
	  "see the README).  Tier 3 and above need a security review that has not expired.",
	  { { "--country CC", "ISO 3166 alpha-2 code, e.g. CN" },
	    { "--max-tier N", "highest destination tier (1-5) its products may enter (default 3)" },
	    { "--cii", "may supply critical information infrastructure" },
	    { "--review REF", "the security review's reference (with --review-expires)" },
	    { "--review-expires YYYY-MM-DD", "the review's expiry; after it tier 3+ checks fail REVIEW_EXPIRED" },
	    { "--status S", "approved (default) or pending" },
	    REASON },
	  "trustgate supplier add 华为技术有限公司 --country CN --max-tier 4 --review SR-2026-17 "
	  "--review-expires 2027-06-30 --reason \"supply-chain review passed\"" },
	{ "supplier set",
	  "NAME [--status approved|suspended|revoked] [--review REF --review-expires D | --review none] "
	  "[--max-tier N] [--cii | --no-cii] [--country CC|none] --reason TEXT",
	  "change a supplier: status, security review, tier, CII, country (each change audited)",
	  "Suspended and revoked suppliers fail every check from then on (SUPPLIER_NOT_APPROVED); revocation is "
	  "final.  A renewed review makes an expired supplier usable at tier 3+ again.  A date already past is "
	  "accepted with a warning.",
	  { { "--status S", "approved, suspended or revoked" },
	    { "--review REF", "the new review's reference (with --review-expires), or none to clear" },
	    { "--review-expires D", "the new review's expiry (YYYY-MM-DD)" },
	    { "--max-tier N", "highest destination tier (1-5)" },
	    { "--cii", "may supply critical information infrastructure" },
	    { "--no-cii", "may not" },
	    { "--country CC", "ISO 3166 alpha-2 code, or none" },
	    REASON },
	  "trustgate supplier set acme --review SR-2027-03 --review-expires 2028-03-31 --reason \"annual review\"" },
	{ "supplier list", "[--status S] [--expiring-before YYYY-MM-DD]", "list the suppliers", NULL,
	  { { "--status S", "only approved, pending, suspended or revoked ones" },
	    { "--expiring-before D", "only those whose review lapses before D (or who have none)" } },
	  "trustgate supplier list --status approved --expiring-before 2027-01-01" },
	{ "supplier show", "NAME", "a supplier with its keys", NULL, { { 0 } }, "trustgate supplier show acme" },

	/* ----------------------------------------------------------- key */
	{ "key", "add|revoke|list ...", "suppliers' public keys", NULL, { { 0 } }, NULL },
	{ "key add",
	  "SUPPLIER FILE [--purpose LIST] [--hash LIST] [--name HINT] [--not-before D] [--not-after D] --reason TEXT",
	  "record a supplier's public key",
	  "FILE: PEM public key (SPKI), X.509 certificate (PEM or DER), OpenPGP public key or keyring (every "
	  "key in it), or a U-Boot control DTB (each /signature/key-* node, with its required policy).  The "
	  "fingerprint is the SHA-256 of the DER SubjectPublicKeyInfo.",
	  { { "--purpose LIST", "comma list of package, firmware, ak, ek-ca (default package,firmware)" },
	    { "--hash LIST", "digests the key may sign with: sha1,sha256,sha384,sha512,sm3 (default by key type; "
			     "never sha1)" },
	    { "--name HINT", "a label shown in lists" },
	    { "--not-before D", "first day the key's signatures count (YYYY-MM-DD)" },
	    { "--not-after D", "last day (a certificate's validity applies too)" },
	    REASON },
	  "trustgate key add acme acme-signing.pem --purpose package --reason \"key ceremony 2026-02\"" },
	{ "key revoke", "FINGERPRINT --reason TEXT", "revoke a key: every signature it makes is rejected from now on",
	  "FINGERPRINT: the key's fingerprint or a unique prefix of at least 8 hex digits.", { REASON },
	  "trustgate key revoke 3f1c09ab --reason \"private key exposed\"" },
	{ "key list", "[SUPPLIER] [--supplier NAME] [--status S] [--purpose P] [--expiring-before D]",
	  "list keys (all, or one supplier's)", NULL,
	  { { "--supplier NAME", "only this supplier's (same as SUPPLIER)" },
	    { "--status S", "only active, revoked, expired or not-yet-valid ones" },
	    { "--purpose P", "only keys for package, firmware, ak or ek-ca" },
	    { "--expiring-before D", "only keys whose validity ends before D" } },
	  "trustgate key list --status active --expiring-before 2027-01-01" },
	{ "key show", "FINGERPRINT", "one key: supplier, algorithm, purposes, digests, validity, status",
	  "FINGERPRINT: the key's fingerprint or a unique prefix of at least 8 hex digits.", { { 0 } },
	  "trustgate key show 3f1c09ab" },

	/* ------------------------------------------------------- product */
	{ "product", "add|set|list|show ...", "products of a supplier and what they may carry", NULL, { { 0 } }, NULL },
	{ "product add",
	  "SUPPLIER NAME --kind package|firmware|image [--max-tier N] [--min-version V] [--guid UUID] "
	  "[--allow LIST] --reason TEXT",
	  "record a product",
	  "Tier 3 and above check only recorded products: the signer's supplier must own it.",
	  { { "--kind K", "package, firmware or image (required)" },
	    { "--max-tier N", "highest tier the product may enter (default 3)" },
	    { "--min-version V", "the floor: older versions are ROLLBACK" },
	    { "--guid UUID", "the UEFI image type GUID its capsules carry" },
	    { "--allow LIST", "what its packages may carry from tier 3: setuid" },
	    REASON },
	  "trustgate product add acme router-fw --kind firmware --max-tier 4 --min-version 2.1 --reason \"PO 4471\"" },
	{ "product set",
	  "SUPPLIER NAME [--max-tier N] [--min-version V|none] [--guid UUID|none] [--allow LIST|none] --reason TEXT",
	  "change a product: tier, version floor, capsule GUID, allowances (each change audited)", NULL,
	  { { "--max-tier N", "highest tier the product may enter (1-5)" },
	    { "--min-version V", "the floor (older versions are ROLLBACK), or none" },
	    { "--guid UUID", "the UEFI image type GUID, or none" },
	    { "--allow LIST", "setuid, or none" },
	    REASON },
	  "trustgate product set acme router-fw --min-version 2.3.1 --reason \"2.3.0 revoked, CVE-2026-1234\"" },
	{ "product list", "[--supplier NAME]", "list products", NULL,
	  { { "--supplier NAME", "only this supplier's" } }, "trustgate product list --supplier acme" },
	{ "product show", "SUPPLIER NAME", "a product with its releases", NULL, { { 0 } },
	  "trustgate --json product show acme router-fw" },

	/* ------------------------------------------------------- release */
	{ "release", "add|revoke|list|show ...", "released versions and their digests", NULL, { { 0 } }, NULL },
	{ "release add", "SUPPLIER PRODUCT VERSION (--file PATH | --digest ALG:HEX) --reason TEXT",
	  "record a release: the bytes of that version",
	  "With --file, the file's SHA-256 and, for PE/COFF and FIT files, the measurements a measured boot "
	  "of it produces (reference values for attest).  VERSION is a Debian version; equal spellings "
	  "(2.0, 0:2.0, 2.00) are one version.",
	  { { "--file PATH", "the released file" },
	    { "--digest ALG:HEX", "its digest (sha256, sha384, sha512, sm3)" },
	    REASON },
	  "trustgate release add acme router-fw 2.3.1 --file router-2.3.1.fit --reason \"release notes RN-231\"" },
	{ "release revoke", "SUPPLIER PRODUCT VERSION --reason TEXT",
	  "revoke a release: its bytes are rejected (RELEASE_REVOKED) under any version", NULL, { REASON },
	  "trustgate release revoke acme router-fw 2.3.0 --reason \"CVE-2026-1234\"" },
	{ "release list", "[--supplier NAME [--product NAME]] [--status approved|revoked]", "list releases", NULL,
	  { { "--supplier NAME", "only this supplier's" },
	    { "--product NAME", "only this product's (with --supplier)" },
	    { "--status S", "only approved or revoked ones" } },
	  "trustgate release list --supplier acme --status revoked" },
	{ "release show", "SUPPLIER PRODUCT VERSION", "one release: digest, status, dates", NULL, { { 0 } },
	  "trustgate release show acme router-fw 2.3.1" },

	/* --------------------------------------------------------- audit */
	{ "audit", "verify|log|anchor|export ...", "the hash-chained audit log", NULL, { { 0 } }, NULL },
	{ "audit verify", "[--tpm] [--tcti CONF] | --export FILE [--key APPLIANCE.pub]",
	  "check the audit chain and that every record matches its history",
	  "Re-hashes the chain, then re-derives every supplier, key, product, release, host and reference set "
	  "from its audit rows and compares it with the table: every record changed, inserted or deleted behind "
	  "trustgate's back is named.  Exit 0 intact, 1 tampered, 2 unreadable.",
	  { { "--tpm", "also compare the chain head with the one anchored in the TPM" },
	    { "--export FILE", "check an audit export offline instead (signature, chain, head; no records needed)" },
	    { "--key PUB", "the appliance public key the export must be signed by (appliance-key show)" },
	    { "--tcti CONF", "TPM connection (default $TPM2TOOLS_TCTI, $TSS2_TCTI, then the TSS default)" } },
	  "trustgate audit verify --tpm" },
	{ "audit log", "[--since D] [--until D] [--action A] [--object O] [--key FINGERPRINT] [--by ACTOR]",
	  "print the audit rows, filtered",
	  "Text output prints names as JSON strings, so no name can forge a line.",
	  { { "--since D", "only rows from day D on (YYYY-MM-DD, UTC)" },
	    { "--until D", "only rows up to the end of day D" },
	    { "--action A", "one action (supplier.set) or every action of a kind (supplier)" },
	    { "--object O", "one object: a supplier, S/P, S/P/V, a fingerprint, a host, a model" },
	    { "--key FP", "rows of one key: its own and every verdict it signed (unique prefix of 8+ hex)" },
	    { "--by ACTOR", "rows written by one actor (the global --actor names who acts, not a filter)" } },
	  "trustgate --json audit log --action key.revoke --since 2026-01-01 --until 2026-03-31" },
	{ "audit export", "--out FILE",
	  "write every audit row and the head, signed by the appliance key (a DSSE envelope), for an auditor",
	  "Only an intact chain is exported (exit 1 otherwise).  Verify it anywhere with trustgate audit verify "
	  "--export FILE --key APPLIANCE.pub, or with openssl (README, Signed evidence).",
	  { { "--out FILE", "the export (a new file)" } }, "trustgate audit export --out audit-2026-q4.export" },
	{ "audit anchor", "[--tcti CONF] [--decisions PATH]",
	  "anchor the audit head in this appliance's TPM (NV counter + NV head)",
	  "From then on every change writes the new head to the TPM before it commits, and every verdict is "
	  "measured into PCR 15 and the decision log.",
	  { { "--tcti CONF", "TPM connection" },
	    { "--decisions PATH", "decision log (default DATABASE.decisions)" } },
	  "trustgate audit anchor --tcti device:/dev/tpmrm0" },

	/* --------------------------------------------------------- check */
	{ "check", "FILE [--sig SIG] [--product NAME] [--version V] [--apt-lists DIR]\n"
		   "       trustgate check --batch LIST|- [--workers N] [--apt-lists DIR]",
	  "decide whether FILE may enter a network of the selected tier",
	  "The kind comes from the content: FIT image, UEFI capsule, PE/COFF, archive (tar, compressed tar, zip, "
	  "cpio, ar/.deb), else a raw blob.  APPROVED (exit 0) only when every rule of the tier holds; "
	  "REJECTED (exit 1) lists every rule that failed; 2 when it cannot decide.  Every verdict is recorded "
	  "with its audit row.",
	  { { "--sig SIG", "detached signature: openssl dgst/pkeyutl output (DER ECDSA/SM2, RSA PKCS#1/PSS, "
			   "Ed25519), base64 of it, or OpenPGP (binary/armored); without it an embedded "
			   "signature (FIT, capsule, Authenticode, archive manifest)" },
	    { "--product NAME", "the product the file is (default: from the manifest or release records)" },
	    { "--version V", "its version (default: from the manifest or release records)" },
	    { "--apt-lists DIR", "verify a .deb through Debian's signed InRelease and Packages indexes in DIR "
				 "(e.g. /var/lib/apt/lists)" },
	    { "--batch LIST", "many files: LIST (or - for stdin) has one JSON object per line, {\"file\", "
			      "\"sig\", \"product\", \"version\"}; one line per file in list order (--json: one "
			      "verdict per line); exit 0 all approved, 1 any rejected, 2 any not decided" },
	    { "--workers N", "parallel workers for --batch, each with its own connection to the records "
			     "(default: the CPUs)" } },
	  "trustgate --tier 3 check router-2.3.1.fit --product router-fw --version 2.3.1\n"
	  "trustgate --tier 1 check --batch delivery.jsonl\n"
	  "trustgate --tier 1 check /var/cache/apt/archives/bash_5.2.15-2+b2_amd64.deb --apt-lists /var/lib/apt/lists" },

	/* ------------------------------------------------------- verdict */
	{ "verdict", "show ID", "recorded verdicts as evidence", NULL, { { 0 } }, NULL },
	{ "verdict show", "ID",
	  "a recorded verdict: the document as decided, its id, time, actor, tool build, the records it used, "
	  "and its audit row",
	  "The stored document is checked against the SHA-256 its audit row carries and the row against its "
	  "hash: exit 0 when both hold, 1 when the verdict was edited after the decision, 2 for an unknown id.",
	  { { 0 } }, "trustgate --json verdict show 42" },

	{ "appliance-key", "init|show", "the appliance's own signing key (VSA, EAR, audit export)", NULL, { { 0 } }, NULL },
	{ "appliance-key init", "[--gm]",
	  "create the key that signs this appliance's VSAs, EARs and audit exports: Ed25519, or SM2 with --gm",
	  "The private key is written beside the records (DATABASE.appliance.pem, mode 0600), never into them; "
	  "its public key and fingerprint are kept in the records, and its creation is audited.  Once only.",
	  { { 0 } }, "trustgate --gm appliance-key init" },
	{ "appliance-key show", "", "print the appliance's public key (PEM): what relying parties pin", NULL,
	  { { 0 } }, "trustgate appliance-key show > appliance.pub" },
	/* ------------------------------------------------------ service */
	{ "ca", "init|crl ...", "the service's client CA: who may use trustgate serve", NULL, { { 0 } }, NULL },
	{ "ca init", "[--ca DIR] [--name NAME] [--server-names LIST] [--days N]",
	  "create the appliance's client CA, the service's TLS certificate and an empty CRL",
	  "DIR (default $TRUSTGATE_CA or ./trustgate-ca, created 0700) receives ca.pem, ca.key (0600), "
	  "server.pem, server.key (0600), nonce.key (0600, the MAC key of attestation nonces) and crl.pem; keys "
	  "are ECDSA P-256.  The records pin the CA's SHA-256: "
	  "serve and user refuse any other CA directory.  Once per records; audited (ca.init).",
	  { { "--ca DIR", "where the CA lives (never inside the records)" },
	    { "--name NAME", "the CA's common name (default \"trustgate client CA\")" },
	    { "--server-names LIST", "DNS names and IP addresses of the service, comma-separated (localhost, "
				      "127.0.0.1 and ::1 are always in)" },
	    { "--days N", "validity of the CA and the service certificate (default 3650)" } },
	  "trustgate ca init --ca /var/lib/trustgate/ca --server-names trustgate.example.cn,10.0.0.5" },
	{ "ca crl", "[--ca DIR] [--days N | --next-update DATE]",
	  "sign the CRL afresh from the records (every revoked certificate), valid N more days",
	  "A CRL is valid until its next update (user revoke and ca crl sign it for 365 days).  Past it, "
	  "serve admits no client at all (the CRL says nothing about revocations since) and refuses to start "
	  "or reload with it; this command signs a fresh one, which a running serve reads on SIGHUP.  "
	  "Audited (ca.crl).",
	  { { "--ca DIR", "the CA directory (default $TRUSTGATE_CA or ./trustgate-ca)" },
	    { "--days N", "validity from now (default 365)" },
	    { "--next-update DATE", "until this date or time instead (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)" } },
	  "trustgate ca crl --ca /var/lib/trustgate/ca && systemctl reload trustgate-serve" },
	{ "user", "add|list|revoke ...", "people and hosts of the service, each with a client certificate",
	  NULL, { { 0 } }, NULL },
	{ "user add", "NAME --role admin|procurement|operator|reviewer|host (--out DIR | --csr FILE [--out DIR]) "
		      "[--ca DIR] [--days N | --not-after DATE] [--p12-pass-file FILE]",
	  "issue a client certificate (PEM, key, and PKCS#12 for browsers) and record its holder and role",
	  "The certificate's CN is NAME and its OU the role; the service admits it only while the records hold it "
	  "in force with that role.  Roles: admin changes suppliers, keys and products; procurement checks "
	  "products; operator enrols hosts and asks for attestations; reviewer reads everything, reports and the "
	  "audit log; host (NAME an enrolled host) asks for its own nonce and submits its own attestation, bound "
	  "to the AK the host enrolled with.  Files NAME.pem, NAME.key, NAME.p12 (and NAME.p12.pass with a "
	  "generated password) are written to DIR, never over existing ones.  With --csr the certificate is "
	  "for the key of a PKCS#10 request made elsewhere (its signature must verify): only NAME.pem, or the "
	  "PEM on stdout without --out.  Audited (user.add).",
	  { { "--role ROLE", "admin, procurement, operator, reviewer or host" },
	    { "--out DIR", "where the certificate, key and PKCS#12 are written" },
	    { "--csr FILE", "issue for this request's key (ECDSA P-256/P-384, RSA >= 2048); no key, no PKCS#12" },
	    { "--ca DIR", "the CA directory (default $TRUSTGATE_CA or ./trustgate-ca)" },
	    { "--days N", "validity in days (default 365)" },
	    { "--not-after DATE", "valid until DATE (YYYY-MM-DD) instead" },
	    { "--p12-pass-file FILE", "the PKCS#12 password (one line, 8+ characters); default: generated" } },
	  "trustgate user add 王芳 --role reviewer --out ./certs" },
	{ "user list", "", "every certificate issued: holder, role, validity, revoked or not", NULL, { { 0 } },
	  "trustgate --json user list" },
	{ "user revoke", "NAME --reason TEXT [--ca DIR]",
	  "revoke NAME's certificate: refused by the service at once, and listed on the CRL",
	  "The records mark it revoked (serve checks them on every request) and DIR/crl.pem is signed again "
	  "with every revoked serial; a running serve reads the CRL again on SIGHUP.  Audited (user.revoke).",
	  { { "--ca DIR", "the CA directory" }, REASON },
	  "trustgate user revoke 王芳 --reason \"left the review team\"" },
	{ "serve", "[--config FILE] [--listen ADDR:PORT] [--ca DIR] [--workers N] [limits]",
	  "serve the records, checks and attestations over HTTPS with mutual TLS (the /v1 API)",
	  "Every request must present a client certificate of the CA (ca init) that the records hold in force "
	  "(user add); the role decides what it may do (docs/openapi.yaml lists every route and its roles).  "
	  "The audit actor is the certificate's subject.  One worker process per core; a check's upload is "
	  "received into a private file under --spool within --max-upload-mb, or, for a blob whose sig field "
	  "came before its file field, checked as it arrives and written nowhere.  SIGTERM: finish the requests in "
	  "hand (at most --grace seconds) and exit; SIGHUP: read the certificates and the CRL again.  One JSON "
	  "line per request on stderr; GET /metrics in Prometheus text; GET /healthz.  The configuration file "
	  "has one \"key = value\" per line, keys as the long options; flags win over it.",
	  { { "--config FILE", "settings file (key = value)" },
	    { "--listen ADDR:PORT", "numeric address and port (default 127.0.0.1:8443)" },
	    { "--ca DIR", "the CA directory (default $TRUSTGATE_CA or ./trustgate-ca)" },
	    { "--workers N", "worker processes (default: one per core)" },
	    { "--max-upload-mb N", "largest artifact a check accepts (default 4096)" },
	    { "--max-connections N", "open connections per worker (default 1024)" },
	    { "--max-per-ip N", "open connections per client address per worker (default 256)" },
	    { "--idle-timeout S", "close a silent connection after S seconds (default 30)" },
	    { "--header-timeout S", "a request's headers must arrive within S seconds (default 10)" },
	    { "--request-timeout S", "a whole request, upload included, within S seconds (default 3600)" },
	    { "--spool DIR", "where uploads are received (default $TMPDIR or /var/tmp)" },
	    { "--nonce-ttl S", "lifetime of an attestation nonce (default 300)" },
	    { "--grace S", "how long SIGTERM waits for requests in hand (default 30)" },
	    { "--integrity-interval S", "attestations of one model share its checked references for at most S "
					"seconds while no record changes (default 1; 0: checked per request, as the CLI)" },
	    { "--webhook URL", "deliver notifications (host UNTRUSTED, verdict re-decided REJECTED, review expiring "
			       "within 30 days) to this https:// URL, as DSSE envelopes signed by the appliance key, retried "
			       "with back-off; each also a syslog line" },
	    { "--webhook-ca FILE", "the CA of the webhook's certificate (default: the system's)" },
	    { "--tpm TCTI", "the appliance's TPM: GET /v1/appliance/attestation?nonce=HEX answers its own quote of PCRs "
			    "0-7 and 15 with the boot and decision logs" } },
	  "trustgate --db /var/lib/trustgate/records.db serve --listen 0.0.0.0:8443 --ca /var/lib/trustgate/ca" },
	{ "agent", "--server URL --host NAME --cert PEM --key PEM --ca PEM [--interval S] [--once] [--tcti CONF] "
		   "[--ak-alg rsa|ecc] [--eventlog PATH] [--max-backoff S] | --enroll ... --out DIR --reason TEXT "
		   "[--model NAME]",
	  "attest this host to a trustgate service on a schedule: nonce, quote with the local TPM, submit",
	  "Each round asks the service for a nonce, quotes PCRs 0-7 over it with the AK `trustgate quote` uses "
	  "(persistent under the EK, created if absent), submits quote, signature and the boot event log, and "
	  "prints the verdict in one line.  The certificate is the host certificate issued for this host "
	  "(user add NAME --role host); the service accepts it for this host and this AK only.  Errors are "
	  "retried after 5 s, doubling up to --max-backoff; SIGTERM stops between rounds.  contrib/ has a "
	  "systemd service and timer (one round per start, --once).  --enroll, once per host with an "
	  "operator's certificate, enrols the host instead: the TPM's AK and EK are sent for a challenge, the "
	  "TPM activates the credential, and the secret goes back with a certificate request for a key made "
	  "here; the host certificate issued at enrolment and that key are written to DIR/NAME.pem and "
	  "DIR/NAME.key.",
	  { { "--server URL", "the service, https://ADDRESS:PORT" },
	    { "--host NAME", "this host's name as enrolled" },
	    { "--cert PEM", "this host's client certificate" },
	    { "--key PEM", "its key" },
	    { "--ca PEM", "the CA of the service's certificate (ca.pem of ca init)" },
	    { "--interval S", "seconds between rounds (default 60, with up to 10% jitter)" },
	    { "--once", "one round; exit 0 TRUSTED, 1 UNTRUSTED, 2 error" },
	    { "--tcti CONF", "the TPM (default $TPM2TOOLS_TCTI, else the TSS default)" },
	    { "--ak-alg A", "rsa (default) or ecc" },
	    { "--eventlog PATH", "the boot event log (default the kernel's securityfs log)" },
	    { "--max-backoff S", "longest wait after failures (default 300)" },
	    { "--enroll", "enrol this host (an operator's --cert/--key) and write its certificate and key" },
	    { "--out DIR", "with --enroll: where NAME.pem and NAME.key (0600) go" },
	    { "--reason TEXT", "with --enroll: the enrolment's audited reason" },
	    { "--model NAME", "with --enroll: the host's reference model" } },
	  "trustgate agent --server https://trustgate.example.cn:8443 --host edge-17 --cert /etc/trustgate/host.pem "
	  "--key /etc/trustgate/host.key --ca /etc/trustgate/ca.pem --once" },
	{ "report", "ID [--html FILE] [--vsa FILE] [--ear FILE]",
	  "write a recorded verdict as one self-contained, printable HTML file for a reviewer",
	  "The banner; why (failing rules first, each with what to do); the subject and inputs with digests; "
	  "signer, supplier, review and expiry (for a host: observed against expected measurements); the audit "
	  "anchoring and the offline commands that re-verify it.  No script, no external resource, every "
	  "recorded string escaped.  FILE must not exist.  A verdict edited since its decision gets no report "
	  "(exit 1).",
	  { { "--html FILE", "the report to write (a new file)" },
	    { "--vsa FILE", "a check's in-toto SLSA verification summary, DSSE-signed by the appliance key" },
	    { "--ear FILE", "an attestation's IETF RATS EAR (AR4SI trust vector), a JWT signed by the appliance key" } },
	  "trustgate report 42 --html verdict-42.html --vsa verdict-42.vsa.json" },
	{ "reevaluate", "[--since YYYY-MM-DD] [--dry-run]",
	  "re-decide the approved verdicts and trusted attestations that relied on a record changed since the date",
	  "A revoked key or release, a supplier suspended, revoked or re-rated, a product's floor or tier "
	  "changed: the policy runs again from the facts recorded with each verdict, against the records as "
	  "they are now.  Each host's latest trusted attestation is judged again when references, the deny "
	  "list or the host's record changed: its recorded measurements against the references as they are now.  "
	  "A verdict that no longer holds is recorded as a new REJECTED (UNTRUSTED) verdict superseding it "
	  "(audited).  Exit 0 when every verdict stands, 1 when any turned negative, 2 when it cannot decide.",
	  { { "--since D", "only records changed from day D on (default: ever)" },
	    { "--dry-run", "say what would change, record nothing" } },
	  "trustgate reevaluate --since 2026-11-01" },

	/* ---------------------------------------------------- inspection */
	{ "fit", "show FILE", "inspect a U-Boot FIT image", NULL, { { 0 } }, NULL },
	{ "fit show", "FILE", "print a FIT image as parsed (decides nothing, needs no records)", NULL, { { 0 } },
	  "trustgate --json fit show image.fit" },
	{ "archive", "list FILE", "inspect an archive", NULL, { { 0 } }, NULL },
	{ "archive list", "FILE",
	  "every member as check walks it: path, type, mode, size, SHA-256, link target; and findings",
	  NULL, { { 0 } }, "trustgate --json archive list bash_5.2.15-2+b2_amd64.deb" },
	{ "eventlog", "FILE", "parse and replay a TCG PC Client event log (SHA-1 or crypto-agile)",
	  "Prints the events and the PCR values they produce in every bank.", { { 0 } },
	  "trustgate --json eventlog /sys/kernel/security/tpm0/binary_bios_measurements" },

	/* -------------------------------------------------------- vendor */
	{ "vendor", "sign|manifest ...", "the supplier's side: embedded signed manifests", NULL, { { 0 } }, NULL },
	{ "vendor sign", "ARCHIVE --key PRIVATE.pem --product NAME --version V --out FILE [--supplier NAME]",
	  "write a copy of ARCHIVE with a signed in-toto manifest (DSSE) at its root",
	  "Every member's path and SHA-256 (links with their targets) is listed; any key type, SM2 included.",
	  { { "--key PRIVATE.pem", "the signing key" },
	    { "--product NAME", "product named in the statement" },
	    { "--version V", "version named in the statement" },
	    { "--out FILE", "the signed copy (must not exist)" },
	    { "--supplier NAME", "supplier named when the key is not in these records" } },
	  "trustgate vendor sign app.tar.gz --key acme.pem --product app --version 1.4 --out app-1.4.tar.gz" },
	{ "vendor manifest", "ARCHIVE", "print the embedded manifest's statement (signature not judged)", NULL,
	  { { 0 } }, "trustgate --json vendor manifest app-1.4.tar.gz" },

	/* ---------------------------------------------------------- host */
	{ "host", "challenge|respond|enroll|list|show|set|retire ...", "attested hosts and their attestation keys", NULL,
	  { { 0 } }, NULL },
	{ "host challenge", "NAME --ak AKPUB --ek EKPUB [--out FILE]",
	  "make a credential challenge: only the TPM holding that EK and AK can answer it", NULL,
	  { { "--ak AKPUB", "the host's AK (TPM2B_PUBLIC or TPMT_PUBLIC)" },
	    { "--ek EKPUB", "the host's EK public key" },
	    { "--out FILE", "where to write the challenge (default stdout)" } },
	  "trustgate host challenge web-01 --ak ak.pub --ek ek.pub --out web-01.challenge" },
	{ "host respond", "--challenge FILE [--tcti CONF] [--ak-alg rsa|ecc] [--ek-alg rsa|ecc]",
	  "on the host: answer a challenge with the local TPM (prints the secret)", NULL,
	  { { "--challenge FILE", "the challenge from host challenge" },
	    { "--tcti CONF", "TPM connection" },
	    { "--ak-alg A", "rsa (default) or ecc" },
	    { "--ek-alg A", "rsa (default) or ecc" } },
	  "trustgate host respond --challenge web-01.challenge --tcti device:/dev/tpmrm0" },
	{ "host enroll",
	  "NAME --ak AKPUB [--ek EKPUB | --ek-cert CERT] [--model NAME] (--secret HEX | --no-challenge) --reason TEXT",
	  "enrol a host: bind its name to its AK",
	  "The host's tier is the global --tier.  --secret proves the AK lives in the TPM of that EK.",
	  { { "--ak AKPUB", "the AK" },
	    { "--ek EKPUB", "the EK public key" },
	    { "--ek-cert CERT", "the EK certificate (checked against ek-ca keys)" },
	    { "--model NAME", "the model whose reference values apply" },
	    { "--secret HEX", "the answer of host respond" },
	    { "--no-challenge", "enrol without proof (audited as such)" },
	    REASON },
	  "trustgate --tier 3 host enroll web-01 --ak ak.pub --ek ek.pub --model r740 --secret 9f0c... --reason \"rack B4\"" },
	{ "host list", "[--status enrolled|retired] [--model NAME]", "list the hosts", NULL,
	  { { "--status S", "only enrolled or retired ones" }, { "--model NAME", "only this model's" } },
	  "trustgate host list --model r740" },
	{ "host set", "NAME [--model NAME|none] [--tier N] --reason TEXT",
	  "change a host's model (whose reference values apply) or tier", NULL,
	  { { "--model NAME", "the new model, or none" }, { "--tier N", "the host's tier (1-5)" }, REASON },
	  "trustgate host set web-01 --model r750 --reason \"mainboard replaced, ticket 8812\"" },
	{ "host retire", "NAME --reason TEXT", "retire a host: its attestations are refused from now on",
	  "The record and its history stay; the name cannot be enrolled again.", { REASON },
	  "trustgate host retire web-01 --reason \"decommissioned\"" },
	{ "host show", "NAME", "a host with its last attestation", NULL, { { 0 } }, "trustgate --json host show web-01" },

	/* ----------------------------------------------------- reference */
	{ "reference", "import|list|revoke ...", "reference measurements (expected boot state)", NULL, { { 0 } }, NULL },
	{ "reference import", "--eventlog LOG --model NAME --reason TEXT",
	  "a known-good host's event log becomes the golden state of its model", NULL,
	  { { "--eventlog LOG", "binary_bios_measurements of the known-good host" },
	    { "--model NAME", "the model" },
	    REASON },
	  "trustgate reference import --eventlog golden.bin --model r740 --reason \"golden image 2026-04\"" },
	{ "reference list", "[--model NAME | --release SUPPLIER/PRODUCT/VERSION]", "list reference values", NULL,
	  { { "--model NAME", "only this model's" }, { "--release S/P/V", "only this release's" } },
	  "trustgate reference list --model r740" },
	{ "reference revoke", "(--digest ALG:HEX | --model NAME | --release SUPPLIER/PRODUCT/VERSION) --reason TEXT",
	  "withdraw reference values: a known-bad measurement, a model's golden state, a release's values",
	  "--digest also puts the digest on the deny list: any host that measures it is UNTRUSTED "
	  "(MEASUREMENT_REVOKED) whatever reference or later golden log carries it.  --model and --release mark "
	  "the values revoked (a later import of the same value makes it known again).  Prints the hosts that "
	  "relied on them.",
	  { { "--digest ALG:HEX", "a measurement (sha1, sha256, sha384, sha512, sm3)" },
	    { "--model NAME", "every value of this model" },
	    { "--release S/P/V", "every value of this release" },
	    REASON },
	  "trustgate reference revoke --digest sha256:9a3f... --reason \"bootloader CVE-2026-2601 (BootHole-like)\"" },

	/* -------------------------------------------------------- attest */
	{ "attest",
	  "NAME (--msg ATTEST --sig SIG --eventlog LOG | --bundle DIR) --nonce HEX [--pcrs PCRS] [--pcr-list LIST]\n"
	  "       trustgate attest --batch DIR|- [--workers N] [--pcr-list LIST]",
	  "decide whether an enrolled host is TRUSTED",
	  "Its quote verified with its enrolled AK, the nonce fresh and single-use, the event log replayed "
	  "and matched to the quote, every measured event of the attested PCRs found among its reference "
	  "values.",
	  { { "--msg ATTEST", "TPMS_ATTEST (tpm2_quote -m)" },
	    { "--sig SIG", "TPMT_SIGNATURE (tpm2_quote -s)" },
	    { "--eventlog LOG", "the host's event log" },
	    { "--nonce HEX", "the nonce the quote must carry" },
	    { "--pcrs PCRS", "PCR values (tpm2_quote -o, or JSON)" },
	    { "--bundle DIR", "a bundle written by trustgate quote" },
	    { "--pcr-list LIST", "PCRs that must be quoted and match (default 0-7)" },
	    { "--batch DIR|-", "many hosts: one directory per host, or JSON lines on stdin" },
	    { "--workers N", "parallel workers for --batch (default: the CPUs)" } },
	  "trustgate attest web-01 --bundle /srv/quotes/web-01 --nonce 5f2a9c..." },

	/* --------------------------------------------------------- quote */
	{ "quote", "--nonce HEX --out DIR [--tcti CONF] [--ak-alg rsa|ecc] [--pcr-list LIST] [--eventlog LOG] "
		   "[--decisions LOG]",
	  "agent side: quote the local TPM into a bundle (quote verify: check one)",
	  "Writes DIR/attest.bin, sig.bin, pcrs.json, ak.pem, ak.tpm2b and eventlog.bin when the host has one.",
	  { { "--nonce HEX", "the verifier's nonce" },
	    { "--out DIR", "the bundle directory" },
	    { "--tcti CONF", "TPM connection" },
	    { "--ak-alg A", "rsa (default) or ecc" },
	    { "--pcr-list LIST", "PCRs to quote (default 0-7)" },
	    { "--eventlog LOG", "event log (default /sys/kernel/security/tpm0/binary_bios_measurements)" },
	    { "--decisions LOG", "append the appliance's decision log (PCR 15)" } },
	  "trustgate quote --nonce 5f2a9c... --out /tmp/bundle --tcti device:/dev/tpmrm0" },
	{ "quote verify",
	  "(--ak AKPUB --msg ATTEST --sig SIG | --bundle DIR) [--pcrs PCRS] [--eventlog LOG] [--nonce HEX] "
	  "[--pcr-list LIST]",
	  "verify a TPM 2.0 quote without records: TRUSTED only when every check ran and passed", NULL,
	  { { "--ak AKPUB", "the AK (PEM, TPM2B_PUBLIC or TPMT_PUBLIC)" },
	    { "--msg ATTEST", "TPMS_ATTEST" },
	    { "--sig SIG", "TPMT_SIGNATURE" },
	    { "--pcrs PCRS", "PCR values" },
	    { "--eventlog LOG", "event log to replay against the quote" },
	    { "--nonce HEX", "expected nonce" },
	    { "--bundle DIR", "a bundle written by trustgate quote" },
	    { "--pcr-list LIST", "PCRs that must be quoted" } },
	  "trustgate quote verify --bundle /tmp/bundle --nonce 5f2a9c..." },

	/* ---------------------------------------------------------- help */
	{ "help", "[COMMAND [SUBCOMMAND]] | --man | --list | --reasons", "this help; --man prints the man page",
	  "--reasons lists every reason code a verdict can carry: the code, when it counts (reject: always; tier: "
	  "a reason at tier 3+ or CII, a warning below; warn: never changes the verdict), what it means and what "
	  "to do about it (tab-separated; with --json one array).",
	  { { 0 } }, "trustgate help supplier add\ntrustgate help --reasons" },
};

static const struct tg_help_opt global_opts[] = {
	{ "--db PATH|URL", "the records: a SQLite file or postgresql://... (default $TRUSTGATE_DB, else ./trustgate.db)" },
	{ "--json", "one JSON document on stdout" },
	{ "--actor NAME", "who is acting, for the audit log (default $TRUSTGATE_ACTOR, else the login name)" },
	{ "--tier N", "destination tier 1-5 (default 3)" },
	{ "--cii", "the destination is critical information infrastructure" },
	{ "--gm", "national cryptography only (SM2/SM3)" },
	{ "--help", "help of the command it follows" },
	{ "--version", "the version" },
};

/* Options every command accepts besides its own. */
static const char *const global_names[] = { "db", "json", "actor", "tier", "cii", "gm", "help", "version" };

const struct tg_help *tg_help_find(const char *cmd, const char *sub)
{
	char path[64];

	snprintf(path, sizeof(path), "%s%s%s", cmd, sub ? " " : "", sub ? sub : "");
	for (size_t i = 0; i < TG_ARRAY_SIZE(entries); i++)
		if (strcmp(entries[i].path, path) == 0)
			return &entries[i];
	return NULL;
}

static bool is_group(const struct tg_help *h)
{
	size_t n = strlen(h->path);

	if (strchr(h->path, ' '))
		return false;
	for (size_t i = 0; i < TG_ARRAY_SIZE(entries); i++)
		if (strncmp(entries[i].path, h->path, n) == 0 && entries[i].path[n] == ' ')
			return true;
	return false;
}

static void print_wrapped(FILE *f, const char *indent, const char *text, size_t width)
{
	size_t col = 0;
	const char *p = text;

	fputs(indent, f);
	col = strlen(indent);
	while (*p) {
		size_t w = strcspn(p, " \n");
		if (col > strlen(indent) && col + 1 + w > width) {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
		} else if (col > strlen(indent)) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, w, f);
		col += w;
		p += w;
		if (*p == '\n') {
			fprintf(f, "\n%s", indent);
			col = strlen(indent);
			p++;
		} else if (*p == ' ') {
			p++;
		}
	}
	fputc('\n', f);
}

static void print_opts(FILE *f, const struct tg_help_opt *o, size_t n)
{
	for (size_t i = 0; i < n && o[i].spec; i++) {
		size_t w = strlen(o[i].spec);
		fprintf(f, "  %s", o[i].spec);
		if (w > 28)
			fprintf(f, "\n  %30s", "");
		else
			fprintf(f, "%*s", (int)(30 - w), "");
		fprintf(f, "%s\n", o[i].text);
	}
}

void tg_help_print(FILE *f, const struct tg_help *h)
{
	fprintf(f, "usage: trustgate %s%s%s\n\n", h->path, h->args[0] ? " " : "", h->args);
	print_wrapped(f, "", h->summary, 100);
	if (h->about) {
		fputc('\n', f);
		print_wrapped(f, "", h->about, 100);
	}
	if (is_group(h)) {
		size_t n = strlen(h->path);
		fprintf(f, "\nsubcommands (trustgate %s SUBCOMMAND --help for each):\n", h->path);
		for (size_t i = 0; i < TG_ARRAY_SIZE(entries); i++)
			if (strncmp(entries[i].path, h->path, n) == 0 && entries[i].path[n] == ' ')
				fprintf(f, "  %-18s %s\n", entries[i].path + n + 1, entries[i].summary);
	}
	if (h->opts[0].spec) {
		fprintf(f, "\noptions:\n");
		print_opts(f, h->opts, TG_HELP_MAX_OPTS);
	}
	fprintf(f, "\nglobal options (before or after the command): --db PATH --json --actor NAME --tier N "
		   "--cii --gm\n");
	if (h->example)
		fprintf(f, "\nexample:\n");
	if (h->example)
		print_wrapped(f, "  ", h->example, 1000);
	fprintf(f, "\nexit status: 0 approved/success, 1 rejected/untrusted/tampered, 2 could not decide\n");
}

void tg_help_print_all(FILE *f)
{
	fprintf(f, "usage: trustgate [--db PATH] [--json] [--actor NAME] [--tier N] [--cii] [--gm] COMMAND [ARGS]\n"
		   "       trustgate COMMAND [SUBCOMMAND] --help | trustgate help [COMMAND [SUBCOMMAND]] | "
		   "trustgate --version\n\ncommands:\n");
	for (size_t i = 0; i < TG_ARRAY_SIZE(entries); i++) {
		if (is_group(&entries[i]))
			continue;
		fprintf(f, "  %s%s%s\n", entries[i].path, entries[i].args[0] ? " " : "", entries[i].args);
		fprintf(f, "      %s\n", entries[i].summary);
	}
	fprintf(f, "\nglobal options:\n");
	print_opts(f, global_opts, TG_ARRAY_SIZE(global_opts));
	fprintf(f, "\nexit status: 0 approved/trusted/success, 1 rejected/untrusted/tampered, 2 could not decide "
		   "(bad input, missing records, TPM unreachable)\nman trustgate: the manual; docs/CLI.md: the contract\n");
}

void tg_help_reasons(FILE *f, bool json)
{
	if (!json) {
		for (size_t i = 0; i < TG_REASON__COUNT; i++)
			fprintf(f, "%s\t%s\t%s\t%s\n", tg_reasons[i].code, tg_severity_name(tg_reasons[i].severity),
				tg_reasons[i].meaning, tg_reasons[i].todo);
		return;
	}
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < TG_REASON__COUNT; i++) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(tg_reasons[i].code));
		json_object_object_add(o, "severity", json_object_new_string(tg_severity_name(tg_reasons[i].severity)));
		json_object_object_add(o, "meaning", json_object_new_string(tg_reasons[i].meaning));
		json_object_object_add(o, "todo", json_object_new_string(tg_reasons[i].todo));
		json_object_array_add(a, o);
	}
	fprintf(f, "%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
}

void tg_help_list(FILE *f)
{
	for (size_t i = 0; i < TG_ARRAY_SIZE(entries); i++)
		fprintf(f, "%s\n", entries[i].path);
}

void tg_help_print_version(FILE *f)
{
	char digest[65];

	fprintf(f, "trustgate %s (commit %s", TG_VERSION, TG_COMMIT);
	if (tg_build_digest(digest))
		fprintf(f, ", build sha256:%s", digest);
	fprintf(f, ")\n");
	/* The parsers of hostile input it carries: libarchive is linked into
	 * the binary (Makefile, STATIC_ARCHIVE), so its security updates need
	 * a rebuild; the others are the system's shared libraries. */
	fprintf(f, "%s (%s), libgcrypt %s, SQLite %s\n", archive_version_string(),
#ifdef TG_STATIC_ARCHIVE
		"linked in",
#else
		"shared",
#endif
		gcry_check_version(NULL), tg_db_engine_version());
}

const char *tg_tool_version(void)
{
	return TG_VERSION;
}

const char *tg_tool_commit(void)
{
	return TG_COMMIT;
}

bool tg_build_digest(char out[65])
{
	static char cached[65];
	uint8_t h[32];

	if (!cached[0]) {
		struct tg_diag d = { { 0 } };
		uint64_t size = 0;
		if (tg_file_digest("/proc/self/exe", TG_HASH_SHA256, h, &size, &d) != TG_OK)
			return false;
		tg_hex_encode(h, 32, cached);
	}
	memcpy(out, cached, 65);
	return true;
}

/* roff: a leading '.' or '\'' and every backslash must be escaped, '-' in
 * options is \-. */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\n')
			fputs("\n.br\n", f);
		else
			fputc(*s, f);
	}
}

void tg_help_print_man(FILE *f)
{
	fprintf(f, ".\\\" Generated by 'trustgate help --man' from verifier/help.c; do not edit.\n"
		   ".TH TRUSTGATE 1 \"\" \"trustgate %s\" \"User Commands\"\n.SH NAME\n"
		   "trustgate \\- supply-chain, firmware and host trust verification\n.SH SYNOPSIS\n.B trustgate\n"
		   "[\\-\\-db PATH] [\\-\\-json] [\\-\\-actor NAME] [\\-\\-tier N] [\\-\\-cii] [\\-\\-gm] COMMAND [ARGS]\n"
		   ".SH DESCRIPTION\ntrustgate decides on evidence alone whether a vendor package, a firmware image, "
		   "a signed product or a host may enter a network of a given tier (China's MLPS 2.0 grades I\\-V).  "
		   "Only an explicit, complete success is APPROVED or TRUSTED; every verdict and every change to the "
		   "records is written to a hash\\-chained audit log.\n.SH GLOBAL OPTIONS\n", TG_VERSION);
	for (size_t i = 0; i < TG_ARRAY_SIZE(global_opts); i++) {
		fputs(".TP\n.B ", f);
		roff(f, global_opts[i].spec);
		fputc('\n', f);
		roff(f, global_opts[i].text);
		fputc('\n', f);
	}
	fputs(".SH COMMANDS\n", f);
	for (size_t i = 0; i < TG_ARRAY_SIZE(entries); i++) {
		const struct tg_help *h = &entries[i];
		if (is_group(h))
			continue;
		fputs(".SS ", f);
		roff(f, h->path);
		fputs("\n.B trustgate ", f);
		roff(f, h->path);
		fputc(' ', f);
		roff(f, h->args);
		fputs("\n.PP\n", f);
		roff(f, h->summary);
		fputs(".\n", f);
		if (h->about) {
			fputs(".PP\n", f);
			roff(f, h->about);
			fputc('\n', f);
		}
		for (size_t k = 0; k < TG_HELP_MAX_OPTS && h->opts[k].spec; k++) {
			fputs(".TP\n.B ", f);
			roff(f, h->opts[k].spec);
			fputc('\n', f);
			roff(f, h->opts[k].text);
			fputc('\n', f);
		}
		if (h->example) {
			fputs(".PP\nExample:\n.PP\n.nf\n.RS\n", f);
			roff(f, h->example);
			fputs("\n.RE\n.fi\n", f);
		}
	}
	fputs(".SH REASON CODES\nEvery code a verdict can carry (the column says when it counts: reject, tier \\- a "
	      "reason at tier 3 and above or under CII, a warning below \\- or warn):\n", f);
	for (size_t i = 0; i < TG_REASON__COUNT; i++) {
		fputs(".TP\n.B ", f);
		roff(f, tg_reasons[i].code);
		fprintf(f, " (%s)\n", tg_severity_name(tg_reasons[i].severity));
		roff(f, tg_reasons[i].meaning);
		fputs(". ", f);
		roff(f, tg_reasons[i].todo);
		fputc('\n', f);
	}
	fputs(".SH EXIT STATUS\n.TP\n0\nsuccess; for a verdict APPROVED or TRUSTED\n.TP\n1\na negative verdict "
	      "(REJECTED, UNTRUSTED) or a failed verification (audit verify)\n.TP\n2\ncould not decide: usage error, "
	      "unreadable, malformed or over\\-limit input, missing records, TPM unreachable\n"
	      ".SH ENVIRONMENT\n.TP\n.B TRUSTGATE_DB\nthe records when \\-\\-db is not given (a file, or postgresql://...)\n"
	      ".TP\n.B TRUSTGATE_STATE_DIR\nwhere this appliance keeps its own files for records on PostgreSQL "
	      "(default /var/lib/trustgate)\n.TP\n.B PGPASSWORD, PGHOST, ...\nlibpq's settings, for a postgresql:// URL "
	      "that leaves them out\n.TP\n.B TRUSTGATE_ACTOR\n"
	      "the actor when \\-\\-actor is not given\n.TP\n.B TPM2TOOLS_TCTI, TSS2_TCTI\nthe TPM connection when "
	      "\\-\\-tcti is not given\n.SH FILES\n.TP\n.I ./trustgate.db\nthe default records (SQLite)\n"
	      ".SH SEE ALSO\n.BR tpm2_quote (1),\n.BR openssl (1),\n.BR gpgv (1),\n.BR mkimage (1).\n"
	      "The command\\-line contract is docs/CLI.md in the source.\n", f);
}

/* "--name ARG" -> "name" in out. */
static void spec_name(const char *spec, char *out, size_t n)
{
	size_t k = 0;

	if (strncmp(spec, "--", 2) == 0)
		spec += 2;
	while (spec[k] && spec[k] != ' ' && spec[k] != '=' && k + 1 < n) {
		out[k] = spec[k];
		k++;
	}
	out[k] = '\0';
}

const char *tg_help_mismatch(const struct tg_help *h, const struct tg_opt *opts)
{
	static char bad[128];
	char name[48];

	for (size_t i = 0; opts && opts[i].name; i++) {
		bool found = false;
		for (size_t k = 0; k < TG_HELP_MAX_OPTS && h->opts[k].spec && !found; k++) {
			spec_name(h->opts[k].spec, name, sizeof(name));
			found = strcmp(name, opts[i].name) == 0;
		}
		if (!found) {
			snprintf(bad, sizeof(bad), "--%s (parsed, not documented)", opts[i].name);
			return bad;
		}
	}
	for (size_t k = 0; k < TG_HELP_MAX_OPTS && h->opts[k].spec; k++) {
		bool found = false;
		spec_name(h->opts[k].spec, name, sizeof(name));
		for (size_t i = 0; opts && opts[i].name && !found; i++)
			found = strcmp(name, opts[i].name) == 0;
		for (size_t i = 0; i < TG_ARRAY_SIZE(global_names) && !found; i++)
			found = strcmp(name, global_names[i]) == 0;
		if (!found) {
			snprintf(bad, sizeof(bad), "--%s (documented, not parsed)", name);
			return bad;
		}
	}
	return NULL;
}
