-- One replay of batch b: run, rows released, rows still quarantined, time.
INSERT INTO audit.replay VALUES (:b, :r, :n, :q, :t)
