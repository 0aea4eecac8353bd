#!/usr/bin/env bash
# The main job: a tour of versioned data on the embedded store. Sets itself up.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec bash examples/pfs-tour/run.sh "$@"
