"""Robustness analytics over results already computed: pure functions over plain numbers.

Owns walk-forward fold layout, efficiency and parameter selection (`walkforward`), the
probability of backtest overfitting and the deflated Sharpe ratio (`overfitting`), and the
Monte-Carlo bootstrap of trades (`montecarlo`). It may import the standard library, numpy and
`engine.errors` only: no database, no Streamlit, no other engine module. Callers run the
backtests, hand their returns in, and persist or show the records that come back.
"""
