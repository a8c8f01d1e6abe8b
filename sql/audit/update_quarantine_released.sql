-- Row r of batch b left the quarantine through a replay at t.
UPDATE audit.quarantine SET dilepas_pada = :t WHERE batch_id = :b AND baris = :r
