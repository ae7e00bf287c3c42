#!/usr/bin/env bash
# Set up (first run) and start PaperDesk: the dashboard on http://localhost:8501 and, through
# it, the engine on the embedded SQLite database under ./var.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
