"""The dashboard's colours, each named once: green and red shared with the CLI's reports
(engine/reads/colours.py), the rest the dashboard's own."""

from engine.reads.colours import GREEN, RED

__all__ = ["AMBER", "BLUE", "DEGRADED", "GREEN", "GREY", "ORANGE", "RED", "VIOLET"]
AMBER = "#ca8a04"  # paused, warnings
ORANGE = "#ea580c"  # starting, stopping
DEGRADED = "#d97706"  # running with failing ticks
GREY = "#6b7280"  # stopped, flat, idle
BLUE = "#2563eb"  # created, info, resume
VIOLET = "#7c3aed"  # completed
