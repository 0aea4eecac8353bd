# Sourced by the other scripts: make .venv with loxo, its test tools and the examples' extras.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
# bubblewrap gives each datum its own /pfs (Debian package); without it loxo falls back to
# rewritten paths. Installed when we can (root with apt), never required.
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
    && [ "$(id -u)" = 0 ]; then
    echo "installing bubblewrap (apt-get)" >&2
    { apt-get update -qq && apt-get install -y -qq bubblewrap; } >/dev/null 2>&1 \
        || echo "bubblewrap could not be installed: datums run without the sandbox" >&2
fi
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check -e ".[test,examples]" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
test "${PIPESTATUS[0]}" = 0 || { echo "pip install failed" >&2; exit 1; }
