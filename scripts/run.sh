#!/usr/bin/env bash
# Set up (first run) and start PaperDesk: the dashboard on http://localhost:8501 and, through
# it, the engine on the embedded SQLite database under ./var.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "PaperDesk: first run — creating .venv and installing requirements.txt (a few minutes)…"
  "$PYTHON" -m venv .venv
fi
echo "PaperDesk: checking the packages in requirements.txt…"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "PaperDesk: starting the dashboard (the engine starts with the first page view)…"
exec .venv/bin/python -m streamlit run app.py "$@"
