"""The engine side of the trading core: load sessions from the database into `Trader`s, drive
their clocks bar by bar, and persist what the core returns (agents and fast-forward use it)."""
