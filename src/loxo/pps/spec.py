"""Pipeline specs: what a user writes to create a pipeline, parsed, validated and normalised.

A spec file is JSON (one object, or several one after another, as ``pachctl`` accepts) or YAML
(one or more ``---`` documents); each document is one pipeline. Keys may be snake_case or
camelCase and are normalised to snake_case (maps of user data -- ``transform.env``, labels,
annotations, node selectors, pod specs -- keep their keys). Every field is checked: an unknown
key, a wrong type or a bad value raises :class:`InvalidSpec` naming the source, the field path
(``input.cross[1].pfs.glob``), the offending value and what was expected. The first error found
is reported. Reading the text into documents and field names is
:mod:`~loxo.pps.spec_documents`; the input tree, :mod:`~loxo.pps.spec_inputs`.

A :class:`PipelineSpec` is the normalised result: defaults filled (SEMANTICS §2), durations in
seconds, resource quantities in cores and bytes, the input tree as :class:`Input`. Fields loxo
accepts but leaves to the executor (``scheduling_spec``, ``pod_patch``, ``service``, ...) are kept
verbatim in ``extra``; the executor refuses what it cannot do. :meth:`PipelineSpec.to_dict` is
the canonical form (for ``inspect pipeline``, JSON/YAML output and storage); it parses back to an
equal spec.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from loxo.execution.task import Transform
from loxo.pps.spec_documents import check_depth, load_documents, normalise_keys
from loxo.pps.spec_inputs import (
    CronInput,
    Fields,
    Input,
    InvalidSpec,
    PfsInput,
    expected,
    format_duration,
    next_tick,
    parse_duration,
    parse_input,
    validate_cron,
)

__all__ = [
    "CronInput",
    "DatumSetSpec",
    "Input",
    "InvalidSpec",
    "PfsInput",
    "PipelineSpec",
    "format_duration",
    "next_tick",
    "parse_duration",
    "parse_quantity",
    "parse_specs",
    "spec_from_dict",
    "validate_cron",
]

REPROCESS_SPECS = ("until_success", "every_job")
RESOURCES = ("cpu", "memory", "gpu", "disk")
# Accepted, kept verbatim in ``PipelineSpec.extra``, and left to the executor: name -> types.
EXTRA_FIELDS: dict[str, tuple[type, ...]] = {
    "scheduling_spec": (Mapping,),
    "pod_spec": (str, Mapping),
    "pod_patch": (str, list),
    "tolerations": (list,),
    "sidecar_resource_requests": (Mapping,),
    "sidecar_resource_limits": (Mapping,),
    "service": (Mapping,),
    "spout": (Mapping,),
    "s3_out": (bool,),
    "tf_job": (Mapping,),
    "determined": (Mapping,),
    "maximum_expected_uptime": (str,),
    "update": (bool,),  # request flags of ``pachctl create pipeline``
    "reprocess": (bool,),
}
TOP_FIELDS = (
    *("pipeline", "description", "metadata", "transform", "input", "parallelism_spec"),
    *("resource_requests", "resource_limits", "datum_tries", "datum_timeout", "job_timeout"),
    *("output_branch", "reprocess_spec", "salt", "datum_set_spec", "autoscaling", "egress"),
    *EXTRA_FIELDS,
)
TRANSFORM_FIELDS = (
    *("cmd", "stdin", "env", "err_cmd", "err_stdin", "accept_return_code", "working_dir"),
    *("user", "image", "python"),
)
# Pachyderm transform fields kept in ``extra["transform"]`` for the executor to judge.
TRANSFORM_EXTRA = (
    *("secrets", "image_pull_secrets", "debug", "dockerfile", "memory_volume"),
    *("datum_batching",),
)
# Maps of user data whose keys are never renamed.
_PYTHON_TARGET = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True, kw_only=True)
class DatumSetSpec:
    """How datums are grouped into tasks; 0 everywhere lets loxo choose."""

    number: int = 0
    size_bytes: int = 0
    per_worker: int = 0


@dataclass(frozen=True, kw_only=True)
class PipelineSpec:
    """One validated pipeline spec, defaults filled (see the module docstring)."""

    name: str
    transform: Transform
    input: Input | None
    project: str = "default"
    description: str = ""
    parallelism: int = 1
    resource_requests: dict[str, float] = field(default_factory=dict)
    resource_limits: dict[str, float] = field(default_factory=dict)
    gpu_type: str = ""  # e.g. "nvidia.com/gpu", from a ``gpu: {type, number}`` resource
    datum_tries: int = 3
    datum_timeout: float | None = None  # seconds
    job_timeout: float | None = None  # seconds
    output_branch: str = "master"
    reprocess_spec: str = "until_success"
    salt: str | None = None
    datum_set_spec: DatumSetSpec = field(default_factory=DatumSetSpec)
    autoscaling: bool = False
    egress: dict[str, Any] | None = None  # {"url": ...}
    metadata: dict[str, Any] = field(default_factory=dict)  # {"annotations": ..., "labels": ...}
    extra: dict[str, Any] = field(default_factory=dict)  # EXTRA_FIELDS given; "transform": ...
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def input_repos(self) -> list[tuple[str, str, str]]:
        """``(project, repo, branch)`` read by the input tree, each once, in spec order."""
        found: dict[tuple[str, str, str], None] = {}
        for leaf in self.input.leaves() if self.input is not None else ():
            if isinstance(leaf, CronInput):
                found[(self.project, leaf.repo, "master")] = None
            else:
                found[(leaf.project, leaf.repo, leaf.branch)] = None
        return list(found)

    def input_names(self) -> list[str]:
        """The names of the pfs and cron inputs (``/pfs/<name>``), in spec order."""
        return [leaf.name for leaf in self.input.leaves()] if self.input is not None else []

    def to_dict(self) -> dict[str, Any]:
        """The canonical snake_case form, defaults filled; :func:`spec_from_dict` reads it back."""
        t = self.transform
        transform: dict[str, Any] = {"cmd": list(t.cmd)} if t.cmd else {"python": t.python}
        for key in ("stdin", "err_cmd", "err_stdin", "accept_return_code"):
            transform |= {key: list(getattr(t, key))} if getattr(t, key) else {}
        transform |= {"env": dict(t.env)} if t.env else {}
        for key in ("working_dir", "user", "image"):
            transform |= {key: getattr(t, key)} if getattr(t, key) else {}
        doc: dict[str, Any] = {
            "pipeline": {"name": self.name, "project": {"name": self.project}},
            "description": self.description,
            "transform": transform | self.extra.get("transform", {}),
        }
        if self.input is not None:
            doc["input"] = self.input.to_dict()
        doc["parallelism_spec"] = {"constant": self.parallelism}
        for key, resources in (
            ("resource_requests", self.resource_requests),
            ("resource_limits", self.resource_limits),
        ):
            if resources:
                doc[key] = {name: _number(amount) for name, amount in resources.items()}
                if self.gpu_type and "gpu" in resources:
                    doc[key]["gpu"] = {"type": self.gpu_type, "number": int(resources["gpu"])}
        doc["datum_tries"] = self.datum_tries
        for key, seconds in (
            ("datum_timeout", self.datum_timeout),
            ("job_timeout", self.job_timeout),
        ):
            if seconds is not None:
                doc[key] = format_duration(seconds)
        doc["output_branch"] = self.output_branch
        doc["reprocess_spec"] = self.reprocess_spec
        if self.salt is not None:
            doc["salt"] = self.salt
        doc["datum_set_spec"] = asdict(self.datum_set_spec)
        doc["autoscaling"] = self.autoscaling
        if self.egress is not None:
            doc["egress"] = self.egress
        if self.metadata:
            doc["metadata"] = self.metadata
        doc |= {key: value for key, value in self.extra.items() if key != "transform"}
        return copy.deepcopy(doc)


# --- reading text --------------------------------------------------------------------------


def parse_specs(text: str, source: str = "<spec>") -> list[PipelineSpec]:
    """Every pipeline spec in ``text`` (JSON or YAML); errors name ``source`` and the field."""
    documents = load_documents(text, source)
    specs = []
    for number, document in enumerate(documents, 1):
        where = f"{source} (document {number})" if len(documents) > 1 else source
        specs.append(spec_from_dict(document, where))
    return specs


def spec_from_dict(document: object, source: str = "<spec>") -> PipelineSpec:
    """Validate one loaded spec document (camelCase or snake_case keys)."""
    try:
        check_depth(document, "")
        raw = normalise_keys(document, "")
        return _build(raw)
    except InvalidSpec as err:
        raise err.in_source(source) from None


# --- building a spec -------------------------------------------------------------------------


def _build(raw: dict[str, Any]) -> PipelineSpec:
    top = Fields(raw, "", TOP_FIELDS)
    name, project = _identity(top)
    extra = _extras(top)
    transform, transform_extra = _transform(top)
    if transform_extra:
        extra["transform"] = transform_extra
    if top.has("input"):
        inputs: Input | None = parse_input(top.get("input"), name, project)
    elif "spout" in extra:
        inputs = None
    else:
        raise InvalidSpec("input", None, "required (a spout pipeline, with `spout`, has none)")
    requests, request_gpu = _resources(top, "resource_requests")
    limits, limit_gpu = _resources(top, "resource_limits")
    if request_gpu and limit_gpu and request_gpu != limit_gpu:
        raise InvalidSpec(
            "resource_limits.gpu.type", limit_gpu, f"differs from the requested {request_gpu!r}"
        )
    parallelism = Fields(top.get("parallelism_spec") or {}, "parallelism_spec", ("constant",))
    datum_sets = Fields(
        top.get("datum_set_spec") or {}, "datum_set_spec", ("number", "size_bytes", "per_worker")
    )
    reprocess_spec = top.string("reprocess_spec", "until_success")
    if reprocess_spec not in REPROCESS_SPECS:
        raise expected("reprocess_spec", " or ".join(map(repr, REPROCESS_SPECS)), reprocess_spec)
    salt = top.get("salt")
    if salt is not None and not isinstance(salt, str):
        raise expected("salt", "a string", salt)
    return PipelineSpec(
        name=name,
        project=project,
        description=top.string("description"),
        transform=transform,
        input=inputs,
        parallelism=parallelism.integer("constant", 1) or 1,
        resource_requests=requests,
        resource_limits=limits,
        gpu_type=request_gpu or limit_gpu,
        datum_tries=top.integer("datum_tries", 3, minimum=1),
        datum_timeout=top.duration("datum_timeout"),
        job_timeout=top.duration("job_timeout"),
        output_branch=top.name("output_branch", "branch", default="master"),
        reprocess_spec=reprocess_spec,
        salt=salt,
        datum_set_spec=DatumSetSpec(
            **{key: datum_sets.integer(key, 0) for key in ("number", "size_bytes", "per_worker")}
        ),
        autoscaling=top.boolean("autoscaling"),
        egress=_egress(top),
        metadata=_metadata(top),
        extra=extra,
        raw=raw,
    )


def _identity(top: Fields) -> tuple[str, str]:
    if not top.has("pipeline"):
        raise InvalidSpec("pipeline", None, "required, e.g. {name: edges}")
    pipeline = Fields(top.get("pipeline"), "pipeline", ("name", "project"))
    project = pipeline.get("project")
    if isinstance(project, Mapping):
        project_name = Fields(project, "pipeline.project", ("name",)).name(
            "name", "project", "default"
        )
    else:
        project_name = pipeline.name("project", "project", default="default")
    return pipeline.name("name", "pipeline"), project_name


_TYPE_NAMES = {Mapping: "a mapping", list: "a list", str: "a string", bool: "true or false"}


def _extras(top: Fields) -> dict[str, Any]:
    extra = {}
    for key, types in EXTRA_FIELDS.items():
        value = top.get(key)
        if value is not None:
            if not isinstance(value, types):
                raise expected(key, " or ".join(_TYPE_NAMES[t] for t in types), value)
            extra[key] = copy.deepcopy(value)
    return extra


def _transform(top: Fields) -> tuple[Transform, dict[str, Any]]:
    if not top.has("transform"):
        raise InvalidSpec(
            "transform", None, "required: give `cmd` (argv) or `python` (module:function)"
        )
    fields = Fields(top.get("transform"), "transform", TRANSFORM_FIELDS + TRANSFORM_EXTRA)
    cmd, python = fields.strings("cmd"), fields.string("python")
    if not cmd and not python:
        raise InvalidSpec(
            "transform.cmd", None, "required: give `cmd` (argv) or `python` (module:function)"
        )
    if cmd and python:
        raise InvalidSpec("transform.python", python, "give `cmd` or `python`, not both")
    if python and not _PYTHON_TARGET.fullmatch(python):
        raise expected("transform.python", 'a "module:function" like "mypkg.edges:run"', python)
    transform = Transform(
        cmd=cmd,
        stdin=fields.strings("stdin"),
        env=tuple(sorted(fields.string_map("env").items())),
        err_cmd=fields.strings("err_cmd"),
        err_stdin=fields.strings("err_stdin"),
        accept_return_code=fields.integers("accept_return_code"),
        working_dir=fields.string("working_dir"),
        user=fields.string("user"),
        image=fields.string("image"),
        python=python,
    )
    return transform, {key: fields.get(key) for key in TRANSFORM_EXTRA if fields.has(key)}


_QUANTITY = re.compile(
    r"(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?"
)
_SUFFIX = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), None: Decimal(1)}
_SUFFIX |= {s: Decimal(1000) ** (i + 1) for i, s in enumerate("kMGTPE")}
_SUFFIX |= {s + "i": Decimal(1024) ** (i + 1) for i, s in enumerate("KMGTPE")}


def parse_quantity(value: object) -> float:
    """A Kubernetes quantity as a plain number: ``"500m"`` -> 0.5, ``"64Mi"`` -> 67108864.0.

    Decimal (``k M G T P E``), binary (``Ki Mi Gi Ti Pi Ei``) and small (``m u n``) suffixes,
    an optional exponent (``1e3``), or a plain non-negative number. Raises :class:`ValueError`.
    """
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _QUANTITY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not a quantity: {value!r}")
    try:
        number = Decimal(match.group(1)).scaleb(int(match.group(2) or 0))
    except InvalidOperation:
        raise ValueError(f"not a quantity: {value!r}") from None
    return float(number * _SUFFIX[match.group(3)])


def _resources(top: Fields, key: str) -> tuple[dict[str, float], str]:
    """Resource amounts (cores, bytes, GPUs) and the GPU type, if given as ``{type, number}``."""
    if not top.has(key):
        return {}, ""
    fields = Fields(top.get(key), key, RESOURCES)
    amounts: dict[str, float] = {}
    gpu_type = ""
    gpu = fields.get("gpu")
    if isinstance(gpu, Mapping):
        gpus = Fields(gpu, fields.at("gpu"), ("type", "number"))
        gpu_type = gpus.string("type")
        amounts["gpu"] = float(gpus.integer("number", 0))
    elif gpu is not None:
        amounts["gpu"] = float(fields.integer("gpu", 0))
    examples = {
        "cpu": '"500m", "2" or 0.5',
        "memory": '"64Mi", "1G" or 1048576',
        "disk": '"10Gi" or "1G"',
    }
    for resource, example in examples.items():
        if fields.has(resource):
            try:
                amounts[resource] = parse_quantity(fields.get(resource))
            except ValueError:
                raise expected(
                    fields.at(resource), f"a quantity like {example}", fields.get(resource)
                ) from None
    return {name: amounts[name] for name in RESOURCES if name in amounts}, gpu_type


def _egress(top: Fields) -> dict[str, Any] | None:
    if not top.has("egress"):
        return None
    fields = Fields(top.get("egress"), "egress", ("url", "object_storage", "sql_database"))
    for unsupported in ("object_storage", "sql_database"):
        if fields.has(unsupported):
            raise InvalidSpec(
                fields.at(unsupported), fields.get(unsupported), "not supported by loxo; use URL"
            )
    url = fields.string("url")
    if "://" not in url:
        raise expected(
            "egress.URL", 'an object-store URL like "s3://bucket/dir"', fields.get("url")
        )
    return {"url": url}


def _metadata(top: Fields) -> dict[str, Any]:
    if not top.has("metadata"):
        return {}
    fields = Fields(top.get("metadata"), "metadata", ("annotations", "labels"))
    maps = {key: fields.string_map(key) for key in ("annotations", "labels")}
    return {key: value for key, value in maps.items() if value}


def _number(amount: float) -> float | int:
    return int(amount) if amount.is_integer() else amount
