"""Fixtures of the console's end-to-end tests: a real ``loxo serve`` on loopback over a home
holding the image example (:mod:`tests.console.example`), and Debian's Chromium driven by
Playwright (``executable_path``: no browser download).

Without a ``chromium`` binary the tests skip, except under CI (``CI`` set), where they fail:
``scripts/setup.sh`` installs it there. Screenshots go to a temp dir, or to ``docs/console/``
with ``LOXO_SCREENSHOTS=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console import example
from tests.serverproc import ServerProc, running_server

DOCS = example.ROOT / "docs" / "console"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    explicit = os.environ.get("LOXO_CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def need(what: str) -> None:
    """Skip for lack of ``what`` on a developer's machine; fail under CI."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: scripts/setup.sh installs it (as root with apt)")
    pytest.skip(f"{what} is missing (scripts/setup.sh installs it as root with apt)")


class Api:
    """GETs on the server's public API, for the values the pages must show."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, route: str, /, **params: Any) -> Any:
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.base}/api/v1/{route}{'?' + query if query else ''}"
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read())

    def raw(self, route: str, /, **params: Any) -> bytes:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.base}/api/v1/{route}?{query}", timeout=10) as r:
            data: bytes = r.read()
            return data


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    root = tmp_path_factory.mktemp("console")
    work = root / "work"
    work.mkdir()
    example.load(root / "home", work)
    with running_server(root / "home", "--grpc-port", "-1", env=example.pipeline_env()) as proc:
        yield proc


@pytest.fixture(scope="module")
def api(server: ServerProc) -> Api:
    return Api(server.http_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    exe = chromium_path()
    if exe is None:
        need("Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, server: ServerProc) -> Iterator[Any]:
    """A fresh light-mode 1280x860 page on the server, failing the test on a script error."""
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 860}, base_url=server.http_url, accept_downloads=True
    )
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda err: errors.append(str(err)))
    pg.set_default_timeout(10_000)
    try:
        yield pg
    finally:
        ctx.close()
    assert errors == [], f"script errors in the console: {errors}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/console/ with LOXO_SCREENSHOTS=1, else a temp dir."""
    if os.environ.get("LOXO_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        return DOCS
    return tmp_path_factory.mktemp("screenshots")
