"""The console's committed assets (``src/loxo/console/static``) are exactly what its build
makes from ``console/`` (``npm ci`` with the lock file, then ``node build.mjs``), and its
TypeScript type-checks. Needs Node.js and npm (Debian's ``nodejs npm``; the npm registry);
skipped without them except under CI, where ``scripts/setup.sh`` installs them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from loxo.console import ASSETS, static_dir
from tests.console.conftest import need

CONSOLE = Path(__file__).resolve().parents[2] / "console"
TIMEOUT = 600


def run(*cmd: str) -> None:
    r = subprocess.run(
        cmd, cwd=CONSOLE, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert r.returncode == 0, f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"


@pytest.fixture(scope="module")
def installed() -> None:
    """``npm ci`` in console/ (node_modules/ is the cache; install scripts not needed)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        need("Node.js and npm")
    run("npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")


def test_committed_assets_equal_a_fresh_build(installed: None, tmp_path: Path) -> None:
    out = tmp_path / "static"
    run("node", "build.mjs", "--outdir", str(out))
    built = sorted(p.name for p in out.iterdir())
    committed = sorted(p.name for p in static_dir().iterdir())
    assert built == committed == sorted(ASSETS)
    stale = [n for n in ASSETS if (out / n).read_bytes() != (static_dir() / n).read_bytes()]
    assert stale == [], (
        f"src/loxo/console/static/{stale} differ from a fresh build of console/: "
        "run `npm ci && npm run build` in console/ and commit the result"
    )


def test_the_typescript_type_checks(installed: None) -> None:
    run("npm", "run", "--silent", "check")


def test_the_lock_file_pins_what_package_json_asks() -> None:
    """``npm ci`` refuses a lock file out of step with package.json; this says so sooner."""
    pkg = json.loads((CONSOLE / "package.json").read_text())
    lock = json.loads((CONSOLE / "package-lock.json").read_text())
    wanted = {**pkg.get("dependencies", {}), **pkg.get("devDependencies", {})}
    locked = lock["packages"][""]
    assert {**locked.get("dependencies", {}), **locked.get("devDependencies", {})} == wanted
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name
