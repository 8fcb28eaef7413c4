-- trustgate records, schema version 2: hosts and reference measurements.

-- An attested host: its AK (marshalled TPMT_PUBLIC, so the attributes
-- stay known), the AK's TPM name, optionally its EK, and the state of its
-- TPM clock at the last trusted attestation (THREATS case 47).
CREATE TABLE host (
	id             INTEGER PRIMARY KEY,
	name           TEXT NOT NULL UNIQUE,
	tier           INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 5),
	model          TEXT,
	ak_public      BLOB NOT NULL,
	ak_name        TEXT NOT NULL,
	ak_fingerprint TEXT NOT NULL,
	ek_public      BLOB,
	ek_cert        BLOB,
	status         TEXT NOT NULL CHECK (status IN ('enrolled', 'revoked')),
	enrolled_at    TEXT NOT NULL,
	last_clock     INTEGER,
	last_reset     INTEGER,
	last_restart   INTEGER
);

-- Expected measurements: the golden state of a model (`reference import`)
-- or the digests an approved release produces at boot (firmware issue).
CREATE TABLE reference (
	id          INTEGER PRIMARY KEY,
	model       TEXT,
	release_id  INTEGER REFERENCES release (id),
	pcr         INTEGER NOT NULL CHECK (pcr BETWEEN 0 AND 23),
	alg         TEXT NOT NULL,
	digest      TEXT NOT NULL,
	event_type  INTEGER NOT NULL,
	description TEXT,
	created_at  TEXT NOT NULL,
	CHECK ((model IS NULL) != (release_id IS NULL))
);
CREATE INDEX reference_lookup ON reference (pcr, alg, digest);
CREATE INDEX reference_model ON reference (model);

-- Records are re-derived from their audit rows before each decision
-- (db/integrity.c): find a record's rows without scanning the log.
CREATE INDEX audit_object ON audit (object);

-- Nonces of attestations, so that one nonce serves once (THREATS case 46).
ALTER TABLE verdict ADD COLUMN nonce TEXT;
CREATE INDEX verdict_nonce ON verdict (nonce);
