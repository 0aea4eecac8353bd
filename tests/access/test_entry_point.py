"""``loxo://`` needs no import: loxo's metadata declares the ``fsspec.specs`` entry point,
and fsspec, on import, registers what it names. Checked on pyproject.toml itself, then end
to end in a fresh interpreter that sees the declared entry point in a distribution's
metadata (the way an installed loxo presents it) and nothing else of this test's setup."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

from loxo.access import LoxoFileSystem

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def declared() -> str:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    value: str = project["entry-points"]["fsspec.specs"]["loxo"]
    return value


def test_pyproject_declares_the_loxo_protocol() -> None:
    entry = EntryPoint("loxo", declared(), "fsspec.specs")
    assert entry.load() is LoxoFileSystem
    assert LoxoFileSystem.protocol == "loxo"


def test_fsspec_finds_loxo_by_its_entry_point(tmp_path: Path) -> None:
    dist = tmp_path / "loxo_entry_probe-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: loxo-entry-probe\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[fsspec.specs]\nloxo = {declared()}\n")
    home = tmp_path / "home"
    code = (
        "import fsspec, loxo\n"
        f"with loxo.Client({str(home)!r}) as c:\n"
        "    c.create_repo('images'); c.put_file('images@master', '/a.txt', b'no import')\n"
        f"print(fsspec.open('loxo://images@master/a.txt', home={str(home)!r}).open().read())\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {"PYTHONPATH": f"{tmp_path}:{src}", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "b'no import'"
