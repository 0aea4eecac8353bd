"""Pipeline inputs: the tree of datum sources a spec names, and the strict field reader.

An :class:`Input` is exactly one of

- ``pfs`` (:class:`PfsInput`): a branch of a repo, cut into datums by a glob pattern;
- ``cross`` / ``union`` / ``join`` / ``group``: a combination of one or more sub-inputs
  (cartesian product, concatenation, equal ``join_on`` keys, equal ``group_by`` keys);
- ``cron`` (:class:`CronInput`): repo ``<pipeline>_<name>``, into which the system commits one
  file per tick of a schedule (:func:`next_tick`).

Invariants of a parsed tree: every input has a name (a pfs input's defaults to its repo), names
are unique across the whole tree (each becomes ``/pfs/<name>`` and environment variables), and
``out`` is reserved; every glob compiles and its ``$N`` references name existing capture groups;
join members are pfs inputs with ``join_on``, group members pfs inputs with ``group_by``; every
cron schedule parses.

The module also holds what the whole spec parser stands on: :class:`InvalidSpec` (each spec error
names its field path and offending value), :class:`Fields` (typed reads of one mapping of fields,
unknown keys rejected with a close-match hint) and Go-style durations (``"1m30s"``).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from croniter import croniter

from loxo.errors import InvalidArgumentError, InvalidGlob, InvalidName
from loxo.pfs.glob import compile_glob
from loxo.pfs.paths import validate_name

__all__ = [
    "CronInput",
    "Fields",
    "Input",
    "InvalidSpec",
    "PfsInput",
    "format_duration",
    "next_tick",
    "parse_duration",
    "parse_input",
    "validate_cron",
]

INPUT_KINDS = ("pfs", "cross", "union", "join", "group", "cron")
RESERVED_INPUT_NAME = "out"
MAX_DURATION = (2**63 - 1) / 10**9  # seconds: Go's longest duration (int64 nanoseconds)


class InvalidSpec(InvalidArgumentError):
    """A pipeline spec is wrong at ``field_path`` (``input.cross[1].pfs.glob``): ``value``."""

    def __init__(self, field_path: str, value: object, why: str, source: str = "") -> None:
        self.field_path, self.value, self.why, self.source = field_path, value, why, source
        where = ": ".join(part for part in (source, field_path) if part)
        super().__init__(f"{where}: {why}" if where else why)

    def in_source(self, source: str) -> InvalidSpec:
        """The same error, told as coming from ``source`` (a file name, a document of it)."""
        return InvalidSpec(self.field_path, self.value, self.why, source)


def show(value: object) -> str:
    """``value`` as the user would have written it in JSON, cut short if long."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def expected(path: str, what: str, value: object) -> InvalidSpec:
    return InvalidSpec(path, value, f"expected {what}, got {show(value)}")


