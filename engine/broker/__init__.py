"""The paper broker: fill simulation (fills.py), accounting (portfolio.py), storage (paper.py)."""
