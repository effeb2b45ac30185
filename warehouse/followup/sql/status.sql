-- Counts for the monitoring_state asset's metadata.

-- step: roster
SELECT source || ':' || status AS k, count(*) AS n FROM monitoring_roster GROUP BY source, status ORDER BY k;

-- step: stages
SELECT stage, count(*) AS n FROM household_state GROUP BY stage ORDER BY stage;

-- step: events
SELECT event_type, count(*) AS n FROM household_event GROUP BY event_type ORDER BY event_type;