def join_path(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_int(value: object) -> bool:
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _is_ints(value: object) -> bool:
    return isinstance(value, list) and all(map(_is_int, value))


def _is_string(value: object) -> bool:
    return isinstance(value, str)


def _is_strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _no_nul(path: str, value: str) -> str:
    """``value``, unless it holds a NUL, which no argument, variable or path can carry."""
    if "\0" in value:
        why = "holds a NUL character (\\0): no command, argument or variable can take one"
        raise InvalidSpec(path, value, why)
    return value


# --- durations -----------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9}
_UNIT_NS |= {"m": 60 * 10**9, "h": 3600 * 10**9}


def parse_duration(text: str) -> float:
    """Seconds in a Go duration: ``"30s"``, ``"1m30s"``, ``"1.5h"``, ``"500ms"``, ``"0"``.

    A sequence of decimal numbers, each with a unit (``ns``, ``us``, ``ms``, ``s``, ``m``,
    ``h``); no sign, no spaces. Exact to the nanosecond. Raises :class:`ValueError`.
    """
    if text == "0":
        return 0.0
    pos, total = 0, Decimal(0)
    while pos < len(text):
        part = _DURATION_PART.match(text, pos)
        if part is None:
            raise ValueError(f"not a duration: {text!r}")
        total += Decimal(part.group(1)) * _UNIT_NS[part.group(2)]
        pos = part.end()
    if pos == 0:
        raise ValueError("empty duration")
    return int(total) / 10**9


def format_duration(seconds: float) -> str:
    """The shortest Go-style text for ``seconds`` (to the nanosecond): ``"1h30m"``, ``"500ms"``."""
    ns = round(seconds * 10**9)
    if ns < 0:
        raise ValueError(f"negative duration: {seconds}")
    if 0 < ns < 10**9:
        for unit, size in (("ms", 10**6), ("us", 10**3)):
            if ns % size == 0:
                return f"{ns // size}{unit}"
        return f"{ns}ns"
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    secs, frac = divmod(rest, 10**9)
    text = f"{hours}h" if hours else ""
    text += f"{minutes}m" if minutes else ""
    if secs or frac or not text:
        text += f"{secs}" + (f".{frac:09d}".rstrip("0") if frac else "") + "s"
    return text


# --- the field reader ----------------------------------------------------------------------


class Fields:
    """One mapping of a spec at ``path``, read field by field with the expected types.

    Keys are already snake_case (see :func:`~loxo.pps.spec_documents.normalise_keys`). A key
    not in ``known`` is an error naming its path and the closest known field. An absent key and an
    explicit ``null`` both read as the default.
    """

    def __init__(self, value: object, path: str, known: Collection[str]) -> None:
        if not isinstance(value, Mapping):
            raise expected(path or "(document)", "a mapping of fields", value)
        for key in value:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
                raise InvalidSpec(join_path(path, str(key)), value[key], f"unknown field; {hint}")
        self.data: Mapping[str, Any] = value
        self.path = path

    def at(self, name: str) -> str:
        return join_path(self.path, name)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def get(self, name: str) -> Any:
        return self.data.get(name)

    def _read(self, name: str, default: Any, ok: Callable[[Any], bool], what: str) -> Any:
        value = self.data.get(name)
        if value is None:
            return default
        if not ok(value):
            raise expected(self.at(name), what, value)
        return value

    def string(self, name: str, default: str = "") -> str:
        return _no_nul(self.at(name), self._read(name, default, _is_string, "a string"))

    def boolean(self, name: str, default: bool = False) -> bool:
        return bool(self._read(name, default, lambda v: isinstance(v, bool), "true or false"))

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        return int(self._read(name, default, lambda v: _is_int(v) and v >= minimum, what))

    def strings(self, name: str) -> tuple[str, ...]:
        items = self._read(name, (), _is_strings, "a list of strings")
        return tuple(_no_nul(f"{self.at(name)}[{i}]", item) for i, item in enumerate(items))

    def integers(self, name: str) -> tuple[int, ...]:
        return tuple(int(x) for x in self._read(name, (), _is_ints, "a list of integers"))

    def string_map(self, name: str) -> dict[str, str]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise expected(self.at(name), "a mapping of strings to strings", value)
        for key, item in value.items():
            if not isinstance(key, str) or not isinstance(item, str):
                hint = " (quote numbers and booleans)" if isinstance(key, str) else ""
                raise expected(join_path(self.at(name), str(key)), f"a string{hint}", item)
            _no_nul(join_path(self.at(name), key.replace("\0", "\\0")), key + item)
        return dict(value)

    def duration(self, name: str) -> float | None:
        """A positive Go-style duration in seconds, or None if absent."""
        value = self.data.get(name)
        if value is None:
            return None
        try:
            seconds = parse_duration(value) if isinstance(value, str) else -1.0
        except ValueError:
            seconds = -1.0
        if not 0 < seconds <= MAX_DURATION:
            what = 'a positive duration up to 2562047h, like "30s", "1m30s" or "2h"'
            raise expected(self.at(name), what, value)
        return seconds

    def name(self, name: str, kind: str, default: str | None = None) -> str:
        """A valid project, repo, branch or input name (``loxo.pfs.paths.validate_name``)."""
        value = self.string(name) or default
        if value is None:
            raise InvalidSpec(self.at(name), None, "required")
        try:
            return validate_name(kind, value)
        except InvalidName as err:
            raise InvalidSpec(self.at(name), value, str(err)) from None


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PfsInput:
    """Datums cut from ``project/repo@branch`` by ``glob``; seen at ``/pfs/<name>``."""

    name: str
    repo: str
    glob: str
    branch: str = "master"
    project: str = "default"
    lazy: bool = False
    empty_files: bool = False
    join_on: str = ""
    group_by: str = ""
    outer_join: bool = False
    trigger: dict[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class CronInput:
    """Ticks of ``spec``, one file each, committed to ``repo`` (``<pipeline>_<name>``)."""

    name: str
    spec: str
    repo: str
    overwrite: bool = False
    start: str | None = None
    project: str = "default"  # the pipeline's project: cron repos live beside it


@dataclass(frozen=True)
class Input:
    """One node of the input tree: exactly one of its fields is set."""

    pfs: PfsInput | None = None
    cross: tuple[Input, ...] = ()
    union: tuple[Input, ...] = ()
    join: tuple[Input, ...] = ()
    group: tuple[Input, ...] = ()
    cron: CronInput | None = None

    def __post_init__(self) -> None:
        kinds = [kind for kind in INPUT_KINDS if getattr(self, kind)]
        if len(kinds) != 1:
            raise InvalidSpec("input", None, f"exactly one input kind must be set, got {kinds}")

    @property
    def kind(self) -> str:
        return next(kind for kind in INPUT_KINDS if getattr(self, kind))

    @property
    def children(self) -> tuple[Input, ...]:
        return self.cross or self.union or self.join or self.group

    def leaves(self) -> Iterator[PfsInput | CronInput]:
        """The pfs and cron inputs of the tree, depth first, in spec order."""
        if self.pfs is not None:
            yield self.pfs
        elif self.cron is not None:
            yield self.cron
        for child in self.children:
            yield from child.leaves()

    def to_dict(self) -> dict[str, Any]:
        """The normalised spec form, every field present (``trigger``/``start`` when set)."""
        if self.pfs is not None:
            pfs = {k: v for k, v in vars(self.pfs).items() if k != "trigger"}
            return {"pfs": pfs | ({"trigger": self.pfs.trigger} if self.pfs.trigger else {})}
        if self.cron is not None:
            cron = {k: v for k, v in vars(self.cron).items() if v is not None}
            return {"cron": cron}
        return {self.kind: [child.to_dict() for child in self.children]}


_PFS_FIELDS: tuple[str, ...] = (
    "name",
    "repo",
    "glob",
    "branch",
    "project",
    "lazy",
    "empty_files",
    "join_on",
)
_PFS_FIELDS += ("group_by", "outer_join", "trigger", "repo_type", "commit", "s3")
_CRON_FIELDS = ("name", "spec", "repo", "overwrite", "start", "project")
_TRIGGER_FIELDS = ("branch", "all", "cron_spec", "rate_limit_spec", "size", "commits")
_GROUP_REF = re.compile(r"\$(?:\{(\d+)\}|(\d+))")


def parse_input(value: object, pipeline: str, project: str, path: str = "input") -> Input:
    """Parse and validate an input tree of pipeline ``project/pipeline``."""
    return _InputParser(pipeline, project).parse(value, path, parent="")


class _InputParser:
    def __init__(self, pipeline: str, project: str) -> None:
        self.pipeline, self.project = pipeline, project
        self.names: dict[str, str] = {}  # input name -> path where it was first given

    def parse(self, value: object, path: str, parent: str) -> Input:
        fields = Fields(value, path, INPUT_KINDS)
        kinds = [kind for kind in INPUT_KINDS if fields.has(kind)]
        if len(kinds) != 1:
            why = f"set exactly one of {', '.join(INPUT_KINDS)}"
            raise InvalidSpec(path, value, why + (f"; got {', '.join(kinds)}" if kinds else ""))
        kind = kinds[0]
        if parent in ("join", "group") and kind != "pfs":
            raise InvalidSpec(fields.at(kind), None, f"a {parent} input's members must be pfs")
        if kind == "pfs":
            return Input(
                pfs=self.pfs(Fields(fields.get("pfs"), fields.at("pfs"), _PFS_FIELDS), parent)
            )
        if kind == "cron":
            return Input(
                cron=self.cron(Fields(fields.get("cron"), fields.at("cron"), _CRON_FIELDS))
            )
        items = fields.get(kind)
        if not isinstance(items, list) or not items:
            raise expected(fields.at(kind), "a non-empty list of inputs", items)
        children = tuple(
            self.parse(item, f"{fields.at(kind)}[{i}]", kind) for i, item in enumerate(items)
        )
        combined: dict[str, Any] = {kind: children}
        return Input(**combined)

    def claim(self, fields: Fields, name: str) -> None:
        if name == RESERVED_INPUT_NAME:
            raise InvalidSpec(fields.at("name"), name, "'out' is reserved for the output directory")
        if name in self.names:
            why = f"duplicate input name {name!r} (also at {self.names[name]}); give one a name"
            raise InvalidSpec(fields.at("name"), name, why)
        self.names[name] = fields.path

    def pfs(self, fields: Fields, parent: str) -> PfsInput:
        repo = fields.name("repo", "repo")
        name = fields.name("name", "input", default=repo)
        self.claim(fields, name)
        for unsupported, harmless in (("commit", ""), ("s3", False), ("repo_type", "user")):
            if fields.has(unsupported) and fields.get(unsupported) != harmless:
                raise InvalidSpec(
                    fields.at(unsupported), fields.get(unsupported), "not supported by loxo"
                )
        pattern = fields.string("glob")
        if not pattern:
            raise InvalidSpec(fields.at("glob"), fields.get("glob"), 'required, e.g. "/*"')
        try:
            groups = compile_glob(pattern).group_count
        except InvalidGlob as err:
            raise InvalidSpec(fields.at("glob"), pattern, str(err)) from None
        keys = {key: fields.string(key) for key in ("join_on", "group_by")}
        for key, template in keys.items():
            for ref in _GROUP_REF.finditer(template):
                if int(ref.group(1) or ref.group(2)) > groups:
                    why = f"{ref.group()} names a capture group the glob lacks ({groups} group(s))"
                    raise InvalidSpec(fields.at(key), template, why)
        needed = {"join": "join_on", "group": "group_by"}.get(parent)
        if needed and not keys[needed]:
            raise InvalidSpec(fields.at(needed), None, f'required in a {parent} input, e.g. "$1"')
        trigger = fields.get("trigger")
        if trigger is not None:
            Fields(trigger, fields.at("trigger"), _TRIGGER_FIELDS)
        return PfsInput(
            name=name,
            repo=repo,
            glob=pattern,
            branch=fields.name("branch", "branch", default="master"),
            project=fields.name("project", "project", default=self.project),
            lazy=fields.boolean("lazy"),
            empty_files=fields.boolean("empty_files"),
            join_on=keys["join_on"],
            group_by=keys["group_by"],
            outer_join=fields.boolean("outer_join"),
            trigger=dict(trigger) if trigger is not None else None,
        )

    def cron(self, fields: Fields) -> CronInput:
        name = fields.name("name", "input")
        self.claim(fields, name)
        spec = fields.string("spec")
        try:
            validate_cron(spec)
        except ValueError as err:
            raise InvalidSpec(fields.at("spec"), spec, str(err)) from None
        if fields.name("project", "project", default=self.project) != self.project:
            raise InvalidSpec(
                fields.at("project"),
                fields.get("project"),
                "a cron repo lives in the pipeline's project",
            )
        start = fields.get("start")
        start = start.isoformat() if isinstance(start, datetime) else start  # YAML timestamps
        if start is not None and not _is_timestamp(start):
            raise expected(fields.at("start"), 'a timestamp like "2024-01-31T00:00:00Z"', start)
        return CronInput(
            name=name,
            spec=spec,
            repo=fields.name("repo", "repo", default=f"{self.pipeline}_{name}"),
            overwrite=fields.boolean("overwrite"),
            start=start,
            project=self.project,
        )


def _is_timestamp(text: object) -> bool:
    try:
        return isinstance(text, str) and bool(datetime.fromisoformat(text))
    except ValueError:
        return False


# --- cron schedules --------------------------------------------------------------------------

_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


def _every(spec: str) -> float | None:
    """The period in seconds of an ``@every <duration>`` spec, else None."""
    if not spec.startswith("@every"):
        return None
    period = parse_duration(spec[len("@every") :].strip())  # ValueError on junk
    return max(1, int(period))  # like Go's cron: whole seconds, at least one


def validate_cron(spec: str) -> str:
    """Return ``spec`` if it is a schedule :func:`next_tick` understands, else raise ValueError.

    A 5-field cron line (minute hour day-of-month month day-of-week: ``*``, lists, ranges,
    steps, names like ``MON`` and ``JAN``), ``@every <duration>``, or one of ``@hourly``,
    ``@daily``, ``@midnight``, ``@weekly``, ``@monthly``, ``@yearly``, ``@annually``.
    """
    why = 'expected 5 cron fields ("*/5 * * * *"), "@every 5m" or "@daily" and the like'
    try:
        if _every(spec) is not None:
            return spec
    except ValueError:
        raise ValueError(f"{why}; bad @every duration in {spec!r}") from None
    if spec in _DESCRIPTORS:
        return spec
    if len(spec.split()) != 5 or not croniter.is_valid(spec):
        raise ValueError(f"{why}, got {show(spec)}")
    return spec


def next_tick(spec: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` at which schedule ``spec`` fires.

    ``after`` keeps its time zone (naive stays naive; loxo passes UTC). ``@every D`` fires
    ``D`` after ``after``, truncated to the second, like Go's cron.
    """
    validate_cron(spec)
    period = _every(spec)
    if period is not None:
        return after.replace(microsecond=0) + timedelta(seconds=period)
    tick: datetime = croniter(spec, after).get_next(datetime)
    return tick
