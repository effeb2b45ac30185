-- The quick synthetic warehouse of warehouse/linkage/devcity.py: a generated table replaces what the table held.
-- The generated frame is the relation _devcity_rows, attached by the caller.

-- step: replace
DELETE FROM {{table}};
INSERT INTO {{table}} ({{columns}}) SELECT {{columns}} FROM _devcity_rows;
