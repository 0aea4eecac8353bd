#!/usr/bin/env bash
# The classic two-stage DAG: images -> edges (one datum per image) -> montage (one datum).
# Uses LOXO_HOME if set, else <repo>/.loxo-demo-images; wiped at the start (repeatable), but
# only if an example made it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example=images
# shellcheck source=../example-lib.sh
. "$here/../example-lib.sh"

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
echo "see it in the web console: loxo --home $LOXO_HOME console   (then http://127.0.0.1:4000)"
