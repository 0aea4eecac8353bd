"""The web console end to end: Debian's Chromium (Playwright) against a real ``loxo serve``
holding the image example, a failing pipeline and a repo of notes (see ``conftest.py``).
Every count and name a page shows is checked against the public API's answer."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import Api
from tests.console.console_checks import REFUSED
from tests.console.example import FIRST_CHECKS_DESCRIPTION

pytestmark = pytest.mark.slow


def dag(page: Any, query: str = "") -> None:
    page.goto(f"/#/p/default/dag{query}")
    page.wait_for_selector("svg.dag [data-node]")


def nodes(page: Any) -> dict[str, str]:
    """data-node -> class, of every DAG node on the page."""
    found: dict[str, str] = page.eval_on_selector_all(
        "[data-node]",
        "els => Object.fromEntries(els.map(e => [e.dataset.node, e.className.baseVal]))",
    )
    return found


def job_rows(page: Any) -> list[tuple[str, str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        "tr[data-datum]", "els => els.map(e => [e.dataset.datum, e.dataset.state])"
    )
    return sorted((d, s) for d, s in rows)


def test_dag_shows_every_repo_and_pipeline_with_its_state(page: Any, api: Api, shots: Path) -> None:
    repos = {r["name"] for r in api.get("projects/default/repos")}
    pipelines = {p["name"]: p for p in api.get("projects/default/pipelines")}
    assert repos == {"images", "notes", "edges", "montage", "checks"}
    dag(page)
    shown = nodes(page)
    assert set(shown) == {f"repo:{r}" for r in repos} | {f"pipeline:{p}" for p in pipelines}
    pairs = page.eval_on_selector_all(
        "path.edge", "els => els.map(e => [e.dataset.from, e.dataset.to])"
    )
    edges = {(a, b) for a, b in pairs}
    assert edges == {
        ("repo:images", "pipeline:edges"), ("pipeline:edges", "repo:edges"),
        ("repo:edges", "pipeline:montage"), ("pipeline:montage", "repo:montage"),
        ("repo:images", "pipeline:checks"), ("pipeline:checks", "repo:checks"),
    }  # fmt: skip
    assert pipelines["checks"]["last_job_state"] == "FAILURE"
    assert "tone-bad" in shown["pipeline:checks"]
    assert "tone-ok" in shown["pipeline:edges"]
    label = page.get_attribute('[data-node="pipeline:checks"]', "aria-label")
    assert label == f"pipeline checks, state {pipelines['checks']['state']}, last job FAILURE"
    page.screenshot(path=str(shots / "dag.png"))

    # keyboard: tab to a node, Enter opens its panel
    page.focus('[data-node="pipeline:edges"]')
    page.keyboard.press("Enter")
    panel = page.locator("aside.panel")
    panel.get_by_role("heading", name="Pipeline edges").wait_for()
    edges_job = api.get("jobs", pipeline="edges")[0]
    panel.locator(f"text={edges_job['id'][:12]}").wait_for()
    assert panel.locator('[data-count="total"] b').inner_text() == str(edges_job["data_total"])
    page.screenshot(path=str(shots / "dag-panel.png"))

    page.click('[data-node="repo:images"]')
    panel.get_by_role("heading", name="Repo images").wait_for()
    ids = [c["id"] for c in api.get("projects/default/repos/images/commits", number=5)]
    panel.locator("ul.plain-list li").first.wait_for()
    assert panel.locator("ul.plain-list li code").all_inner_texts() == [i[:8] for i in ids]
    page.keyboard.press("Escape")
    panel.wait_for(state="detached")


def test_follow_a_global_id_through_the_dag(page: Any, api: Api) -> None:
    gid = api.get("commit", ref="images@master")["id"]
    jobs = api.get("jobs", job_id=gid)
    assert sorted(j["pipeline"] for j in jobs) == ["checks", "edges", "montage"]
    dag(page, f"?gid={gid}")
    summary = page.locator(".follow-summary")
    summary.locator("text=3 jobs").wait_for()
    text = summary.inner_text()
    assert "2 done" in text and "1 failed" in text and "0 running" in text
    shown = nodes(page)
    assert "tone-bad" in shown["pipeline:checks"] and "tone-ok" in shown["pipeline:montage"]
    assert page.get_attribute('[data-node="pipeline:checks"]', "aria-label") == (
        "pipeline checks: job FAILURE"
    )


def test_job_datums_match_the_api_and_filter_by_state(page: Any, api: Api, shots: Path) -> None:
    job = api.get("jobs", pipeline="edges")[0]  # the second job: 1 new datum, 8 skipped
    base = f"projects/default/pipelines/edges/jobs/{job['id']}"
    everything = sorted((d["id"], d["state"]) for d in api.get(f"{base}/datums"))
    skipped = sorted((d["id"], d["state"]) for d in api.get(f"{base}/datums", state="SKIPPED"))
    assert len(everything) == job["data_total"] == 9 and len(skipped) == job["data_skipped"] == 8

    page.goto(f"/#/p/default/pipelines/edges/jobs/{job['id']}")
    page.wait_for_selector("tr[data-datum]")
    assert job_rows(page) == everything
    assert page.locator('[data-count="skipped"] b').inner_text() == "8"
    assert page.locator('[data-count="processed"] b').inner_text() == str(job["data_processed"])
    page.screenshot(path=str(shots / "job.png"), full_page=True)

    page.get_by_label("State").select_option("SKIPPED")
    page.wait_for_function("document.querySelectorAll('tr[data-datum]').length === 8")
    assert job_rows(page) == skipped
    assert "state=SKIPPED" in page.url

    # the datum that ran: its page lists the files it wrote, as the API does
    [ran] = [d for d in api.get(f"{base}/datums") if d["state"] == "SUCCESS"]
    outputs = [f["path"] for f in api.get(f"{base}/datums/{ran['id']}/outputs")]
    assert outputs == [ran["inputs"][0]["path"]]  # edges writes one image per input image
    page.goto(f"/#/p/default/pipelines/edges/jobs/{job['id']}/datums/{ran['id']}")
    listed = page.get_by_role("list", name="datum outputs")
    listed.wait_for()
    assert [a.inner_text() for a in listed.get_by_role("link").all()] == outputs


def test_failing_pipeline_shows_its_failed_datum_and_log(page: Any, api: Api, shots: Path) -> None:
    job = api.get("jobs", pipeline="checks")[0]
    assert job["state"] == "FAILURE" and job["data_failed"] == 1
    base = f"projects/default/pipelines/checks/jobs/{job['id']}"
    [failed] = api.get(f"{base}/datums", state="FAILED")
    logs = api.get("logs", pipeline="checks", job_id=job["id"], datum_id=failed["id"])
    assert f"checking {REFUSED}" in [r["line"] for r in logs]

    page.goto(f"/#/p/default/pipelines/checks/jobs/{job['id']}?state=FAILED")
    page.wait_for_selector("tr[data-datum]")
    assert job_rows(page) == [(failed["id"], "FAILED")]
    row = page.locator(f'tr[data-datum="{failed["id"]}"]')
    assert f"/{REFUSED}" in row.inner_text()
    assert "refused on purpose" in row.inner_text()
    assert "refused on purpose" in page.get_by_role("alert").first.inner_text()  # the reason

    row.get_by_role("link").click()
    page.get_by_role("heading", level=1, name=re.compile("^Datum")).wait_for()
    assert f"/pipelines/checks/jobs/{job['id']}/datums/{failed['id']}" in page.url
    assert "star.png is refused on purpose" in page.locator("pre.datum-error").inner_text()
    log_box = page.get_by_role("log", name="Datum logs lines")
    log_box.locator(f"text=checking {REFUSED}").wait_for()
    assert log_box.locator(".log-line").count() == len(logs)
    assert page.locator("td", has_text=f"/{REFUSED}").count() == 1  # the datum's input
    page.screenshot(path=str(shots / "datum.png"), full_page=True)


def test_file_browser_previews_and_downloads(page: Any, api: Api, shots: Path) -> None:
    head = api.get("commit", ref="images@master")["id"]
    names = [f["path"] for f in api.get("files/list", ref=f"images@{head}", path="/")]
    page.goto(f"/#/p/default/repos/images/commits/{head}")
    page.wait_for_selector("a.file-link")
    assert page.locator("a.file-link").count() == len(names) == 9

    page.get_by_role("link", name="file star.png").click()
    img = page.get_by_role("img", name="preview of /star.png")
    img.wait_for()
    page.wait_for_function("document.querySelector('.preview-image img').naturalWidth > 0")
    assert img.evaluate("i => [i.naturalWidth, i.naturalHeight]") == [128, 128]
    page.screenshot(path=str(shots / "files.png"))

    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename == "star.png"
    assert Path(download.path()).read_bytes() == api.raw(
        "files/content", ref=f"images@{head}", path="/star.png"
    )

    page.goto("/#/p/default/repos/notes/commits/master?file=/labels.csv")
    table = page.get_by_role("region", name="table of /labels.csv")
    table.wait_for()
    assert table.locator("tbody tr").count() == 3
    assert table.locator("tbody tr").nth(2).locator("td").first.inner_text() == "star, 5"
    page.goto("/#/p/default/repos/notes/commits/master?file=/README.txt")
    assert "Second line." in page.locator("pre.file-text").inner_text()

    page.goto(f"/#/p/default/repos/images/commits/{head}?tab=diff")
    page.wait_for_selector("tr.change-added")
    diff = api.get("files/diff", new=f"images@{head}")
    assert [(d["change"], d["path"]) for d in diff] == [("added", "/diamond.png")]
    assert page.locator("tbody tr").all_inner_texts()[0].split()[:2] == ["added", "/diamond.png"]


def test_pipeline_page_spec_versions_and_chart(page: Any, api: Api, shots: Path) -> None:
    info = api.get("projects/default/pipelines/edges")
    jobs = api.get("jobs", pipeline="edges")
    page.goto("/#/p/default/pipelines/edges")
    spec = page.locator("pre.spec")
    spec.wait_for()
    assert "python: edges:run" in spec.inner_text()
    page.get_by_role("button", name="JSON").click()
    page.wait_for_selector('pre.spec[data-format="json"]')
    assert json.loads(spec.inner_text()) == info["spec"]
    page.wait_for_selector(".uplot canvas")
    assert page.locator("tr[data-job]").count() == len(jobs)
    caption = page.locator(".chart figcaption").inner_text()
    assert f"last {len(jobs)} finished jobs" in caption
    page.screenshot(path=str(shots / "pipeline.png"), full_page=True)


def test_pipeline_versions_show_each_versions_spec(page: Any, api: Api) -> None:
    versions = api.get("projects/default/pipelines/checks/versions")
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["spec"]["description"] == FIRST_CHECKS_DESCRIPTION
    page.goto("/#/p/default/pipelines/checks")
    page.wait_for_selector("tr[data-version]")
    assert page.locator("tr[data-version]").count() == 2
    spec = page.locator("pre.spec")
    assert FIRST_CHECKS_DESCRIPTION not in spec.inner_text()  # the current version first
    page.get_by_role("button", name="show v1").click()
    page.get_by_role("heading", name="Spec (v1)").wait_for()
    page.get_by_role("button", name="JSON").click()
    page.wait_for_selector('pre.spec[data-format="json"]')
    assert json.loads(spec.inner_text()) == versions[1]["spec"]


def test_narrow_dark_window(browser: Any, server: Any, shots: Path) -> None:
    ctx = browser.new_context(
        viewport={"width": 400, "height": 860}, color_scheme="dark", base_url=server.http_url
    )
    try:
        page = ctx.new_page()
        dag(page, "?node=pipeline:checks")
        page.locator("aside.panel").get_by_role("heading", name="Pipeline checks").wait_for()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, f"the page scrolls sideways at 400px: {width}px wide"
        images = page.locator('[data-node="repo:images"]').bounding_box()
        edges = page.locator('[data-node="pipeline:edges"]').bounding_box()
        assert edges["y"] > images["y"] + images["height"]  # top to bottom on a narrow screen
        assert page.locator("svg.dag").bounding_box()["width"] <= 400
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert bg != "rgb(246, 248, 250)"  # the dark palette, not the light one
        page.screenshot(path=str(shots / "dag-narrow-dark.png"), full_page=True)
    finally:
        ctx.close()


def test_live_updates_by_server_sent_events(page: Any, api: Api, shots: Path) -> None:
    """A rerun from the console appears on the open pipeline page and in the followed logs
    without a reload (the page gets it from /api/v1/events and the log stream)."""
    before = len(api.get("jobs", pipeline="checks"))
    lines = [r["line"] for r in api.get("logs", pipeline="checks")]
    page.goto("/#/p/default/logs?pipeline=checks")
    log_box = page.get_by_role("log")
    log_box.locator(".log-line").nth(len(lines) - 1).wait_for()
    refused = log_box.locator(".log-line", has_text=f"checking {REFUSED}")
    assert refused.count() == lines.count(f"checking {REFUSED}")

    logs_page = page.context.new_page()  # keeps following while the other page reruns
    logs_page.goto("/#/p/default/logs?pipeline=checks")
    logs_page.get_by_role("log").locator(".log-line").nth(len(lines) - 1).wait_for()

    page.goto("/#/p/default/pipelines/checks")
    page.wait_for_selector("tr[data-job]")
    assert page.locator("tr[data-job]").count() == before
    page.get_by_role("button", name="Rerun only failed").click()
    page.get_by_role("status").filter(has_text="Rerun failed: done").wait_for()
    page.wait_for_function(f"document.querySelectorAll('tr[data-job]').length === {before + 1}")
    newest = api.get("jobs", pipeline="checks")[0]
    assert page.locator("tr[data-job]").first.get_attribute("data-job") == newest["id"]
    page.locator("tr[data-job]").first.locator(".badge", has_text="FAILURE").wait_for()

    followed = logs_page.get_by_role("log").locator(".log-line", has_text=f"checking {REFUSED}")
    logs_page.wait_for_function(
        "n => [...document.querySelectorAll('.log-line')].filter("
        "e => e.textContent.includes('checking star.png')).length === n",
        arg=lines.count(f"checking {REFUSED}") + 1,
    )
    assert followed.count() == lines.count(f"checking {REFUSED}") + 1
    logs_page.screenshot(path=str(shots / "logs.png"))


def test_stop_and_start_a_pipeline(page: Any, api: Api) -> None:
    page.goto("/#/p/default/pipelines/montage")
    heading = page.get_by_role("heading", level=1)
    heading.locator(".badge", has_text="RUNNING").wait_for()
    page.get_by_role("button", name="Stop", exact=True).click()
    heading.locator(".badge", has_text="PAUSED").wait_for()
    assert api.get("projects/default/pipelines/montage")["state"] == "PAUSED"
    page.get_by_role("button", name="Start", exact=True).click()
    heading.locator(".badge", has_text="RUNNING").wait_for()
    assert api.get("projects/default/pipelines/montage")["state"] == "RUNNING"
