-- Secret access keys sealed by the server (SQLite migration 5). `secret_access_key` held the
-- plaintext in SQLite databases from before sealing; new keys store '' there and the sealed
-- secret here. Kept in PostgreSQL for parity with the SQLite schema.
ALTER TABLE access_keys ADD COLUMN secret_sealed TEXT;
