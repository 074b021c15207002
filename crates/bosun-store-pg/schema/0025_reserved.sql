-- PLACEHOLDER (issue 19): number 25 belongs to the agent-releases branch. This file only keeps
-- the numbering gap-free on the packages branch; at merge it is replaced by that branch's 0025.
SELECT 1;
