-- A counted case (product.md §3.1, §4): the newest report of a case, unless its status is 'dihentikan'
-- (examined, not a violation). Every query that counts cases reads this view: the rule is written once.
CREATE OR REPLACE VIEW core.counted_case AS
SELECT * FROM core.case_current WHERE status <> 'dihentikan'
