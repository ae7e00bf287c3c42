"""The read API: what the dashboard and the CLI show, aggregated in SQL and bounded, returned as
DataFrames or typed records (queries, status, the fleet of workers, sweeps, reconcile). Imports
registry, news, market, store, core — never control, trading or the engine process."""
