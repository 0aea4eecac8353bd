"""docs/http-api.md documents every route of the HTTP API (read from the app's OpenAPI)."""

from __future__ import annotations

from pathlib import Path

from loxo.server.http import create_app
from loxo.service import Service

DOC = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"


def test_every_route_is_documented(tmp_path: Path) -> None:
    svc = Service.open_home(tmp_path / "home")
    try:
        spec = create_app(svc).openapi()
    finally:
        svc.close()
    text = DOC.read_text()
    documented = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if f"| {method.upper()} | `{path}` |" in text
    }
    every = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert len(every) > 60
    assert every - documented == set()
