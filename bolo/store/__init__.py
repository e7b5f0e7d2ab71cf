"""Storage: the SQLAlchemy engine and sessions, and the Alembic migrations."""
