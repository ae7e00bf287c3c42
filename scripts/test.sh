#!/usr/bin/env bash
# Set up and run every check: ruff, the test suite on SQLite (browser tests included), and the
# suite again on a real PostgreSQL server started on loopback. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing system packages: ${need_apt[*]} (install them with apt-get as root)" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

.venv/bin/ruff check .
.venv/bin/lint-imports

run_pytest() {
  set +e
  .venv/bin/python -m pytest "$@"
  local code=$?
  set -e
  if [ "$code" = 5 ]; then
    echo "pytest collected no tests" >&2
    return 1
  fi
  return "$code"
}

echo "== tests on SQLite"
run_pytest -q

echo "== tests on PostgreSQL"
PG_URL="$(scripts/pg.sh start)"
trap 'scripts/pg.sh stop' EXIT
PAPERDESK_TEST_PG_URL="$PG_URL" run_pytest -q
