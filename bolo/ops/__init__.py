"""Operations: logs, metrics, readiness and backups, the same for every bolo process."""
