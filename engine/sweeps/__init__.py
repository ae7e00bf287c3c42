"""The engine side of sweeps: the runner that starts and writes variants, and the in-memory variant
run a pool process does. Imports trading's neighbours below it (control specs, store, core)."""
