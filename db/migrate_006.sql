-- trustgate records, schema version 6: `reevaluate` finds each host's
-- latest attestation (the newest attest verdict of a host) through an index
-- instead of a scan of every verdict per candidate.
CREATE INDEX IF NOT EXISTS verdict_command_subject ON verdict (command, subject_path);
