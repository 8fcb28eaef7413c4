-- trustgate records, schema version 5: records that live for years.
--
-- A host can be retired (`host retire`): its attestations are refused from
-- then on, its record and history stay.  SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with the same columns.
CREATE TABLE host_v5 (
	id             INTEGER PRIMARY KEY,
	name           TEXT NOT NULL UNIQUE,
	tier           INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 5),
	model          TEXT,
	ak_public      BLOB NOT NULL,
	ak_name        TEXT NOT NULL,
	ak_fingerprint TEXT NOT NULL,
	ek_public      BLOB,
	ek_cert        BLOB,
	status         TEXT NOT NULL CHECK (status IN ('enrolled', 'revoked', 'retired')),
	enrolled_at    TEXT NOT NULL,
	last_clock     INTEGER,
	last_reset     INTEGER,
	last_restart   INTEGER
);
INSERT INTO host_v5 (id, name, tier, model, ak_public, ak_name, ak_fingerprint, ek_public, ek_cert, status,
		     enrolled_at, last_clock, last_reset, last_restart)
	SELECT id, name, tier, model, ak_public, ak_name, ak_fingerprint, ek_public, ek_cert, status,
	       enrolled_at, last_clock, last_reset, last_restart FROM host;
DROP TABLE host;
ALTER TABLE host_v5 RENAME TO host;

-- A verdict is evidence: its audit row (whose detail carries the SHA-256
-- of the stored report) is found from the verdict, for `verdict show`.
ALTER TABLE verdict ADD COLUMN audit_seq INTEGER;

-- Re-evaluation (`trustgate reevaluate`): a verdict re-decided after a key,
-- release, supplier or product record changed names the verdict it
-- supersedes.  The indexes find the verdicts that relied on one record.
ALTER TABLE verdict ADD COLUMN supersedes INTEGER REFERENCES verdict (id);
CREATE INDEX verdict_key ON verdict (key_fingerprint);
CREATE INDEX verdict_release ON verdict (supplier, product, version);
CREATE INDEX verdict_supersedes ON verdict (supersedes);

-- Reference values can be withdrawn (`reference revoke`): rows of a model or
-- a release are marked revoked (they stay, with their history); digests
-- revoked as known-bad are listed in measurement_revoked, and any measured
-- event carrying one makes an attestation UNTRUSTED whatever else matches.
ALTER TABLE reference ADD COLUMN revoked_at TEXT;
CREATE TABLE measurement_revoked (
	id         INTEGER PRIMARY KEY,
	alg        TEXT NOT NULL,
	digest     TEXT NOT NULL,
	reason     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (alg, digest)
);
