"""The act API: every state change a user can make is checked here at once and queued as a command
(or, for sweeps and alerts, applied in one transaction), plus the specs it validates (sessions,
sweeps, windows) and the one transition function. The dashboard and the CLI act only through
this package. Imports reads, registry, news, market, store, core."""
