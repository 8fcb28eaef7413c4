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

-- A record's history is read by record and kind of change: (object, action)
-- finds a host's host.* rows without reading its every attestation (the
-- per-attestation cost grew with the host's history).
CREATE INDEX audit_object_action ON audit (object, action);
DROP INDEX audit_object;

-- How many audit rows record changes (every action but the decisions
-- check, attest and reevaluate), kept by every append: a history row taken
-- out of the records' history shows as a count below this tally, found
-- through the action index in time proportional to the records, not to the
-- decisions (which `audit verify` walks whole).
INSERT INTO meta (name, value)
	SELECT 'audit_record_rows', count(*) FROM audit
	WHERE action NOT IN ('check', 'attest', 'reevaluate')
	ON CONFLICT (name) DO UPDATE SET value = excluded.value;

-- Notifications (a host turned UNTRUSTED, a verdict re-decided REJECTED, a
-- supplier review about to expire), queued with the verdict that caused them,
-- in its transaction, so that a restart loses none; `trustgate serve
-- --webhook` delivers them (signed, retried) and says each on syslog.
CREATE TABLE notification (
	id           INTEGER PRIMARY KEY,
	event        TEXT NOT NULL,
	subject      TEXT NOT NULL,
	dedupe       TEXT UNIQUE,          -- one notification per occurrence
	payload      TEXT NOT NULL,        -- the JSON statement, signed at delivery
	created_at   TEXT NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL,     -- epoch seconds of the next attempt
	delivered_at TEXT,
	last_error   TEXT
);
CREATE INDEX notification_due ON notification (delivered_at, next_at);
