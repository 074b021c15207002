-- Reserved for the Session Manager work on another branch (SQLite migration 19); this
-- placeholder only keeps the numbering of 20 and changes nothing.
SELECT 1;
