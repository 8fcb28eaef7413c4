-- trustgate records, schema version 3: U-Boot verified-boot policy on keys.
--
-- A key imported from a U-Boot control DTB keeps what the DTB said about
-- it: `required` ("conf" or "image": U-Boot refuses to boot unless this
-- key signed), the DTB's `required-mode` ("all" or "any" of the required
-- keys), and the group of keys imported together (SHA-256 of that DTB), to
-- which the mode applies.
ALTER TABLE key ADD COLUMN fit_required TEXT CHECK (fit_required IN ('conf', 'image'));
ALTER TABLE key ADD COLUMN fit_mode TEXT CHECK (fit_mode IN ('all', 'any'));
ALTER TABLE key ADD COLUMN fit_group TEXT;
