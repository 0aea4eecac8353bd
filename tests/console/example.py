"""The data the console tests look at: the image example (repo ``images``, pipelines
``edges`` and ``montage``) in two commits, a pipeline ``checks`` that fails on one image, and
a repo ``notes`` with a CSV, a JSON and a text file to preview. Loaded with the ``loxo`` CLI
on a home before the server starts (the inline executor: quick and in one process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "examples" / "images"
HERE = Path(__file__).resolve().parent

CHECKS_SPEC = {
    "pipeline": {"name": "checks"},
    "description": "Checks each image; refuses star.png on purpose (console tests).",
    "input": {"pfs": {"repo": "images", "glob": "/*"}},
    "transform": {"python": "console_checks:run"},
    "datum_tries": 1,
}
FIRST_CHECKS_DESCRIPTION = "The first version of checks (console tests: versions)."
NOTES = {
    "labels.csv": 'name,shape,corners\ncircle,round,0\nsquare,box,4\n"star, 5",pointy,10\n',
    "meta.json": json.dumps([{"image": "circle.png", "ok": 1}, {"image": "star.png", "ok": 0}]),
    "README.txt": "Notes about the test images.\nSecond line.\n",
}


def pipeline_env() -> dict[str, str]:
    """What the pipelines' code needs: the example's and the checks' modules on the path."""
    path = os.pathsep.join([str(IMAGES), str(HERE), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path.rstrip(os.pathsep), "LOXO_EXECUTOR": "inline"}


def loxo(home: Path, *args: str, code: int = 0) -> str:
    """Run the CLI; require exit ``code`` (10: a job it ran failed, on purpose)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LOXO_ADDRESS", "LOXO_NO_WAIT")}
    env.update(pipeline_env())
    r = subprocess.run(
        [sys.executable, "-m", "loxo.cli.main", "--home", str(home), *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert r.returncode == code, (
        f"loxo {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}"
    )
    return r.stdout


def load(home: Path, work: Path) -> None:
    """Fill ``home``: two commits of images (8, then one more), three pipelines (checks
    with two versions), notes."""
    make = [sys.executable, str(IMAGES / "make_images.py")]
    subprocess.run([*make, str(work / "photos")], check=True)
    subprocess.run([*make, str(work / "more"), "--extra"], check=True)
    (work / "checks.json").write_text(json.dumps(CHECKS_SPEC))
    first = {**CHECKS_SPEC, "description": FIRST_CHECKS_DESCRIPTION}
    (work / "checks-v1.json").write_text(json.dumps(first))
    notes = work / "notes"
    notes.mkdir()
    for name, text in NOTES.items():
        (notes / name).write_text(text)
    loxo(home, "create", "repo", "images", "-d", "128x128 test pictures")
    loxo(home, "create", "repo", "notes", "-d", "files to preview")
    loxo(home, "create", "pipeline", "-f", str(IMAGES / "edges.yaml"))
    loxo(home, "create", "pipeline", "-f", str(IMAGES / "montage.yaml"))
    loxo(home, "create", "pipeline", "-f", str(work / "checks-v1.json"))
    loxo(home, "update", "pipeline", "-f", str(work / "checks.json"))  # version 2
    # checks refuses star.png: the puts that run it exit 10
    loxo(home, "put", "file", "-r", "images@master:/", "-f", str(work / "photos"), code=10)
    diamond = str(work / "more" / "diamond.png")
    loxo(home, "put", "file", "images@master:/diamond.png", "-f", diamond, code=10)
    loxo(home, "put", "file", "-r", "notes@master:/", "-f", str(notes))
