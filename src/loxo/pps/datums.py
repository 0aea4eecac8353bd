"""Datums: the units of work a pipeline input is cut into (pure: no database, no I/O).

A **datum** is an ordered tuple of :class:`~loxo.execution.task.DatumInput`, one per glob match
it holds. Each pipeline input kind yields a stream of datums:

- ``pfs``: one datum per match of the glob over the input commit, files and directories alike,
  in tree order (see :mod:`loxo.pfs.glob`). A file match carries that file; a directory match
  carries every file under it, and its hash is :func:`~loxo.storage.dirhash.dir_summary`.
  Glob ``/`` is one datum holding the whole commit (path ``/``) -- **unless the commit is
  empty: then it gives zero datums**, like any glob without a match. An input whose name is
  missing from ``commits`` (its branch has no commit yet) gives zero datums.
  ``join_on`` / ``group_by`` templates are expanded per match: ``$1`` (or ``${1}``), ``$2``...
  become the glob's capture groups (a group number the glob does not have expands to ``""``).
- ``cron``: the cron repo's commit with glob ``/*``, branch ``master``.
- ``cross``: the cartesian product of the sub-inputs' datums, first sub-input varying slowest;
  any empty side gives zero datums.
- ``union``: the concatenation of the sub-inputs' datums. Should two sub-inputs produce the
  same datum ID (only possible if they share a name: no valid spec does), the first is kept.
- ``join``: a sub-datum's key is the tuple of the non-empty ``join_on`` values of its inputs. For
  each key (in sorted order) present in every sub-input, the cartesian product of that key's
  sub-datums; a key missing from some sub-inputs still yields the product over the sub-inputs
  that have it if one of those is a pfs input with ``outer_join``.
- ``group``: a sub-datum's key is the tuple of its non-empty ``group_by`` values; all sub-datums
  of all sub-inputs sharing a key form one datum (sub-input order, then iteration order), one
  datum per key in sorted key order.

Invariants: iteration is deterministic; a pfs input streams (memory ~ the largest directory
match; cross/join/group materialise all sides but the first / all sides). The **datum ID** is
BLAKE3 over, for each input in order, its name, repo, branch and path, each UTF-8 and prefixed
by its 4-byte big-endian length: it never depends on content. The **datum hash** is BLAKE3 over
the datum ID, each input's content hash and the pipeline salt, length-prefixed the same way.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import NewType

from blake3 import blake3

from loxo.execution.task import DatumInput, DatumTask, InputFile
from loxo.pfs.glob import Glob, GlobMatch, compile_glob, glob_tree
from loxo.pfs.paths import ROOT
from loxo.pps.spec import CronInput, Input, PfsInput
from loxo.storage.dirhash import dir_summary
from loxo.storage.fileset import FileEntry

__all__ = [
    "Datum",
    "DatumID",
    "Listing",
    "datum_env",
    "datum_hash",
    "datum_hasher",
    "datum_id",
    "datum_task",
    "iter_datums",
    "match_datum_maker",
    "pfs_datum_id",
]

DatumID = NewType("DatumID", str)
Listing = Callable[[PfsInput | CronInput], Iterable[FileEntry]]
"""The entries of an input's commit, sorted by path (a cron input: its cron repo's commit)."""

_Part = tuple[bytes, tuple[DatumInput, ...]]  # (ID material, inputs) of a datum in the making
_GROUP_REF = re.compile(r"\$(?:\{(\d+)\}|(\d+))")  # $1 or ${1}


@dataclass(frozen=True, slots=True)
class Datum:
    """One unit of work: its content-independent ID and its inputs in order."""

    id: DatumID
    inputs: tuple[DatumInput, ...]

    def hash(self, salt: str) -> str:
        """The datum hash: changes with any input's content or with ``salt``."""
        return datum_hash(self, salt)


