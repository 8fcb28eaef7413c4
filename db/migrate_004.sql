-- trustgate records, schema version 4: real-world packages and evidence.
--
-- What a product may carry from tier 3 is the reviewer's decision on the
-- product record (a comma list; today "setuid": setuid/setgid files).
ALTER TABLE product ADD COLUMN allow TEXT;
-- Nonces are bytes: one spelling (lowercase hex) so that "AB" and "ab" are
-- one nonce when its single use is checked.
UPDATE verdict SET nonce = lower(nonce) WHERE nonce IS NOT NULL;
-- The completeness check of the records (db/integrity.c) reads the rows
-- that create each kind of record.
CREATE INDEX audit_action ON audit (action, object);
