"""Tests for loxo.pps.spec: parsing, strict validation, normalisation and printing back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from loxo.errors import InvalidArgumentError
from loxo.execution.task import Transform
from loxo.pps.spec import (
    CronInput,
    DatumSetSpec,
    Input,
    InvalidSpec,
    PfsInput,
    PipelineSpec,
    format_duration,
    next_tick,
    parse_duration,
    parse_quantity,
    parse_specs,
    spec_from_dict,
    validate_cron,
)

EDGES_MONTAGE_YAML = """\
pipeline:
  name: edges
description: A pipeline that performs image edge detection by using the OpenCV library.
transform:
  cmd: [python3, /edges.py]
  image: pachyderm/opencv:1.0
input:
  pfs:
    repo: images
    glob: "/*"
---
pipeline:
  name: montage
description: A pipeline that combines images from the `images` and `edges` repositories.
input:
  cross:
    - pfs:
        glob: "/"
        repo: images
    - pfs:
        glob: "/"
        repo: edges
transform:
  cmd: [sh]
  image: dpokidov/imagemagick:7.1.0-23
  stdin:
    - montage -shadow -background SkyBlue -geometry 300x300+2+2 $(find -L /pfs/images
      /pfs/edges -type f | sort) /pfs/out/montage.png
"""

EDGES_MONTAGE_JSON = """\
{
  "pipeline": {"name": "edges"},
  "description": "A pipeline that performs image edge detection by using the OpenCV library.",
  "transform": {"cmd": ["python3", "/edges.py"], "image": "pachyderm/opencv:1.0"},
  "input": {"pfs": {"repo": "images", "glob": "/*"}}
}
{
  "pipeline": {"name": "montage"},
  "description": "A pipeline that combines images from the `images` and `edges` repositories.",
  "input": {"cross": [{"pfs": {"glob": "/", "repo": "images"}},
                      {"pfs": {"glob": "/", "repo": "edges"}}]},
  "transform": {
    "cmd": ["sh"],
    "image": "dpokidov/imagemagick:7.1.0-23",
    "stdin": ["MONTAGE"]
  }
}
""".replace(
    "MONTAGE",
    "montage -shadow -background SkyBlue -geometry 300x300+2+2"
    " $(find -L /pfs/images /pfs/edges -type f | sort) /pfs/out/montage.png",
)


def minimal(**fields: Any) -> dict[str, Any]:
    """A valid spec document, with ``fields`` replacing or adding top-level fields."""
    doc: dict[str, Any] = {
        "pipeline": {"name": "p"},
        "transform": {"cmd": ["true"]},
        "input": {"pfs": {"repo": "data", "glob": "/*"}},
    }
    return doc | fields


def error_of(document: object, source: str = "<spec>") -> InvalidSpec:
    with pytest.raises(InvalidSpec) as info:
        if isinstance(document, str):
            parse_specs(document, source)
        else:
            spec_from_dict(document, source)
    return info.value


# --- realistic specs ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [EDGES_MONTAGE_YAML, EDGES_MONTAGE_JSON], ids=["yaml", "json"])
def test_edges_and_montage(text: str) -> None:
    edges, montage = parse_specs(text, "opencv.yaml")
    assert edges.name == "edges" and edges.project == "default"
    assert edges.transform == Transform(cmd=("python3", "/edges.py"), image="pachyderm/opencv:1.0")
    assert edges.input == Input(pfs=PfsInput(name="images", repo="images", glob="/*"))
    assert (edges.parallelism, edges.datum_tries, edges.output_branch) == (1, 3, "master")
    assert (edges.datum_timeout, edges.job_timeout, edges.salt) == (None, None, None)
    assert edges.reprocess_spec == "until_success" and edges.datum_set_spec == DatumSetSpec()
    assert montage.input is not None and montage.input.kind == "cross"
    assert montage.input_names() == ["images", "edges"]
    assert montage.input_repos() == [
        ("default", "images", "master"),
        ("default", "edges", "master"),
    ]
    assert montage.transform.cmd == ("sh",)
    assert montage.transform.stdin[0].endswith("/pfs/out/montage.png")
    assert montage.raw["pipeline"] == {"name": "montage"}


def test_yaml_and_json_agree() -> None:
    assert parse_specs(EDGES_MONTAGE_YAML) == parse_specs(EDGES_MONTAGE_JSON)


def test_single_json_object_and_flow_yaml() -> None:
    text = json.dumps(minimal())
    assert [s.name for s in parse_specs(text)] == ["p"]
    assert [s.name for s in parse_specs("{pipeline: {name: p}, transform: {cmd: [x]}, "
                                         "input: {pfs: {repo: r, glob: /}}}")] == ["p"]  # fmt: skip


CAMEL = """\
pipeline: {name: joiner, project: {name: lab}}
transform:
  cmd: [python3, /join.py]
  errCmd: [sh, -c, "exit 0"]
  errStdin: [cleanup]
  acceptReturnCode: [1, 2]
  workingDir: /work
  env: {MY_VAR: "1", otherVar: x}
