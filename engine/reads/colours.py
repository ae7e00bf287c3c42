"""The colours of the dashboard and the reports, each named once (.streamlit/config.toml
repeats the theme's, which Streamlit reads before any code runs)."""

GREEN = "#16a34a"  # running, gains, buys, start
RED = "#dc2626"  # errors, losses, sells, stop
AMBER = "#ca8a04"  # paused, warnings
ORANGE = "#ea580c"  # starting, stopping
DEGRADED = "#d97706"  # running with failing ticks
WAITING = AMBER  # a running session whose clock waits (for a stopped stage, for bars)
GREY = "#6b7280"  # stopped, flat, idle
BLUE = "#2563eb"  # created, info, resume
VIOLET = "#7c3aed"  # completed
