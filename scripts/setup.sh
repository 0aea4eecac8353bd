# Sourced by the other scripts: make .venv with loxo, its test tools and the examples' extras.
# shellcheck shell=bash
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3}"
# Debian packages, installed when missing and we can (root with apt), never required:
# bubblewrap gives each datum its own /pfs (without it loxo falls back to rewritten paths);
# chromium runs the web console's end-to-end tests and nodejs + npm its build check
# (tests/console; those skip without them, except under CI).
apt_wanted=()
command -v bwrap >/dev/null 2>&1 || apt_wanted+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || apt_wanted+=(chromium)
{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || apt_wanted+=("nodejs npm")
if [ "${#apt_wanted[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing ${apt_wanted[*]} (apt-get)" >&2
    apt-get update -qq >/dev/null 2>&1 || true
    for group in "${apt_wanted[@]}"; do
        # shellcheck disable=SC2086  # a group may name two packages
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $group >/dev/null 2>&1 \
            || echo "could not install $group (apt-get): tests/console needs it" >&2
    done
fi
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check -e ".[test,examples]" 2>&1 \
    | { grep -v "^WARNING: Location" || true; }
test "${PIPESTATUS[0]}" = 0 || { echo "pip install failed" >&2; exit 1; }
