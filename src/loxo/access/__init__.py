"""access: loxo's commits as files for the Python data stack (fsspec's ``loxo://``).

``pd.read_csv("loxo://images@master/labels.csv")``, pyarrow datasets, duckdb, polars and
anything else built on fsspec read and write loxo through :class:`LoxoFileSystem`,
registered for the ``loxo`` protocol by the ``fsspec.specs`` entry point (no import needed).

A URL names a file of one commit, ``loxo://[PROJECT/]REPO@REF/PATH``: REF is a branch, a
commit ID, or ancestry (``master^1``, ``master.2``); ``loxo://REPO/PATH`` is the default
branch (:mod:`.urls`). The filesystem is a front door over the public :class:`loxo.Client`,
embedded (``$LOXO_HOME``) or remote (``$LOXO_ADDRESS``, or the ``address`` and ``token``
storage options): it never touches the store or the database itself, so both behave alike.

Invariants:

- a file opened for reading is pinned to the commit it resolved to on opening; its reads
  are ranged reads of that commit, chunk by chunk, never the whole file in memory
  (:mod:`.files`);
- a write is a commit: one per closed file, ``pipe``, ``rm`` or ``put``/``copy``/``mv``
  call, or one per branch for everything inside ``with fs.transaction:``, nothing of it
  visible before and nothing left on an exception (:mod:`.transaction`);
- a write to a commit (an ID, ``^N``, ``.N``) is refused: commits are immutable;
- directories are implicit, as in loxo: ``mkdir`` does nothing; a directory exists while a
  file lies under it;
- loxo errors reach fsspec callers as the built-in exceptions they catch
  (``FileNotFoundError``...), with loxo's message (:mod:`.errors`).
"""

from .fsspec import LoxoFileSystem

__all__ = ["LoxoFileSystem"]
