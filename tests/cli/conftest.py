"""Fixtures for the CLI tests: the real ``loxo`` console script, run in a subprocess against
an isolated home per test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml


def _command() -> list[str]:
    beside = Path(sys.executable).parent / "loxo"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("loxo")
    return [found] if found else [sys.executable, "-m", "loxo.cli.main"]


LOXO = _command()


@dataclass(frozen=True)
class Result:
    code: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout.decode()

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Loxo:
    """``loxo --home <home> ...`` in a subprocess; ``cwd`` holds the test's local files."""

    def __init__(self, home: Path, cwd: Path) -> None:
        self.home, self.cwd = home, cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LOXO_")}

    def run(self, *args: str, input: bytes | str | None = None, home: bool = True) -> Result:
        data = input.encode() if isinstance(input, str) else input
        argv = [*LOXO, *(["--home", str(self.home)] if home else []), *args]
        proc = subprocess.run(
            argv, input=data, capture_output=True, cwd=self.cwd, env=self.env, timeout=60
        )
        return Result(proc.returncode, proc.stdout, proc.stderr.decode())

    def __call__(self, *args: str, input: bytes | str | None = None) -> Result:
        """Run and require success."""
        r = self.run(*args, input=input)
        assert r.code == 0, f"loxo {' '.join(args)} exited {r.code}: {r.stderr}"
        return r

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json").out)

    def yaml(self, *args: str) -> Any:
        return yaml.safe_load(self(*args, "-o", "yaml").out)

    def fails(self, *args: str, input: bytes | str | None = None, code: int | None = None) -> str:
        """Run, require failure with one stderr line and no traceback; that line."""
        r = self.run(*args, input=input)
        assert r.code != 0, f"loxo {' '.join(args)} succeeded: {r.out}"
        if code is not None:
            assert r.code == code, r.stderr
        assert "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith("error: "), r.stderr
        return r.stderr.strip()

    def gen(self, tree: Mapping[str, bytes | str], under: str = ".") -> Path:
        """Create local files from ``{"a/b.txt": "content"}`` under ``cwd/under``."""
        root = self.cwd / under
        for rel, content in tree.items():
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(content.encode() if isinstance(content, str) else content)
        return root


@pytest.fixture
def loxo(tmp_path: Path) -> Loxo:
    (tmp_path / "work").mkdir()
    return Loxo(tmp_path / "home", tmp_path / "work")


@pytest.fixture
def inline(loxo: Loxo) -> Loxo:
    """A ``loxo`` whose pipelines run their datums on the inline executor (fast)."""
    loxo.env["LOXO_EXECUTOR"] = "inline"
    return loxo


def spec(name: str, repo: str, cmd: list[str], glob: str = "/*", **extra: Any) -> dict[str, Any]:
    """A pipeline spec reading ``repo`` as ``/pfs/in``."""
    doc: dict[str, Any] = {
        "pipeline": {"name": name},
        "transform": {"cmd": cmd},
        "input": {"pfs": {"repo": repo, "name": "in", "glob": glob}},
    }
    return doc | extra


def yaml_specs(*docs: dict[str, Any]) -> str:
    """Specs as one YAML file of several documents."""
    return yaml.safe_dump_all(docs, sort_keys=False)


def read_tree(root: Path) -> dict[str, bytes]:
    """``{relative/path: bytes}`` of the regular files under ``root``."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
