"""The gateway's durable state: SQLite in WAL mode through SQLAlchemy 2 (see docs/gateway.md)."""
