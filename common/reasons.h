/*
 * Every reason code a verdict can carry, in one table: the code, when it
 * counts (always a rejection, a warning only, or by tier), what it means in
 * one line, and what the reader of a report should do about it.
 *
 * A call site names a code as TG_R(SIG_INVALID): a misspelt code does not
 * compile, so no rule can invent a code that reports, docs/CLI.md and the
 * relying parties' scripts do not know.  tg_verdict_reason() also refuses
 * a code that is not in the table at run time (codes built from data), and
 * records INCOMPLETE instead.  Codes are added, never renamed or removed:
 * verdicts recorded years ago carry them.  `trustgate help --reasons`
 * prints the table; tests/e2e/11_help.sh holds docs/CLI.md to it.
 */
#ifndef TG_REASONS_H
#define TG_REASONS_H

#include <stddef.h>

enum tg_severity {
	TG_SEV_REJECT, /* a reason: the verdict is negative */
	TG_SEV_TIER,   /* a reason at tier 3 and above or under CII, a warning below */
	TG_SEV_WARN,   /* a warning: shown and recorded, never changes the verdict */
};

/* X(CODE, severity, meaning, what to do) */
#define TG_REASONS(X)                                                                                                  \
	/* signatures and keys */                                                                                      \
	X(SIG_MISSING, REJECT, "no signature was given with the file or found in it",                                \
	  "Obtain the supplier's signature for this file (detached, or embedded) and check again.")                     \
	X(SIG_INVALID, REJECT, "the signature does not verify over these bytes with the key that made it",            \
	  "The file was altered or the signature belongs to another file. Obtain the original from the supplier.")     \
	X(KEY_UNKNOWN, REJECT, "no key in the records verifies the signature",                                        \
	  "If the supplier introduced a new key, verify it out of band and record it (trustgate key add).")            \
	X(KEY_REVOKED, REJECT, "the signing key was revoked in the records",                                          \
	  "Ask the supplier for a build signed with a current key; re-check deployed copies (trustgate reevaluate).")  \
	X(KEY_EXPIRED, REJECT, "the signing key is outside its recorded validity",                                    \
	  "Ask for a build signed with a current key.")                                                                \
	X(KEY_WEAK, REJECT, "the signing key is too weak for this tier",                                              \
	  "The supplier must sign with a stronger key.")                                                               \
	X(KEY_PURPOSE, REJECT, "the key is not recorded for this kind of artifact (package, firmware, ...)",           \
	  "Record the purpose if the supplier confirms it (trustgate key add --purpose).")                             \
	X(WEAK_ALGORITHM, TIER, "the signature's digest is too weak for this tier",                                    \
	  "Ask for a SHA-256 or stronger (SM3 under GM) signature.")                                                   \
	X(GM_REQUIRED, REJECT, "the destination requires national cryptography (SM2/SM3) and the signature is not",    \
	  "Ask the supplier for an SM2 signature with SM3.")                                                           \
	/* suppliers and their reviews */                                                                              \
	X(SUPPLIER_UNKNOWN, REJECT, "the supplier is not in the records",                                             \
	  "Run the supplier review before use (trustgate supplier add).")                                              \
	X(SUPPLIER_NOT_APPROVED, REJECT, "the supplier is pending, suspended or revoked",                              \
	  "Resolve the supplier's status before use.")                                                                 \
	X(SUPPLIER_TIER, REJECT, "the supplier is not approved for this tier (or for CII)",                           \
	  "Use a product from a supplier approved for it, or review the supplier again.")                              \
	X(SUPPLIER_MISMATCH, REJECT, "the product or release named belongs to another supplier than the signer",     \
	  "The file was signed by a supplier that does not own this product: do not deploy.")                          \
	X(REVIEW_EXPIRED, REJECT, "the supplier's security review has expired",                                       \
	  "Renew it (trustgate supplier set --review --review-expires).")                                              \
	X(REVIEW_MISSING, REJECT, "tier 3 and above need a recorded security review of the supplier",                 \
	  "Record the review (trustgate supplier set --review --review-expires).")                                     \
	/* products and releases */                                                                                    \
	X(PRODUCT_UNKNOWN, TIER, "the product is not named, not recorded, or ambiguous",                               \
	  "Name it (--product) or record it after review (trustgate product add).")                                   \
	X(PRODUCT_TIER, TIER, "the product is not approved for this tier",                                             \
	  "Use a product approved for this tier, or review it for this one.")                                          \
	X(RELEASE_UNKNOWN, REJECT, "no recorded release matches these bytes",                                         \
	  "Record the release with its digest, or obtain the recorded release.")                                      \
	X(RELEASE_REVOKED, REJECT, "these bytes are a release revoked as known-bad", "Obtain a fixed release.")        \
	X(VERSION_UNKNOWN, TIER, "the version is not named and no recorded release gives it",                          \
	  "Name the version (--version) or record the release.")                                                       \
	X(ROLLBACK, TIER, "older than the product's floor or than its newest approved release",                        \
	  "This is a rollback. Use the current release.")                                                              \
	X(DIGEST_MISMATCH, REJECT, "the bytes differ from the recorded release of that version",                      \
	  "Do not deploy; report it to the supplier.")                                                                 \
	/* the records and the decision itself */                                                                      \
	X(RECORD_TAMPERED, REJECT, "a record the decision needs differs from its audit history",                      \
	  "The records were changed outside trustgate. Stop; run trustgate audit verify and restore a trusted backup.") \
	X(INCOMPLETE, REJECT, "the decision did not run to its end (a rule could not be evaluated)",                   \
	  "See the detail; check again once the cause is fixed.")                                                      \
	/* archives and packages */                                                                                    \
	X(ARCHIVE_UNSAFE_PATH, REJECT, "a member path is absolute, climbs out (..) or is not valid",                   \
	  "The package could write outside its directory: ask the supplier for a corrected package.")                 \
	X(ARCHIVE_LINK, REJECT, "a link in the package (no longer raised since issue 10: links are inventory)",        \
	  "Kept for verdicts recorded before; check the package again.")                                              \
	X(ARCHIVE_DUPLICATE, REJECT, "two members have the same path", "Ask the supplier for a corrected package.")    \
	X(ARCHIVE_UNLISTED, REJECT, "a member is not listed in the signed manifest",                                  \
	  "Something was added after signing: do not deploy.")                                                         \
	X(ARCHIVE_MISSING, REJECT, "a member listed in the signed manifest is absent",                                \
	  "Something was removed after signing: do not deploy.")                                                       \
	X(ARCHIVE_LIMIT, REJECT, "the archive exceeds a limit (members, size, depth, ratio)",                          \
	  "See the detail: an archive bomb or an oversized delivery.")                                                 \
	X(ARCHIVE_SPECIAL_FILE, REJECT, "a device, FIFO or socket member",                                            \
	  "Ask the supplier for a package without special files.")                                                     \
	X(ARCHIVE_SETUID, REJECT, "a setuid or setgid member the product does not allow",                             \
	  "Allow it for the product after review (trustgate product set --allow setuid), or refuse it.")               \
	X(ARCHIVE_MALFORMED, REJECT, "the archive (or one nested in it) cannot be read completely",                    \
	  "Obtain an intact copy from the supplier.")                                                                  \
	X(ARCHIVE_NESTED_OPAQUE, REJECT, "a nested archive cannot be opened to check its members",                    \
	  "Ask the supplier for the nested archive unencrypted, or a package without it.")                            \
	X(ARCHIVE_TRAILING_DATA, REJECT, "bytes after the archive's end that the signature does not cover",           \
	  "Something was appended after signing: do not deploy.")                                                      \
	X(ARCHIVE_FINDINGS, WARN, "more findings than the report lists", "See the listed findings first.")            \
	X(MANIFEST_INVALID, REJECT, "the embedded manifest is not a valid signed statement",                          \
	  "Obtain a correctly signed package from the supplier.")                                                      \
	X(MANIFEST_MISMATCH, REJECT, "a member's digest differs from the signed manifest",                            \
	  "A member was changed after signing: do not deploy.")                                                        \
	X(ZIP_INCONSISTENT, REJECT, "the zip's local headers and central directory disagree",                         \
	  "Two readers would see different files: do not deploy.")                                                     \
	X(DEB_MALFORMED, REJECT, "the .deb's ar structure is not what dpkg accepts",                                  \
	  "Obtain an intact package.")                                                                                 \
	X(APT_RELEASE_UNSIGNED, REJECT, "the repository's Release file has no valid signature by a recorded key",      \
	  "Record the archive key (trustgate key add ... --purpose package) or fetch the indexes again.")             \
	X(APT_SUITE_MISMATCH, REJECT, "the signed Release names another suite than its file name",                   \
	  "The indexes were swapped: fetch them again from the mirror.")                                               \
	X(APT_RELEASE_EXPIRED, REJECT, "the signed Release is past its Valid-Until",                                  \
	  "Stale indexes (a freeze attack?): fetch them again.")                                                       \
	X(APT_INDEX_MISMATCH, REJECT, "a Packages index does not match the digest the signed Release gives",          \
	  "The index was altered: fetch it again.")                                                                    \
	X(APT_NOT_IN_INDEX, REJECT, "the package's digest is in no signed Packages index",                            \
	  "The package is not the one the repository published: do not install it.")                                   \
	X(APT_CONTROL_MISMATCH, REJECT, "the package's control fields differ from its index entry",                   \
	  "Do not install it.")                                                                                        \
	/* firmware */                                                                                                 \
	X(FIT_MALFORMED, REJECT, "the FIT image does not parse", "Obtain an intact image.")                            \
	X(FIT_HASH_MISMATCH, REJECT, "an image's bytes differ from the hash in its FIT node",                         \
	  "The image was altered after it was built: do not flash it.")                                                \
	X(FIT_SIG_INVALID, REJECT, "the FIT configuration signature does not verify",                                 \
	  "Do not flash it; obtain the signed image from the supplier.")                                               \
	X(FIT_UNSIGNED, REJECT, "the FIT has no signed configuration", "Ask for a signed FIT.")                         \
	X(FIT_KEY_REQUIRED, REJECT, "the FIT's signature names a key the records do not hold",                        \
	  "Record the supplier's FIT key after verifying it out of band.")                                             \
	X(CAPSULE_MALFORMED, REJECT, "the UEFI capsule (or its signed image) does not parse",                         \
	  "Obtain an intact capsule.")                                                                                 \
	X(CAPSULE_SIG_INVALID, REJECT, "the capsule's or EFI binary's signature does not verify with a recorded key",  \
	  "Do not install it; obtain the signed original.")                                                            \
	X(COMPONENT_REJECTED, REJECT, "a component inside the package was rejected", "See that component's reasons.")  \
	/* hosts and attestation */                                                                                    \
	X(HOST_UNKNOWN, REJECT, "the host is not enrolled (or was retired)", "Enrol the host (trustgate host enroll).") \
	X(AK_NOT_ENROLLED, REJECT, "the quote's attestation key is not the one enrolled for the host",                 \
	  "Enrol the host again through the credential challenge, or investigate a swapped TPM.")                     \
	X(AK_ATTRIBUTES, REJECT, "the attestation key is not a restricted, fixed, TPM-made signing key",              \
	  "Create the AK as tpm2_createak does and enrol again.")                                                      \
	X(QUOTE_SIG_INVALID, REJECT, "the quote was not signed by the host's enrolled attestation key",               \
	  "Do not trust the host; investigate.")                                                                       \
	X(QUOTE_NOT_TPM_GENERATED, REJECT, "the quoted structure was not made by a TPM",                              \
	  "A forged quote: do not trust the host.")                                                                    \
	X(QUOTE_TYPE, REJECT, "the signed structure is not a quote", "Request a quote (trustgate quote).")             \
	X(QUOTE_NONCE, REJECT, "the quote does not carry the fresh nonce issued for it",                              \
	  "Request a new attestation with a new nonce.")                                                               \
	X(QUOTE_CLOCK, REJECT, "the TPM clock went back or the quote is not fresh",                                   \
	  "Investigate the host (a replayed quote?) and attest again.")                                                \
	X(QUOTE_PCR_SELECTION, REJECT, "the quote does not cover the PCRs the policy requires",                       \
	  "Quote the required PCRs (--pcr-list).")                                                                     \
	X(QUOTE_PCR_DIGEST, REJECT, "the PCR values do not give the digest the TPM signed",                           \
	  "The PCR values sent with the quote were altered.")                                                          \
	X(EVENTLOG_MALFORMED, REJECT, "the event log does not parse", "Send the host's complete event log.")           \
	X(EVENTLOG_REPLAY_MISMATCH, REJECT, "replaying the event log does not give the quoted PCRs",                   \
	  "The log or the boot was tampered with: do not trust the host.")                                             \
	X(SEPARATOR_INVALID, REJECT, "an EV_SEPARATOR event is not the standard one (a boot error was signalled)",     \
	  "Investigate the host's firmware.")                                                                          \
	X(MEASUREMENT_UNKNOWN, REJECT, "the host measured something not among its reference values",                  \
	  "Investigate the host before trusting it, or import the reference values of an approved release.")          \
	X(MEASUREMENT_REVOKED, REJECT, "the host booted a component revoked as known-bad",                             \
	  "Update the component and attest again.")                                                                    \
	X(REFERENCE_EMPTY, REJECT, "no reference values are recorded for the host's model",                           \
	  "Import the reference values (trustgate reference import).")                                                 \
	X(HOST_REBOOTED, WARN, "the TPM was reset since the host's last attestation", "Expected after a reboot.")       \
	X(PCR_NOT_IN_LOG, WARN, "a quoted PCR is extended by nothing in the boot event log (IMA's PCR 10, say)",       \
	  "Nothing to do unless the policy selects that PCR.")

enum tg_reason_id {
#define TG_REASON_ENUM(code, sev, meaning, todo) TG_REASON_##code,
	TG_REASONS(TG_REASON_ENUM)
#undef TG_REASON_ENUM
	TG_REASON__COUNT
};

struct tg_reason_info {
	const char *code;
	enum tg_severity severity;
	const char *meaning, *todo;
};

extern const struct tg_reason_info tg_reasons[TG_REASON__COUNT];

/* The code's text, checked against the table at compile time, and usable
 * in static initializers (an address constant into the string literal). */
#define TG_R(code) (&#code[0 * TG_REASON_##code])

/* The table's entry for a code, or NULL for one that is not in it. */
const struct tg_reason_info *tg_reason_find(const char *code);
const char *tg_severity_name(enum tg_severity s);

#endif
