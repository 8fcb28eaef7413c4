-- trustgate records, schema version 1.
-- Applied by db/db.c inside one transaction; later versions are new files
-- (migrate_NNN.sql) applied in order, each recorded in schema_version.

CREATE TABLE schema_version (
	version    INTEGER PRIMARY KEY,
	applied_at TEXT NOT NULL
);

-- Named values the application keeps beside the records: the audit head
-- (sequence number and hash of the last audit row).
CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE supplier (
	id             INTEGER PRIMARY KEY,
	name           TEXT NOT NULL UNIQUE,
	country        TEXT,
	status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'suspended', 'revoked')),
	max_tier       INTEGER NOT NULL CHECK (max_tier BETWEEN 1 AND 5),
	cii            INTEGER NOT NULL DEFAULT 0 CHECK (cii IN (0, 1)),
	review_ref     TEXT,
	review_expires TEXT,
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);

CREATE TABLE key (
	id            INTEGER PRIMARY KEY,
	supplier_id   INTEGER NOT NULL REFERENCES supplier (id),
	fingerprint   TEXT NOT NULL UNIQUE,     -- hex SHA-256 of spki
	algorithm     TEXT NOT NULL,            -- rsa2048, ecdsa-p256, ed25519, sm2, ...
	bits          INTEGER NOT NULL,
	hashes        TEXT NOT NULL,            -- digests this key may sign with
	purposes      TEXT NOT NULL,            -- package,firmware,ak,ek-ca
	name          TEXT,
	spki          BLOB NOT NULL,
	cert          BLOB,
	not_before    TEXT,
	not_after     TEXT,
	added_at      TEXT NOT NULL,
	revoked_at    TEXT,
	revoke_reason TEXT
);
CREATE INDEX key_supplier ON key (supplier_id);

CREATE TABLE product (
	id          INTEGER PRIMARY KEY,
	supplier_id INTEGER NOT NULL REFERENCES supplier (id),
	name        TEXT NOT NULL,
	kind        TEXT NOT NULL CHECK (kind IN ('package', 'firmware', 'image')),
	max_tier    INTEGER NOT NULL CHECK (max_tier BETWEEN 1 AND 5),
	min_version TEXT,
	guid        TEXT,
	created_at  TEXT NOT NULL,
	UNIQUE (supplier_id, name)
);

CREATE TABLE release (
	id         INTEGER PRIMARY KEY,
	product_id INTEGER NOT NULL REFERENCES product (id),
	version    TEXT NOT NULL,
	digest_alg TEXT NOT NULL,
	digest     TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('approved', 'revoked')),
	created_at TEXT NOT NULL,
	revoked_at TEXT,
	UNIQUE (product_id, version)
);
CREATE INDEX release_digest ON release (digest);

CREATE TABLE verdict (
	id              INTEGER PRIMARY KEY,
	time            TEXT NOT NULL,
	actor           TEXT NOT NULL,
	command         TEXT NOT NULL,
	kind            TEXT NOT NULL,
	subject_path    TEXT,
	subject_sha256  TEXT NOT NULL,
	subject_size    INTEGER,
	result          TEXT NOT NULL,
	tier            INTEGER NOT NULL,
	cii             INTEGER NOT NULL,
	gm              INTEGER NOT NULL,
	supplier        TEXT,
	product         TEXT,
	version         TEXT,
	key_fingerprint TEXT,
	report          TEXT NOT NULL           -- the JSON verdict document
);

-- Hash-chained audit log: hash = SHA-256("tg-audit-v1" || seq || fields ||
-- prev_hash), see db/audit.c.  Every mutation and verdict writes one row in
-- the same transaction.
CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY,
	time      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	object    TEXT NOT NULL,
	detail    TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
