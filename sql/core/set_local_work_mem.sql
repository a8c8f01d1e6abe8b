-- PostgreSQL only, first in the build's transaction: the memory each sort and hash of this transaction may take
-- before it spills to disk. The newest report per case sorts every touched row of core.case_history (about 60 MB
-- in memory for 200,000 rows), which the server's default of 4 MB writes to temporary files. One build runs at
-- a time (the writers' advisory lock), and the setting ends with the transaction.
SET LOCAL work_mem = '512MB'
