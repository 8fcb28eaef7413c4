-- trustgate records, schema version 7: the people and hosts `trustgate serve`
-- knows by their client certificates.
--
-- A certificate's role is written in the certificate (signed by the
-- appliance's client CA) and here; the service requires both to agree and the
-- row not to be revoked, so neither a forged row nor a certificate the records
-- no longer know grants anything.  A name is unique among certificates in
-- force; a revoked one's name may be issued again.
CREATE TABLE service_user (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,
	role        TEXT NOT NULL CHECK (role IN ('admin', 'procurement', 'operator', 'reviewer', 'host')),
	host        TEXT,                       -- role host: the host it speaks for
	ak_fingerprint TEXT,                    -- role host: that host's AK at issuance
	serial      TEXT NOT NULL UNIQUE,       -- certificate serial, lowercase hex
	fingerprint TEXT NOT NULL UNIQUE,       -- SHA-256 of the DER certificate
	subject     TEXT NOT NULL,              -- RFC 4514, as the audit log names the actor
	not_after   TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	created_by  TEXT NOT NULL,
	revoked_at  TEXT,
	revoked_by  TEXT,
	CHECK ((role = 'host') = (host IS NOT NULL))
);
CREATE UNIQUE INDEX service_user_active ON service_user (name) WHERE revoked_at IS NULL;
