-- The line health each agent reports with its lease polls, kept with the agent so that every API instance on
-- a shared database answers /health/ready the same way (it lived in the memory of the instance polled).
-- line_kind NULL: the agent sends no report (an older agent). line_problems: a JSON array of short fixed texts
-- (at most 8 of at most 120 characters, control characters removed by the API); no numbers, no secrets.
ALTER TABLE agents ADD COLUMN line_kind TEXT;
ALTER TABLE agents ADD COLUMN line_problems TEXT;
