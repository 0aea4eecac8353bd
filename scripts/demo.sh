#!/usr/bin/env bash
# The main job: the classic two-stage image pipeline (examples/images) on the embedded store,
# no server. Sets itself up.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec bash examples/images/run.sh "$@"
