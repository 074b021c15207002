-- Placeholder for the console branch (issue 20); the lead replaces it at merge.
SELECT 1;
