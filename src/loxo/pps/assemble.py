"""Output assembly: a job's output commit from the base output plus what changed.

The output of a job is the union of the outputs of all its current datums. Computed
incrementally: start from the base job's output fileset, delete the outputs of datums that
were removed or ran again, add the outputs of datums that ran now. Cost ~ what changed.

Collisions fail the job with a message naming the path and both datums: two datums writing
the same path, or a path that would be both a file and a directory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from loxo.errors import PathConflict
from loxo.execution.output import output_entries
from loxo.pfs.staging import DELETE, PUT, Op, fold
from loxo.storage.fileset import FileEntry, FilesetReader, NodeCache, NodeRef, merge

OutputRoot = NodeRef | tuple[FileEntry, ...]
"""A datum's output: a fileset root, or its few entries inline (see ``execution.output``)."""


class OutputCollision(Exception):
    """Two datums wrote the same output path (the job fails with this message)."""


def assemble(
    nodes: NodeCache,
    base: NodeRef | None,
    removed: Iterable[OutputRoot],
    added: Iterable[tuple[str, OutputRoot]],
    owner_of: Callable[[str], str],
) -> NodeRef | None:
    """The new output root. ``removed``: output roots of datums whose outputs go away;
    ``added``: ``(datum id, output root)`` of datums that ran; ``owner_of(path)`` names the
    datum that wrote a path of the base output (only called to report a collision)."""
    ops: list[Op] = []
    gone: set[str] = set()
    for root in removed:
        for e in output_entries(nodes, root):
            ops.append(Op(DELETE, e.path))
            gone.add(e.path)
    base_reader = FilesetReader(nodes, base)
    writer_of: dict[str, str] = {}
    for datum_id, root in added:
        for e in output_entries(nodes, root):
            other = writer_of.get(e.path)
            if other is None and e.path not in gone and base_reader.get(e.path) is not None:
                other = owner_of(e.path)
            if other is not None:
                raise OutputCollision(
                    f"datums {other} and {datum_id} both wrote output path {e.path!r}; "
                    "make each datum write distinct paths"
                )
            writer_of[e.path] = datum_id
            ops.append(Op(PUT, e.path, e.refs, e.size, e.hash))
    try:
        changes = fold(base_reader, ops)
    except PathConflict as err:
        raise OutputCollision(f"output {err}") from err
    return merge(nodes, base, sorted(changes.items()))
