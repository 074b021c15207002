-- Sessions relayed by a replica other than the one that started them (SQLite migration 36,
-- issue 18): the join request handed over, and where each replica is reached for data
-- channels that land on another one.
ALTER TABLE sessions ADD COLUMN handoff TEXT NOT NULL DEFAULT '';
ALTER TABLE replicas ADD COLUMN url TEXT NOT NULL DEFAULT '';
