"""storage: bytes by content. Knows nothing of repos, branches or commits.

- ``objectstore``: the :class:`ObjectStore` interface (immutable objects by key) with the
  ``local`` (a directory) and ``memory`` backends, chosen by URL through ``registry``.
- ``chunking`` + ``hashing`` + ``codec``: content-defined chunks (FastCDC), named by their
  BLAKE3 hash, zstd-compressed when that pays.
- ``blobs``: file content as chunk references; new chunks are packed into shared objects and
  deduplicated through a chunk index; every read verifies the hash.
- ``fileset``: an immutable, path-sorted, content-defined tree of ``path -> content``; a new
  fileset shares every untouched node with its base, so a commit costs what changed.

Invariant: an object, once written under a key, never changes meaning; a reader gets the
bytes that were hashed or a :class:`~loxo.errors.CorruptObject` error, never wrong bytes.
"""
