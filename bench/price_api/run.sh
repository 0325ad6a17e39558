#!/usr/bin/env bash
# Price API benchmark: PostgreSQL + gunicorn + wrk. Usage: bench/price_api/run.sh [--quick] [--duration S] [--workers N] [--threads N] [--no-cache]
# Needs: PostgreSQL at $DATABASE_URL (default postgres://postgres@127.0.0.1:5432/h_catalog_bench), wrk.
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
