#!/usr/bin/env bash
# The classic two-stage DAG: images -> edges (one datum per image) -> montage (one datum).
# Uses LOXO_HOME if set, else <repo>/.loxo-demo-images; wiped at the start (repeatable), but
# only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LOXO_HOME="${LOXO_HOME:-$(dirname "$(dirname "$here")")/.loxo-demo-images}"
if [ -n "$(ls -A "$LOXO_HOME" 2>/dev/null)" ] && [ ! -e "$LOXO_HOME/.loxo-example" ]; then
    echo "LOXO_HOME=$LOXO_HOME holds data not made by an example: not wiping it" >&2
    exit 2
fi
rm -rf "$LOXO_HOME"
mkdir -p "$LOXO_HOME"
touch "$LOXO_HOME/.loxo-example"  # marks a home this script may wipe next time
# transform.python "edges:run" / "montage:run" are imported from this folder by the workers
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bold='' cyan='' plain=''
if [ -t 1 ]; then bold=$'\e[1m' cyan=$'\e[36m' plain=$'\e[0m'; fi
# show CMD...: print the command (quoted where needed); say CMD...: show, then run it
show() {
    local shown=() arg
    for arg in "$@"; do
        if [[ $arg =~ [[:space:]\"\$*?^] ]]; then shown+=("'$arg'"); else shown+=("$arg"); fi
    done
    printf '\n%s$ %s%s\n' "$bold" "${shown[*]}" "$plain"
}
say() { show "$@"; "$@"; }
note() { printf '\n%s# %s%s\n' "$cyan" "$*" "$plain"; }
commit_id() { loxo inspect commit "$1" -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

python3 "$here/make_images.py" "$work/photos"
python3 "$here/make_images.py" "$work/more" --extra

note "a repo for the raw images, and two pipelines: edges reads images, montage reads edges"
say loxo create repo images -d "128x128 test pictures"
say loxo create pipeline -f "$here/edges.yaml"
say loxo create pipeline -f "$here/montage.yaml"

note "one commit with 8 images: edges runs 8 datums, then montage runs 1, before put returns"
say loxo put file -r images@master:/ -f "$work/photos"
say loxo list job

note "add ONE image: edges processes only the new datum and skips the 8 it already did"
say loxo put file images@master:/diamond.png -f "$work/more/diamond.png"
id="$(commit_id images@master)"
say loxo list job
note "the same ID names the input commit, both jobs and both output commits (a commit set)"
say loxo list datum "edges@$id"
say loxo inspect job "edges@$id"
say loxo logs --pipeline edges --tail 3

note "the montage of the 9 edge images, read from the pipeline's output repo"
say loxo list file montage@master:/
say loxo get file montage@master:/montage.png -o "$LOXO_HOME/montage.png"
python3 - "$LOXO_HOME/montage.png" <<'PY'
import os, struct, sys
with open(sys.argv[1], "rb") as f:
    width, height = struct.unpack(">II", f.read(24)[16:24])  # from the PNG's IHDR chunk
print(f"{sys.argv[1]}: {width}x{height} PNG, {os.path.getsize(sys.argv[1])} bytes")
PY
echo
echo "done: open $LOXO_HOME/montage.png; the store is in $LOXO_HOME"