parallelismSpec: {constant: 4}
datumTries: 5
datumTimeout: 1m30s
jobTimeout: 2h
outputBranch: results
reprocessSpec: every_job
datumSetSpec: {number: 10, sizeBytes: 1000, perWorker: 2}
resourceRequests: {cpu: 500m, memory: 64Mi, gpu: {type: nvidia.com/gpu, number: 1}}
resourceLimits: {cpu: 2, memory: 1G, disk: 10Gi}
schedulingSpec: {nodeSelector: {diskType: ssd}}
podPatch: '[{"op": "add", "path": "/x", "value": 1}]'
metadata: {labels: {teamName: vision}}
input:
  join:
    - pfs: {repo: readings, glob: "/(*).csv", joinOn: "$1", outerJoin: true}
    - pfs: {repo: parameters, glob: "/(*).json", joinOn: "$1", emptyFiles: true, lazy: true}
"""


def test_camel_case_is_normalised() -> None:
    (spec,) = parse_specs(CAMEL)
    assert (spec.name, spec.project, spec.parallelism, spec.datum_tries) == ("joiner", "lab", 4, 5)
    assert (spec.datum_timeout, spec.job_timeout) == (90.0, 7200.0)
    assert (spec.output_branch, spec.reprocess_spec) == ("results", "every_job")
    assert spec.datum_set_spec == DatumSetSpec(number=10, size_bytes=1000, per_worker=2)
    t = spec.transform
    assert t.err_cmd == ("sh", "-c", "exit 0") and t.err_stdin == ("cleanup",)
    assert t.accept_return_code == (1, 2) and t.working_dir == "/work"
    assert t.env == (("MY_VAR", "1"), ("otherVar", "x"))  # user maps keep their keys; sorted
    assert spec.resource_requests == {"cpu": 0.5, "memory": 64 * 2**20, "gpu": 1.0}
    assert spec.resource_limits == {"cpu": 2.0, "memory": 1e9, "disk": 10 * 2**30}
    assert spec.gpu_type == "nvidia.com/gpu"
    assert spec.extra["scheduling_spec"] == {"node_selector": {"diskType": "ssd"}}
    assert spec.extra["pod_patch"].startswith("[")
    assert spec.metadata == {"labels": {"teamName": "vision"}}
    assert spec.input is not None
    readings, parameters = (child.pfs for child in spec.input.join)
    assert readings == PfsInput("readings", "readings", "/(*).csv", project="lab",
                                join_on="$1", outer_join=True)  # fmt: skip
    assert parameters is not None and parameters.empty_files and parameters.lazy
    assert spec.input_repos() == [("lab", "readings", "master"), ("lab", "parameters", "master")]
    assert "datum_tries" in spec.raw and "datumTries" not in spec.raw


def test_python_transform_and_group_and_union() -> None:
    spec = spec_from_dict(
        minimal(
            transform={"python": "mypkg.edges:run"},
            input={
                "union": [
                    {"group": [{"pfs": {"repo": "logs", "glob": "/(*)/*", "group_by": "$1"}}]},
                    {"pfs": {"repo": "extra", "glob": "/", "branch": "dev", "name": "more"}},
                ]
            },
        )
    )
    assert spec.transform == Transform(python="mypkg.edges:run")
    assert spec.input_names() == ["logs", "more"]
    assert spec.input_repos() == [("default", "logs", "master"), ("default", "extra", "dev")]


def test_cron_input() -> None:
    spec = spec_from_dict(
        minimal(input={"cron": {"name": "tick", "spec": "@every 10s", "overwrite": True}})
    )
    assert spec.input == Input(cron=CronInput("tick", "@every 10s", "p_tick", overwrite=True))
    assert spec.input_repos() == [("default", "p_tick", "master")]
    (yaml_start,) = parse_specs(
        "pipeline: {name: q}\ntransform: {cmd: [x]}\n"
        "input: {cron: {name: t, spec: '0 9 * * MON-FRI', start: 2024-01-01T00:00:00Z}}\n"
    )
    assert yaml_start.input is not None and yaml_start.input.cron is not None
    assert yaml_start.input.cron.start == "2024-01-01T00:00:00+00:00"


def test_spout_needs_no_input() -> None:
    doc = minimal(spout={"service": {"internal_port": 8000}})
    del doc["input"]
    spec = spec_from_dict(doc)
    assert spec.input is None and spec.input_repos() == [] and "spout" in spec.extra


# --- errors: each names the source, the field path and the value ------------------------------


BAD = [
    ({"input": {"cross": [{"pfs": {"repo": "a", "glob": "/"}},
                          {"pfs": {"repo": "b", "glb": "/*"}}]}},
     "input.cross[1].pfs.glb", "unknown field; did you mean 'glob'?"),
    ({"datum_tries": "three"}, "datum_tries", 'expected a positive integer, got "three"'),
    ({"datum_tries": 0}, "datum_tries", "expected a positive integer, got 0"),
    ({"datum_tries": True}, "datum_tries", "expected a positive integer, got true"),
    ({"datumTriez": 3}, "datum_triez", "did you mean 'datum_tries'?"),
    ({"pipeline": {"name": "bad name"}}, "pipeline.name", "character ' ' is not allowed"),
    ({"pipeline": {"name": "x" * 64}}, "pipeline.name", "at most 63"),
    ({"pipeline": {"project": {"name": "p"}}}, "pipeline.name", "required"),
    ({"transform": {}}, "transform.cmd", "required"),
    ({"transform": {"cmd": "python3 x.py"}}, "transform.cmd", "expected a list of strings"),
    ({"transform": {"cmd": ["a", 1]}}, "transform.cmd", "expected a list of strings"),
    ({"transform": {"cmd": ["a"], "stdin": "x"}}, "transform.stdin", "list of strings"),
    ({"transform": {"cmd": ["a"], "err_cmd": [2]}}, "transform.err_cmd", "list of strings"),
    ({"transform": {"cmd": ["a"], "env": {"A": 1}}}, "transform.env.A", "quote numbers"),
    ({"transform": {"cmd": ["a"], "env": ["A=1"]}}, "transform.env", "mapping of strings"),
    ({"transform": {"cmd": ["a"], "accept_return_code": ["1"]}},
     "transform.accept_return_code", "list of integers"),
    ({"transform": {"python": "no_function"}}, "transform.python", '"module:function"'),
    ({"transform": {"python": "m:f", "cmd": ["a"]}}, "transform.python", "not both"),
    ({"transform": {"cmd": ["a"], "imag": "x"}}, "transform.imag", "did you mean 'image'?"),
    ({"parallelism_spec": {"constant": -1}}, "parallelism_spec.constant", "integer >= 0"),
    ({"parallelism_spec": {"coefficient": 1}}, "parallelism_spec.coefficient", "unknown field"),
    ({"datum_timeout": "30 sec"}, "datum_timeout", 'got "30 sec"'),
    ({"job_timeout": 30}, "job_timeout", "positive duration"),
    ({"datum_timeout": "0s"}, "datum_timeout", "positive duration"),
    ({"input": {"pfs": {"repo": "a", "glob": "/[]"}}}, "input.pfs.glob", "invalid glob"),
    ({"input": {"pfs": {"repo": "a"}}}, "input.pfs.glob", "required"),
    ({"input": {"pfs": {"glob": "/"}}}, "input.pfs.repo", "required"),
    ({"input": {"pfs": {"repo": "a", "glob": "/", "name": "out"}}}, "input.pfs.name", "reserved"),
    ({"input": {"pfs": {"repo": "out", "glob": "/"}}}, "input.pfs.name", "reserved"),
    ({"input": {"pfs": {"repo": "a", "glob": "/", "branch": "a b"}}}, "input.pfs.branch",
     "invalid branch name"),
    ({"input": {"pfs": {"repo": "a", "glob": "/", "lazy": "yes"}}}, "input.pfs.lazy",
     'expected true or false, got "yes"'),
    ({"input": {"pfs": {"repo": "a", "glob": "/", "s3": True}}}, "input.pfs.s3", "not supported"),
    ({"input": {"pfs": {"repo": "a", "glob": "/(*)", "join_on": "$2"}}}, "input.pfs.join_on",
     "$2 names a capture group"),
    ({"input": {"cross": [{"pfs": {"repo": "images", "glob": "/"}},
                          {"pfs": {"repo": "images", "glob": "/*"}}]}},
     "input.cross[1].pfs.name", "duplicate input name 'images' (also at input.cross[0].pfs)"),
    ({"input": {"union": [{"pfs": {"repo": "a", "glob": "/"}},
                          {"cross": [{"pfs": {"repo": "b", "glob": "/", "name": "a"}}]}]}},
     "input.union[1].cross[0].pfs.name", "duplicate input name 'a'"),
    ({"input": {"cross": []}}, "input.cross", "non-empty list"),
    ({"input": {"union": {"pfs": {}}}}, "input.union", "non-empty list"),
    ({"input": {}}, "input", "set exactly one of"),
    ({"input": {"pfs": {"repo": "a", "glob": "/"}, "cron": {}}}, "input", "got pfs, cron"),
    ({"input": {"join": [{"pfs": {"repo": "a", "glob": "/*"}}]}}, "input.join[0].pfs.join_on",
     "required in a join input"),
    ({"input": {"group": [{"pfs": {"repo": "a", "glob": "/(*)", "join_on": "$1"}}]}},
     "input.group[0].pfs.group_by", "required in a group input"),
    ({"input": {"join": [{"cross": [{"pfs": {"repo": "a", "glob": "/"}}]}]}},
     "input.join[0].cross", "members must be pfs"),
    ({"input": {"cron": {"name": "t", "spec": "61 * * * *"}}}, "input.cron.spec", "5 cron fields"),
    ({"input": {"cron": {"name": "t", "spec": "* * * * * *"}}}, "input.cron.spec", "5 cron"),
    ({"input": {"cron": {"name": "t", "spec": "@every soon"}}}, "input.cron.spec", "@every"),
    ({"input": {"cron": {"spec": "@daily"}}}, "input.cron.name", "required"),
    ({"input": {"cron": {"name": "t", "spec": "@daily", "start": "monday"}}},
     "input.cron.start", "timestamp"),
    ({"reprocess_spec": "always"}, "reprocess_spec", "'until_success' or 'every_job'"),
    ({"output_branch": "a/b"}, "output_branch", "invalid branch name"),
    ({"resource_requests": {"memory": "1GB"}}, "resource_requests.memory",
     'expected a quantity like "64Mi", "1G" or 1048576, got "1GB"'),
    ({"resource_limits": {"cpu": "-1"}}, "resource_limits.cpu", "quantity"),
    ({"resource_limits": {"cpus": 1}}, "resource_limits.cpus", "did you mean 'cpu'?"),
    ({"resource_limits": {"gpu": {"type": "g", "number": "1"}}}, "resource_limits.gpu.number",
     "integer"),
    ({"resource_requests": {"gpu": {"type": "a", "number": 1}},
      "resource_limits": {"gpu": {"type": "b", "number": 1}}}, "resource_limits.gpu.type",
     "differs"),
    ({"egress": {"bucket": "x"}}, "egress.bucket", "unknown field"),
    ({"egress": {"URL": "nowhere"}}, "egress.URL", "object-store URL"),
    ({"egress": {"object_storage": {"url": "s3://b"}}}, "egress.object_storage", "not supported"),
    ({"metadata": {"labels": {"a": 1}}}, "metadata.labels.a", "expected a string"),
    ({"s3_out": "yes"}, "s3_out", "true or false"),
    ({"tolerations": {}}, "tolerations", "expected a list"),
    ({"salt": 5}, "salt", "expected a string"),
    ({"datum_set_spec": {"number": -1}}, "datum_set_spec.number", "integer >= 0"),
    ({"description": ["x"]}, "description", "expected a string"),
    ({"autoscaling": 1}, "autoscaling", "true or false"),
    ({"pipeline": "p"}, "pipeline", "expected a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "path", "message"), BAD, ids=[b[1] for b in BAD])
def test_invalid_field(fields: dict[str, Any], path: str, message: str) -> None:
    err = error_of(minimal(**fields), "bad.yaml")
    assert err.field_path == path
    assert message in str(err)
    assert str(err).startswith(f"bad.yaml: {path}: ")
    assert isinstance(err, InvalidArgumentError)


def test_missing_top_level_fields() -> None:
    assert error_of({"transform": {"cmd": ["a"]}}).field_path == "pipeline"
    assert error_of({"pipeline": {"name": "p"}}).field_path == "transform"
    err = error_of({"pipeline": {"name": "p"}, "transform": {"cmd": ["a"]}})
    assert (err.field_path, str(err)) == ("input", "<spec>: input: " + err.why)


def test_error_values_are_kept() -> None:
    err = error_of(minimal(datum_tries="three"))
    assert (err.field_path, err.value, err.source) == ("datum_tries", "three", "<spec>")


def test_text_errors_name_the_source_and_document() -> None:
    text = EDGES_MONTAGE_YAML.replace(
        'glob: "/"\n        repo: edges', "glob: 5\n        repo: edges"
    )
    err = error_of(text, "opencv.yaml")
    assert str(err) == "opencv.yaml (document 2): input.cross[1].pfs.glob: expected a string, got 5"
    assert "not valid YAML" in str(error_of("a: [b", "x.yaml"))
    assert str(error_of("", "empty.yaml")) == "empty.yaml: no pipeline spec found"
    bad_json = error_of('{"pipeline": {"name": "p"}\n{"x": 1}', "p.json")
    assert str(bad_json).startswith("p.json: not valid JSON: ") and "line 2" in str(bad_json)
    assert "expected a mapping" in str(error_of("- a\n- b\n"))


def test_keys_given_twice() -> None:
    assert error_of('{"datum_tries": 1, "datum_tries": 2}').field_path == "datum_tries"
    assert error_of("pipeline: {name: a, name: b}").field_path == "pipeline.name"
    err = error_of(minimal(datumTries=2, datum_tries=3))
    assert err.field_path == "datum_tries"
    assert err.why == "given twice, as 'datumTries' and 'datum_tries'"


def test_yaml_merge_keys_are_not_duplicates() -> None:
    text = "base: &b {cmd: [a], image: x}\n"
    assert "base" in str(error_of(text + "pipeline: {name: p}\ntransform: {<<: *b}\n"))
    (spec,) = parse_specs(
        "pipeline: {name: p}\ninput: {pfs: &in {repo: r, glob: /}}\n"
        "transform: {cmd: [a]}\nmetadata: {labels: &l {a: '1'}, annotations: {<<: *l, a: '2'}}\n"
    )
    assert spec.metadata == {"labels": {"a": "1"}, "annotations": {"a": "2"}}


# --- durations, quantities, cron ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("1m30s", 90), ("2h", 7200), ("500ms", 0.5), ("1.5h", 5400), ("0", 0),
     ("1h2m3.5s", 3723.5), ("250us", 0.00025), ("10ns", 1e-8), (".5s", 0.5), ("1µs", 1e-6)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, abs=1e-12)


@pytest.mark.parametrize("text", ["", "30", "1d", "-1s", "1 m", "s", "1.5.5s", "1h 2m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (30, "30s"), (90, "1m30s"), (7200, "2h"), (5400, "1h30m"), (0.5, "500ms"),
     (3723.5, "1h2m3.5s"), (0.00025, "250us"), (1e-8, "10ns"), (3600.001, "1h0.001s")],
)  # fmt: skip
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_duration_round_trip(nanoseconds: int) -> None:
    seconds = nanoseconds / 10**9
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(0, 10**6), st.sampled_from(["h", "m", "s", "ms", "us", "ns"]))
def test_duration_units(number: int, unit: str) -> None:
    scale = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[unit]
    assert parse_duration(f"{number}{unit}") == pytest.approx(number * scale, rel=1e-12)


@pytest.mark.parametrize(
    ("given_value", "amount"),
    [("500m", 0.5), ("2", 2), (0.5, 0.5), (3, 3), ("64Mi", 64 * 2**20), ("1G", 1e9),
     ("100M", 1e8), ("1Gi", 2**30), ("1.5Gi", 1.5 * 2**30), ("1k", 1000), ("1Ki", 1024),
     ("1e3", 1000), ("1E", 1e18), ("2E3", 2000), ("100u", 1e-4), (".5", 0.5)],
)  # fmt: skip
def test_parse_quantity(given_value: object, amount: float) -> None:
    assert parse_quantity(given_value) == pytest.approx(amount)


@pytest.mark.parametrize("bad", ["1GB", "1g", "", "-1", "1 Gi", "Mi", True, None, -1, [1]])
def test_bad_quantities(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(bad)


@given(st.integers(0, 10**6), st.sampled_from(["", "k", "M", "G", "Ki", "Mi", "Gi"]))
def test_quantity_suffixes(number: int, suffix: str) -> None:
    scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    assert parse_quantity(f"{number}{suffix}") == number * scale[suffix]


T0 = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)  # a Monday


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "after", "tick"),
    [
        ("*/5 * * * *", T0, utc(2024, 1, 1, 0, 5)),
        ("*/5 * * * *", utc(2024, 1, 1, 0, 7, 30), utc(2024, 1, 1, 0, 10)),
        ("0 9 * * MON-FRI", utc(2024, 1, 5, 10), utc(2024, 1, 8, 9)),  # Friday -> Monday
        ("30 6 1 JAN *", T0, utc(2024, 1, 1, 6, 30)),
        ("0 0 29 2 *", T0, utc(2024, 2, 29)),
        ("0 12 1,15 * *", utc(2024, 1, 1, 12), utc(2024, 1, 15, 12)),
        ("0 0 1 * MON", T0, utc(2024, 1, 8)),  # day-of-month OR day-of-week, as in cron
        ("@hourly", T0, utc(2024, 1, 1, 1)),
        ("@daily", T0, utc(2024, 1, 2)),
        ("@weekly", T0, utc(2024, 1, 7)),
        ("@monthly", T0, utc(2024, 2, 1)),
        ("@yearly", T0, utc(2025, 1, 1)),
        ("@every 5m", utc(2024, 1, 1, 0, 0, 7).replace(microsecond=250), utc(2024, 1, 1, 0, 5, 7)),
        ("@every 1h30m", T0, utc(2024, 1, 1, 1, 30)),
        ("@every 100ms", T0, utc(2024, 1, 1, 0, 0, 1)),
        ("* * * * *", datetime(2024, 1, 1, 0, 0), datetime(2024, 1, 1, 0, 1)),  # naive stays naive
    ],
)  # fmt: skip
def test_next_tick(spec: str, after: datetime, tick: datetime) -> None:
    assert next_tick(spec, after) == tick


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["*/7 * * * *", "0 0 * * SUN", "@every 90s", "15 3 1 * *", "@hourly"]),
)
def test_next_tick_is_strictly_later_and_idempotent(after: datetime, spec: str) -> None:
    tick = next_tick(spec, after)
    assert tick > after
    assert next_tick(spec, tick) > tick


@pytest.mark.parametrize("bad", ["", "* * * *", "* * * * * *", "60 * * * *", "@every", "@often",
                                 "@every -5m", "* * * FOO *", "daily"])  # fmt: skip
def test_bad_cron_specs(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_cron(bad)
    with pytest.raises(ValueError):
        next_tick(bad, T0)


# --- printing back -----------------------------------------------------------------------------


def test_to_dict_fills_defaults() -> None:
    (edges, _) = parse_specs(EDGES_MONTAGE_YAML)
    assert edges.to_dict() == {
        "pipeline": {"name": "edges", "project": {"name": "default"}},
        "description": edges.description,
        "transform": {"cmd": ["python3", "/edges.py"], "image": "pachyderm/opencv:1.0"},
        "input": {"pfs": {"name": "images", "repo": "images", "glob": "/*", "branch": "master",
                          "project": "default", "lazy": False, "empty_files": False,
                          "join_on": "", "group_by": "", "outer_join": False}},
        "parallelism_spec": {"constant": 1},
        "datum_tries": 3,
        "output_branch": "master",
        "reprocess_spec": "until_success",
        "datum_set_spec": {"number": 0, "size_bytes": 0, "per_worker": 0},
        "autoscaling": False,
    }  # fmt: skip


@pytest.mark.parametrize("text", [EDGES_MONTAGE_YAML, CAMEL])
def test_to_dict_round_trips_through_json_and_yaml(text: str) -> None:
    for spec in parse_specs(text):
        doc = spec.to_dict()
        assert parse_specs(json.dumps(doc)) == [spec]
        assert parse_specs(yaml.safe_dump(doc)) == [spec]
        assert spec_from_dict(doc).to_dict() == doc


def test_to_dict_keeps_extras_and_formats_values() -> None:
    (spec,) = parse_specs(CAMEL)
    doc = spec.to_dict()
    assert doc["datum_timeout"] == "1m30s" and doc["job_timeout"] == "2h"
    assert doc["resource_requests"] == {
        "cpu": 0.5, "memory": 64 * 2**20, "gpu": {"type": "nvidia.com/gpu", "number": 1}
    }  # fmt: skip
    assert doc["scheduling_spec"] == {"node_selector": {"diskType": "ssd"}}
    assert doc["transform"]["env"] == {"MY_VAR": "1", "otherVar": "x"}
    doc["transform"]["env"]["MY_VAR"] = "changed"  # a copy: the spec is unchanged
    assert spec.transform.env[0] == ("MY_VAR", "1")


def test_transform_extras_are_kept() -> None:
    spec = spec_from_dict(
        minimal(transform={"cmd": ["a"], "secrets": [{"name": "s", "envVar": "X"}], "debug": True})
    )
    assert spec.extra["transform"] == {"secrets": [{"name": "s", "env_var": "X"}], "debug": True}
    assert spec.to_dict()["transform"] == {"cmd": ["a"], "secrets": [{"name": "s", "env_var": "X"}],
                                           "debug": True}  # fmt: skip


names = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True).filter(lambda n: n != "out")
globs = st.sampled_from(["/", "/*", "/*/*", "/**", "/(*).csv", "/{a,b}*"])


@st.composite
def pfs_docs(draw: st.DrawFn, needs: str = "") -> dict[str, Any]:
    pattern = draw(st.sampled_from(["/(*)", "/(*)/*"]) if needs else globs)
    doc: dict[str, Any] = {"repo": draw(names), "glob": pattern}
    for key, values in [("branch", names), ("lazy", st.booleans()), ("empty_files", st.booleans()),
                        ("outer_join", st.booleans()), ("project", names)]:  # fmt: skip
        if draw(st.booleans()):
            doc[key] = draw(values)
    if needs:
        doc[needs] = "$1"
    return {"pfs": doc}


def input_docs() -> st.SearchStrategy[dict[str, Any]]:
    combined = st.recursive(
        pfs_docs(),
        lambda children: st.builds(
            lambda kind, items: {kind: items},
            st.sampled_from(["cross", "union"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        max_leaves=5,
    )
    keyed = st.sampled_from([("join", "join_on"), ("group", "group_by")]).flatmap(
        lambda kn: st.lists(pfs_docs(kn[1]), min_size=1, max_size=3).map(lambda xs: {kn[0]: xs})
    )
    cron = st.builds(lambda n, s: {"cron": {"name": n, "spec": s}}, names,
                     st.sampled_from(["@every 1m", "*/5 * * * *", "@daily"]))  # fmt: skip
    return st.one_of(combined, keyed, cron)


def unique_names(doc: Any, seen: set[str] | None = None) -> bool:
    seen = set() if seen is None else seen
    for kind, value in doc.items():
        if kind in ("pfs", "cron"):
            name = value.get("name", value.get("repo"))
            if name in seen:
                return False
            seen.add(name)
        elif not all(unique_names(child, seen) for child in value):
            return False
    return True


NO_NUL = st.characters(exclude_characters="\0")  # a NUL in a spec's string is refused


@st.composite
def spec_docs(draw: st.DrawFn) -> dict[str, Any]:
    env_names = st.from_regex(r"[A-Z_]{1,5}", fullmatch=True)
    cmd = st.builds(
        lambda c, e: {"cmd": c, "env": e},
        st.lists(st.text(NO_NUL, max_size=5), min_size=1),
        st.dictionaries(env_names, st.text(NO_NUL, max_size=3)),
    )
    doc = {
        "pipeline": {"name": draw(names)},
        "transform": draw(st.one_of(cmd, st.just({"python": "pkg.mod:fn", "image": "img:1"}))),
        "input": draw(input_docs().filter(unique_names)),
    }
    optional = {
        "description": st.text(NO_NUL, max_size=10),
        "parallelism_spec": st.builds(lambda n: {"constant": n}, st.integers(0, 8)),
        "datum_tries": st.integers(1, 9),
        "datum_timeout": st.integers(1, 10**6).map(lambda ms: format_duration(ms / 1000)),
        "job_timeout": st.sampled_from(["1h", "90m", "2h30m15s"]),
        "output_branch": names,
        "reprocess_spec": st.sampled_from(["until_success", "every_job"]),
        "salt": st.text(NO_NUL, max_size=8),
        "autoscaling": st.booleans(),
        "resource_requests": st.fixed_dictionaries(
            {},
            optional={
                "cpu": st.sampled_from(["500m", 2, 0.25]),
                "memory": st.sampled_from(["64Mi", "1G", 1024]),
                "gpu": st.integers(0, 4),
            },
        ),
        "egress": st.just({"URL": "s3://bucket/out"}),
        "metadata": st.just({"labels": {"team": "a"}}),
        "tolerations": st.just([{"key": "k", "operator": "Exists"}]),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            doc[key] = draw(values)
    return doc


@settings(max_examples=150, deadline=None)
@given(spec_docs(), st.booleans())
def test_generated_specs_round_trip(doc: dict[str, Any], as_yaml: bool) -> None:
    spec = spec_from_dict(doc)
    printed = spec.to_dict()
    text = yaml.safe_dump(printed) if as_yaml else json.dumps(printed)
    (again,) = parse_specs(text)
    assert again == spec
    assert again.to_dict() == printed
    assert again.input_names() == spec.input_names()


def test_specs_are_frozen() -> None:
    spec = spec_from_dict(minimal())
    with pytest.raises(AttributeError):
        spec.name = "q"  # type: ignore[misc]
    assert isinstance(spec, PipelineSpec)
