"""The examples in ``examples/`` run end to end, as a user runs them, and compute the right thing.

Each test runs the example's own ``run.sh`` (the ``loxo`` CLI on a fresh ``LOXO_HOME`` in a
temp dir), then opens that home with the Python client and checks the outputs against values
recomputed here from the same generated data. The images example uses the default (local,
warm worker processes) executor; the others the inline one, for speed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import loxo
from loxo.pps.model import JobInfo, JobState

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_TIMEOUT = 120

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="run.sh needs bash")


def run_example(name: str, home: Path, **env: str) -> str:
    """Run ``examples/<name>/run.sh`` with ``LOXO_HOME=home``; its output."""
    bin_dir = str(Path(sys.executable).parent)  # the `loxo` and `python3` of this venv
    full_env = {
        **{k: v for k, v in os.environ.items() if k not in ("LOXO_NO_WAIT", "LOXO_EXECUTOR")},
        "LOXO_HOME": str(home),
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        **env,
    }
    r = subprocess.run(
        ["bash", str(EXAMPLES / name / "run.sh")],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert r.returncode == 0, f"{name}/run.sh failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r.stdout + r.stderr


def generate(script: Path, out: Path, *args: str) -> Path:
    """The example's data, made again by its own generator (seeded: the same as run.sh's)."""
    subprocess.run([sys.executable, str(script), str(out), *args], check=True)
    return out


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def files(client: loxo.Client, repo: str) -> dict[str, bytes]:
    return {
        e.path: client.get_file(f"{repo}@master", e.path)
        for e in client.walk_files(f"{repo}@master")
    }


def assert_all_jobs_succeeded(client: loxo.Client) -> None:
    jobs = client.list_job()
    assert jobs
    assert [(j.pipeline, j.id, j.reason) for j in jobs if j.state != JobState.SUCCESS] == []


def last_two_jobs(client: loxo.Client, pipeline: str) -> tuple[JobInfo, JobInfo]:
    jobs = client.list_job(pipeline)  # newest first
    assert len(jobs) >= 2
    return jobs[0], jobs[1]


def test_images(home: Path, tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    from PIL import ImageFilter, ImageOps

    output = run_example("images", home)  # the default executor: local, warm workers
    assert "montage.png: 512x384 PNG" in output

    photos = generate(EXAMPLES / "images" / "make_images.py", tmp_path / "photos")
    generate(EXAMPLES / "images" / "make_images.py", photos, "--extra")
    names = sorted(p.stem for p in photos.glob("*.png"))
    assert len(names) == 9

    with loxo.Client(home) as c:
        assert_all_jobs_succeeded(c)
        second, first = last_two_jobs(c, "edges")
        assert (first.data_total, first.data_processed, first.data_skipped) == (8, 8, 0)
        assert (second.data_total, second.data_processed, second.data_skipped) == (9, 1, 8)
        states = {d.inputs[0]["path"]: d.state for d in c.list_datum("edges", second.id)}
        assert states == {f"/{n}.png": "SUCCESS" if n == "diamond" else "SKIPPED" for n in names}
        assert [j.data_processed for j in c.list_job("montage")] == [1, 1]

        edges = files(c, "edges")
        assert sorted(edges) == [f"/{n}.png" for n in names]
        for name in names:  # each output is Pillow's FIND_EDGES of the gray input
            with image.open(photos / f"{name}.png") as src:
                want = ImageOps.grayscale(src).filter(ImageFilter.FIND_EDGES)
            (tmp_path / "got.png").write_bytes(edges[f"/{name}.png"])
            with image.open(tmp_path / "got.png") as got:
                assert got.size == (128, 128)
                assert got.tobytes() == want.tobytes(), name

    with image.open(home / "montage.png") as montage:
        assert montage.format == "PNG" and montage.size == (4 * 128, 3 * 128)
        montage.load()
        row, col = divmod(names.index("diamond"), 4)  # tiles in name order, 4 per row
        diamond = montage.crop((col * 128, row * 128, col * 128 + 128, row * 128 + 128))
    (tmp_path / "diamond-edges.png").write_bytes(edges["/diamond.png"])
    with image.open(tmp_path / "diamond-edges.png") as want:
        assert diamond.tobytes() == want.convert("L").tobytes()


def test_wordcount(home: Path, tmp_path: Path) -> None:
    run_example("wordcount", home, LOXO_EXECUTOR="inline")
    docs = generate(EXAMPLES / "wordcount" / "make_texts.py", tmp_path / "docs")
    generate(EXAMPLES / "wordcount" / "make_texts.py", docs, "--extra")
    recount: Counter[str] = Counter()
    for path in docs.iterdir():
        recount.update(re.findall(r"[a-z]+", path.read_text().lower()))

    with loxo.Client(home) as c:
        assert_all_jobs_succeeded(c)
        totals = c.get_file("reduce@master", "/totals.txt").decode()
        pairs = [line.split() for line in totals.splitlines()]
        assert {w: int(n) for w, n in pairs} == dict(recount)
        counts = [int(n) for _, n in pairs]
        assert counts == sorted(counts, reverse=True)  # most frequent first
        assert sorted(files(c, "map")) == sorted(f"/{p.name}.counts" for p in docs.iterdir())
        second, _ = last_two_jobs(c, "map")
        assert (second.data_total, second.data_processed, second.data_skipped) == (5, 1, 4)


def test_join_group(home: Path, tmp_path: Path) -> None:
    run_example("join-group", home, LOXO_EXECUTOR="inline")
    data = generate(EXAMPLES / "join-group" / "make_data.py", tmp_path / "data")
    generate(EXAMPLES / "join-group" / "make_data.py", data, "--extra")
    customers = {p.stem: json.loads(p.read_text()) for p in (data / "customers").glob("*.json")}
    orders = [json.loads(p.read_text()) for p in (data / "orders").glob("*.json")]

    with loxo.Client(home) as c:
        assert_all_jobs_succeeded(c)
        # join: exactly the orders whose customer exists, each with that customer's details
        joined = {path: json.loads(raw) for path, raw in files(c, "enrich").items()}
        want = {
            f"/{o['order']}.json": {
                **o,
                "customer_name": customers[o["customer"]]["name"],
                "city": customers[o["customer"]]["city"],
            }
            for o in orders
            if o["customer"] in customers
        }
        assert joined == want
        assert "/o1009.json" not in joined  # its customer c09 does not exist
        latest = c.list_datum("enrich")
        assert len(latest) == len(want)
        for d in latest:  # each datum: one order and the customer of the same id
            by_input = {i["name"]: i["path"] for i in d.inputs}
            assert by_input["orders"].split("-")[0] == by_input["customers"].removesuffix(".json")
        second, _ = last_two_jobs(c, "enrich")
        assert (second.data_processed, second.data_skipped) == (1, len(want) - 1)

        # group: one datum per month, holding every daily file of that month
        logs = sorted((data / "logs").iterdir())
        months = sorted({p.name[:7] for p in logs})
        assert months == ["2024-01", "2024-02", "2024-03"]
        group_datums = c.list_datum("monthly")
        assert len(group_datums) == len(months)
        by_month = {
            d.inputs[0]["path"][1:8]: sorted(i["path"] for i in d.inputs) for d in group_datums
        }
        assert by_month == {
            m: sorted(f"/{p.name}" for p in logs if p.name.startswith(m)) for m in months
        }
        states = sorted(d.state for d in group_datums)
        assert states == ["SKIPPED", "SKIPPED", "SUCCESS"]  # only March got a new day
        summaries = files(c, "monthly")
        assert sorted(summaries) == [f"/{m}.txt" for m in months]
        for month in months:
            month_logs = [p for p in logs if p.name.startswith(month)]
            levels = Counter(
                line.split()[1] for p in month_logs for line in p.read_text().splitlines()
            )
            lines = [f"days {len(month_logs)}", *(f"{k} {v}" for k, v in sorted(levels.items()))]
            assert summaries[f"/{month}.txt"].decode().splitlines() == lines


def test_python_transform(home: Path, tmp_path: Path) -> None:
    run_example("python-transform", home, LOXO_EXECUTOR="inline")
    readings = generate(EXAMPLES / "python-transform" / "make_csv.py", tmp_path / "csv")
    generate(EXAMPLES / "python-transform" / "make_csv.py", readings, "--extra")

    with loxo.Client(home) as c:
        assert_all_jobs_succeeded(c)
        outputs = files(c, "stats")
        assert sorted(outputs) == sorted(f"/{p.stem}.json" for p in readings.iterdir())
        for path in readings.iterdir():
            rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
            got = json.loads(outputs[f"/{path.stem}.json"])
            for col, name in ((1, "temperature"), (2, "humidity")):
                values = [float(r[col]) for r in rows]
                assert got[name] == {
                    "count": len(values),
                    "min": round(min(values), 2),
                    "max": round(max(values), 2),
                    "mean": round(statistics.fmean(values), 2),
                }, (path.name, name)

        # warm workers: the first job (one `put file`) imports the module once, and one
        # process serves its datums #1..#5; the next two jobs, run by one `wait commit`, share
        # another worker: one import, datums #1 and #2
        jobs = c.list_job("stats")[::-1]  # oldest first
        assert [(j.data_processed, j.data_skipped) for j in jobs] == [(5, 0), (1, 5), (1, 6)]
        for run in ([jobs[0]], jobs[1:]):
            lines = [r.line for j in run for _, r in c.get_logs(pipeline="stats", job_id=j.id)]
            assert sum("imported by worker pid" in line for line in lines) == 1
            served = [re.match(r"pid (\d+): datum #(\d+) ", line) for line in lines]
            served_by = [(m[1], int(m[2])) for m in served if m]
            assert [n for _, n in served_by] == list(range(1, len(served_by) + 1))
            assert len(served_by) == sum(j.data_processed for j in run)
            assert len({pid for pid, _ in served_by}) == 1
