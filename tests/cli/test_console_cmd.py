"""``loxo console``: the web console and its API on an embedded home, on loopback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx


def test_console_serves_the_ui_and_the_api_of_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "CI": "1"}  # never open a browser
    env.pop("LOXO_ADDRESS", None)
    base = [sys.executable, "-m", "loxo.cli.main", "--home", str(home)]
    subprocess.run([*base, "create", "repo", "photos"], env=env, check=True)
    proc = subprocess.Popen(
        [*base, "console", "--port", "0", "--no-browser"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.match(r"loxo console: (http://127\.0\.0\.1:\d+) ", line)
        assert m, line
        with httpx.Client(base_url=m[1], timeout=10) as http:
            page = http.get("/")
            assert page.status_code == 200 and "<html" in page.text.lower()
            repos = http.get("/api/v1/projects/default/repos").json()
            assert [r["name"] for r in repos] == ["photos"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        if proc.stdout is not None:
            proc.stdout.close()
