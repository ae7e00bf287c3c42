"""The engine process: the runtime's scheduler, the lease (SQLite) and workers (PostgreSQL), the
command applier and the job worker. The top of the engine; only the CLI imports it."""
