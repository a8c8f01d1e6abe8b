-- Before recording a view's (or a relation's comments') new digest.
DELETE FROM audit.schema_view WHERE name = :n
