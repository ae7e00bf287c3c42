"""`python -m engine`: the parser, the fast path (plain SQL, no ORM) and the full path. The top
layer."""
