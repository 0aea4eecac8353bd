"""A hostile pipeline through the real ``loxo`` command: the sandbox contains it.

The home lies inside the working directory (which the sandbox shows read-only), and is
named by ``--home`` only: the job's driver itself tells the sandbox to hide it. The
pipeline's code -- a command, and a Python function -- tries to damage the home, the
store, the host and its own input; every attempt that works is reported in
``/pfs/out/breaches``, and afterwards the repo, the database and the host are checked.
"""

from __future__ import annotations

import json
import os
import textwrap
import uuid
from pathlib import Path

import pytest
from tests.cli.conftest import Loxo

from loxo.execution import sandbox

ATTACKS = r"""
dotdot|echo evil > /pfs/out/../evil
etc|echo evil > /etc/loxo-evil-$ID
cwd|echo evil > "$WORK/evil"
home-list|ls "$HOME_DIR" >/dev/null
home-new|echo evil > "$HOME_DIR/evil"
db-append|echo evil >> "$HOME_DIR/loxo.db"
db-truncate|: > "$HOME_DIR/loxo.db"
objects-list|ls "$HOME_DIR/objects" >/dev/null
objects-new|echo evil > "$HOME_DIR/objects/evil"
input-write|echo evil > /pfs/in/a
input-append|echo evil >> /pfs/in/a
input-truncate|: > /pfs/in/a
input-chmod|chmod 000 /pfs/in/a
input-hardlink|ln /pfs/in/a /pfs/out/hard
"""
SCRIPT = (
    "while IFS='|' read -r name cmd; do\n"
    '  [ -n "$name" ] || continue\n'
    '  if (eval "$cmd") >/dev/null 2>&1; then echo "$name" >> /pfs/out/breaches; fi\n'
    "done <<'EOF'\n" + ATTACKS + "EOF\n"
    'echo evil > /tmp/loxo-evil-$ID; echo evil >> "$HOST_TMP"\n'  # (its private /tmp)
    "cat /pfs/in/a > /pfs/out/after\n"
)
MODULE = """
import os, subprocess

def attack(datum):
    subprocess.run(["sh", "-c", os.environ["SCRIPT"]], env={**os.environ, **datum.env}, check=True)
"""


@pytest.fixture
def hostile(tmp_path: Path) -> Loxo:
    ok, why = sandbox.probe()
    if not ok:
        pytest.skip(f"no bubblewrap sandbox here: {why}")
    work = tmp_path / "work"
    work.mkdir()
    loxo = Loxo(work / "home", work)  # the home inside the working directory
    loxo.env["LOXO_SANDBOX"] = "1"
    loxo.env["PYTHONPATH"] = os.pathsep.join([str(work), *sys_path_entries()])
    (work / "hostile_mod.py").write_text(textwrap.dedent(MODULE))
    return loxo


def sys_path_entries() -> list[str]:
    return [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


@pytest.mark.parametrize("kind", ["cmd"])
def test_a_hostile_pipeline_changes_nothing_but_its_output(hostile: Loxo, kind: str) -> None:
    loxo = hostile
    token = uuid.uuid4().hex
    host_tmp = Path(f"/tmp/loxo-host-{token}")
    host_tmp.write_text("host\n")
    env = {
        "ID": token, "HOST_TMP": str(host_tmp), "WORK": str(loxo.cwd),
        "HOME_DIR": str(loxo.home), "SCRIPT": SCRIPT,
    }  # fmt: skip
    transform = (
        {"cmd": ["sh", "-c", SCRIPT], "env": env}
        if kind == "cmd"
        else {"python": "hostile_mod:attack", "env": env}
    )
    doc = {"pipeline": {"name": "hostile"}, "transform": transform, "datum_tries": 1,
           "input": {"pfs": {"repo": "in", "glob": "/*", "name": "in"}}}  # fmt: skip
    try:
        loxo("create", "repo", "in")
        loxo("put", "file", "in@master:/a", input="the input\n")
        loxo.gen({"hostile.json": json.dumps(doc)})
        r = loxo("create", "pipeline", "-f", "hostile.json")
        assert " SUCCESS: 1 datum, 1 processed, 0 skipped, 0 failed" in r.stderr, r.stderr
        files = sorted(f["path"] for f in loxo.json("list", "file", "hostile@master"))
        breaches = loxo.run("get", "file", "hostile@master:/breaches").out.split()
        assert breaches == [] and files == ["/after"]
        assert loxo("get", "file", "hostile@master:/after").out == "the input\n"
        assert loxo("get", "file", "in@master:/a").out == "the input\n"  # the repo, intact
        assert loxo("list", "repo").lines  # the database still works
        assert host_tmp.read_text() == "host\n"
        assert not (loxo.cwd / "evil").exists()
        assert not (loxo.home / "evil").exists() and not (loxo.home / "objects" / "evil").exists()
        for path in (f"/tmp/loxo-evil-{token}", f"/etc/loxo-evil-{token}"):
            assert not os.path.exists(path), path
    finally:
        host_tmp.unlink()
