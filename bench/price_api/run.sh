#!/usr/bin/env bash
# Price API benchmark: hub_run --production (gunicorn) + wrk, on SQLite then PostgreSQL. Usage: bench/price_api/run.sh [--duration S] [--only sqlite|postgresql]
# Needs: PostgreSQL at $BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/h_price_bench), wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."
missing=()
command -v wrk >/dev/null || missing+=("wrk (apt-get update && apt-get install -y wrk)")
[ -x .venv/bin/python ] || missing+=(".venv (python -m venv .venv && .venv/bin/pip install -e '.[dev]')")
[ -x .venv/bin/gunicorn ] || missing+=("gunicorn (.venv/bin/pip install -e .)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'missing: %s\n' "${missing[@]}" >&2
  exit 2
fi
exec .venv/bin/python -m bench.price_api.run "$@"
