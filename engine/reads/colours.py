"""The colours the dashboard and the CLI's reports both draw with, each named once here
(ui/colours.py adds the dashboard's own; .streamlit/config.toml repeats the theme's, which
Streamlit reads before any code runs)."""

GREEN = "#16a34a"  # gains, buys, running, start
RED = "#dc2626"  # losses, sells, errors, stop
