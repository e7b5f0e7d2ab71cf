"""Operations: logs, metrics, readiness, backups and the retention purge, the same for every bolo
process."""
