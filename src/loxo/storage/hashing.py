"""Content hashing: BLAKE3, hex-encoded, 32 bytes.

One function names every piece of content in loxo: a chunk's hash is ``hash_bytes`` of its
bytes; a file's hash is the hash of its chunk hashes in order (so appends and copies never
re-read data); a directory's hash is the hash of its children's names and hashes.
"""

from __future__ import annotations

from collections.abc import Iterable

import blake3

HASH_HEX_LEN = 64
EMPTY_HASH = blake3.blake3(b"").hexdigest()


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    """The hex BLAKE3 digest of ``data``."""
    return blake3.blake3(data).hexdigest()


def hash_of_hashes(hashes: Iterable[str]) -> str:
    """A file's content hash from its chunk hashes (the empty file hashes to EMPTY_HASH)."""
    h = blake3.blake3()
    n = 0
    for x in hashes:
        h.update(bytes.fromhex(x))
        n += 1
    return h.hexdigest() if n else EMPTY_HASH


def hash_children(children: Iterable[tuple[str, str]]) -> str:
    """A directory's hash from its ``(name, hash)`` children in name order."""
    h = blake3.blake3()
    for name, child_hash in children:
        encoded = name.encode()
        h.update(len(encoded).to_bytes(4, "big"))
        h.update(encoded)
        h.update(bytes.fromhex(child_hash))
    return h.hexdigest()
