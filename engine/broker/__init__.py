"""The paper broker's book in the database (fill rules and accounting live in engine/core)."""
