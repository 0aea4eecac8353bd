#!/usr/bin/env bash
# The whole test suite: lint, format check, types, tests. Sets itself up on a fresh machine.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
echo "== ruff check"; ruff check src tests bench
echo "== ruff format --check"; ruff format --check src tests bench
echo "== mypy"; mypy
echo "== pytest"; python -m pytest -q "$@"
