"""console: loxo's web console, the single page that ``loxo serve`` serves at ``/``.

The console is a static front end (``static/index.html``, ``app.js``, ``app.css``) that
talks to the server only through the public HTTP API under ``/api/v1``, as any other client
would: repos, branches, commits and files; pipelines, jobs, datums and logs; and live updates
from the server-sent-event streams ``/api/v1/events`` and ``/api/v1/logs?follow=true``. It
keeps its own state in the URL hash (``#/p/<project>/...``), so the server needs no route but
``/`` and the three assets, and every view can be bookmarked.

The assets are built from ``console/`` at the repository root (TypeScript + Preact, dagre for
the DAG layout, uPlot for charts) by ``npm ci && npm run build`` and committed here, so
``pip install loxo`` serves them with no Node.js at run time. The build is deterministic:
``tests/console/test_build.py`` rebuilds them and checks that they equal the committed ones.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = ("index.html", "app.js", "app.css")


def static_dir() -> Path:
    """The directory of the built console assets (``index.html``, ``app.js``, ``app.css``)."""
    return Path(__file__).resolve().parent / "static"


__all__ = ["ASSETS", "static_dir"]
