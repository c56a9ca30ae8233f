"""The database: url.py (where it is), engine.py (engines, write transactions, retries), migrations.py (the
schema version), admin.py (backup, restore, the read-only reporting role)."""