def _lp(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(4, "big") + data


def datum_id(inputs: Iterable[DatumInput]) -> DatumID:
    """The ID of a datum holding ``inputs`` (name, repo, branch, path of each, in order)."""
    material = b"".join(_lp(i.name) + _lp(i.repo) + _lp(i.branch) + _lp(i.path) for i in inputs)
    return DatumID(blake3(material).digest().hex())


def datum_hash(datum: Datum, salt: str) -> str:
    """BLAKE3 over the datum ID, each input's content hash and ``salt``, length-prefixed."""
    return datum_hasher(salt)(datum)


def datum_hasher(salt: str) -> Callable[[Datum], str]:
    """:func:`datum_hash` with ``salt`` bound (what a job computes for every datum)."""
    tail = _lp(salt)

    def hash_of(datum: Datum) -> str:
        parts = [_lp(datum.id)]
        parts += [_lp(i.hash) for i in datum.inputs]
        parts.append(tail)
        return blake3(b"".join(parts)).hexdigest()

    return hash_of


def iter_datums(input: Input, listing: Listing, commits: Mapping[str, str]) -> Iterator[Datum]:
    """The datums of ``input``, lazily; ``commits`` maps each input name to its commit ID."""
    for material, inputs in _parts(input, listing, commits):
        yield Datum(DatumID(blake3(material).digest().hex()), inputs)


def pfs_datum_id(spec: PfsInput, path: str) -> DatumID:
    """The ID of the datum of a pfs input's glob match at ``path`` (whatever it holds)."""
    name, repo, branch = _identity(spec)
    return DatumID(blake3(_lp(name) + _lp(repo) + _lp(branch) + _lp(path)).digest().hex())


def match_datum_maker(
    spec: PfsInput, commit: str
) -> Callable[[GlobMatch, Sequence[FileEntry]], Datum]:
    """Builder of the datum of one glob match of a pfs input: ``(match, entries)``, the entries
    being the matched file's one entry, or every entry under the matched directory (under
    ``/`` for the root match). The same datum as :func:`iter_datums` gives for that match."""
    file_part, dir_part = _makers(spec, commit)

    def make(m: GlobMatch, entries: Sequence[FileEntry]) -> Datum:
        material, inputs = dir_part(m, list(entries)) if m.is_dir else file_part(m, entries[0])
        return Datum(DatumID(blake3(material).digest().hex()), inputs)

    return make


def datum_env(datum: Datum, pfs_root: str = "/pfs") -> tuple[tuple[str, str], ...]:
    """The per-datum environment of the user code (SEMANTICS §2.1).

    ``<name>`` is the datum-local path ``<pfs_root>/<name><path>`` -- or ``<pfs_root>/<name>``
    when the datum holds that input more than once (a group). The first input of a name gives
    ``<name>_COMMIT`` and, when set, ``PACH_DATUM_<name>_JOIN_ON`` / ``_GROUP_BY``.
    """
    env: dict[str, str] = {"PACH_DATUM_ID": datum.id}
    seen: set[str] = set()
    for i in datum.inputs:
        root = f"{pfs_root}/{i.name}"
        if i.name in seen:
            env[i.name] = root
            continue
        seen.add(i.name)
        env[i.name] = root if i.path == ROOT else root + i.path
        env[f"{i.name}_COMMIT"] = i.commit
        if i.join_on:
            env[f"PACH_DATUM_{i.name}_JOIN_ON"] = i.join_on
        if i.group_by:
            env[f"PACH_DATUM_{i.name}_GROUP_BY"] = i.group_by
    return tuple(env.items())


def datum_task(datum: Datum) -> DatumTask:
    """The executor's view of ``datum``."""
    return DatumTask(datum_id=datum.id, inputs=datum.inputs, env=datum_env(datum))


# --- combination -------------------------------------------------------------------------


def _parts(input: Input, listing: Listing, commits: Mapping[str, str]) -> Iterator[_Part]:
    spec = input.pfs if input.pfs is not None else input.cron
    if spec is not None:
        name = _identity(spec)[0]
        return _leaf(spec, listing, commits[name]) if name in commits else iter(())
    subs = input.children
    children = [_parts(s, listing, commits) for s in subs]
    if input.cross:
        return _cross(children)
    if input.union:
        return _union(subs, children)
    if input.join:
        return _join(children, [s.pfs is not None and s.pfs.outer_join for s in subs])
    return _group(children)


def _concat(parts: Iterable[_Part]) -> _Part:
    materials, inputs = zip(*parts, strict=True)
    return b"".join(materials), tuple(itertools.chain.from_iterable(inputs))


def _cross(children: list[Iterator[_Part]]) -> Iterator[_Part]:
    if not children:
        return
    first, rest = children[0], [list(c) for c in children[1:]]
    if not all(rest):
        return
    for head in first:
        for combo in itertools.product(*rest):
            yield _concat((head, *combo))


def _union(subs: Sequence[Input], children: list[Iterator[_Part]]) -> Iterator[_Part]:
    # Datums of sub-inputs whose leaves differ in (name, repo, branch) cannot share an ID.
    signatures = [{_identity(leaf) for leaf in s.leaves()} for s in subs]
    if not any(a & b for a, b in itertools.combinations(signatures, 2)):  # stream
        yield from itertools.chain.from_iterable(children)
        return
    seen: set[bytes] = set()
    for part in itertools.chain.from_iterable(children):
        if part[0] not in seen:
            seen.add(part[0])
            yield part


def _keyed(children: list[Iterator[_Part]], attr: str) -> list[dict[tuple[str, ...], list[_Part]]]:
    tables: list[dict[tuple[str, ...], list[_Part]]] = []
    for child in children:
        table: dict[tuple[str, ...], list[_Part]] = {}
        for part in child:
            key = tuple(v for v in (getattr(i, attr) for i in part[1]) if v)
            table.setdefault(key, []).append(part)
        tables.append(table)
    return tables


def _join(children: list[Iterator[_Part]], outer: list[bool]) -> Iterator[_Part]:
    tables = _keyed(children, "join_on")
    for key in sorted(set().union(*tables)):
        present = [i for i, t in enumerate(tables) if key in t]
        if len(present) < len(tables) and not any(outer[i] for i in present):
            continue
        for combo in itertools.product(*(tables[i][key] for i in present)):
            yield _concat(combo)


def _group(children: list[Iterator[_Part]]) -> Iterator[_Part]:
    tables = _keyed(children, "group_by")
    for key in sorted(set().union(*tables)):
        yield _concat(itertools.chain.from_iterable(t.get(key, ()) for t in tables))


# --- one pfs or cron input ----------------------------------------------------------------


def _template(text: str) -> Callable[[tuple[str, ...]], str] | None:
    """Expands ``$N`` in ``join_on`` / ``group_by`` text to capture group N (None: no ``$``)."""
    if "$" not in text:
        return None

    def expand(groups: tuple[str, ...]) -> str:
        def one(m: re.Match[str]) -> str:
            n = int(m.group(1) or m.group(2))
            return groups[n - 1] if 0 < n <= len(groups) else ""

        return _GROUP_REF.sub(one, text)

    return expand


_FilePart = Callable[[GlobMatch, FileEntry], _Part]
_DirPart = Callable[[GlobMatch, list[FileEntry]], _Part]


def _identity(spec: PfsInput | CronInput) -> tuple[str, str, str]:
    """(name, repo, branch) of a pfs or cron input (a cron input's branch is master)."""
    if isinstance(spec, CronInput):
        return spec.name, spec.repo, "master"
    return spec.name or spec.repo, spec.repo, spec.branch or "master"


def _leaf(spec: PfsInput | CronInput, listing: Listing, commit: str) -> Iterator[_Part]:
    glob = compile_glob("/*" if isinstance(spec, CronInput) else spec.glob)
    file_part, dir_part = _makers(spec, commit)
    entries = listing(spec)
    if glob.pattern != ROOT:
        return _stream(glob, entries, file_part, dir_part)
    everything = list(entries)  # glob '/': the whole commit, if it holds anything
    return iter([dir_part(GlobMatch(ROOT, True, ()), everything)] if everything else [])


def _makers(spec: PfsInput | CronInput, commit: str) -> tuple[_FilePart, _DirPart]:
    """Builders of a file match's and a directory match's part (the per-datum hot path)."""
    name, repo, branch = _identity(spec)
    prefix = _lp(name) + _lp(repo) + _lp(branch)
    project = spec.project or "default"
    pfs = spec if isinstance(spec, PfsInput) else PfsInput(name, repo, "/*")
    join_on, group_by, lazy, empty = pfs.join_on, pfs.group_by, pfs.lazy, pfs.empty_files
    expand_join, expand_group = _template(join_on), _template(group_by)

    def part(m: GlobMatch, hash: str, files: tuple[InputFile, ...]) -> _Part:
        di = DatumInput(  # positional: keywords cost ~0.4 us a datum (order pinned by a test)
            name, repo, branch, commit, m.path, hash, files, project,
            join_on if expand_join is None else expand_join(m.groups),
            group_by if expand_group is None else expand_group(m.groups),
            empty, lazy,
        )  # fmt: skip
        path = m.path.encode()
        return prefix + len(path).to_bytes(4, "big") + path, (di,)

    def file_part(m: GlobMatch, e: FileEntry) -> _Part:
        return part(m, e.hash, (InputFile(e.path, e.size, e.hash, e.refs),))

    def dir_part(m: GlobMatch, under: list[FileEntry]) -> _Part:
        files = tuple(InputFile(e.path, e.size, e.hash, e.refs) for e in under)
        return part(m, dir_summary("/" if m.path == ROOT else m.path + "/", under)[1], files)

    return file_part, dir_part


@dataclass(frozen=True, slots=True)
class _DirMatch:
    match: GlobMatch
    under: list[FileEntry]  # grows until the directory closes


def _stream(
    glob: Glob,
    entries: Iterable[FileEntry],
    file_part: _FilePart,
    dir_part: _DirPart,
) -> Iterator[_Part]:
    """Glob matches of sorted ``entries`` as parts, in tree order, streaming.

    A directory match stays open, collecting the entries under it, until an entry outside it
    arrives; matches found meanwhile (nested in it) wait in ``pending`` so the output keeps
    tree order. Open directories always form a chain of ancestors, innermost last.
    """
    opened: list[tuple[str, list[FileEntry]]] = []  # (path + '/', entries so far)
    pending: list[_DirMatch | _Part] = []
    current: FileEntry | None = None

    def paths() -> Iterator[str]:
        nonlocal current
        for e in entries:
            if opened:
                p = e.path
                while opened and not p.startswith(opened[-1][0]):
                    opened.pop()
                for _, under in opened:
                    under.append(e)
            current = e
            yield e.path

    def flush() -> Iterator[_Part]:
        for item in pending:
            yield dir_part(item.match, item.under) if isinstance(item, _DirMatch) else item
        pending.clear()

    for m in glob_tree(glob, paths()):
        assert current is not None
        if pending and not opened:
            yield from flush()
        if m.is_dir:
            under = [current]
            opened.append((m.path + "/", under))
            pending.append(_DirMatch(m, under))
        elif pending:
            pending.append(file_part(m, current))
        else:
            yield file_part(m, current)
    yield from flush()
