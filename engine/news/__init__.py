"""Headlines and their scores: the VADER + finance-word scorer and where feeds may come from.
Imports engine.core, config and errors."""
