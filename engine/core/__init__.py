"""The trading core: pure per-bar trading over plain data.

Indicators, strategies, risk, fill rules, portfolio accounting and statistics. Nothing here
touches a database, the wall clock, the engine process or Streamlit (an import contract in
pyproject.toml keeps it so): the engine's agents, fast-forward and reconcile all drive
`engine.core.trader.Trader` and persist or compare what it returns. Every strategy, built-in or
the user's, implements the public contract in `strategy_api` (its docstring is the guide);
`runner` runs a session's strategy under that contract's checks.
"""
