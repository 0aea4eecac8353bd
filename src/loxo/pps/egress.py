"""Egress: copy each successful output commit to an external location.

``egress.url`` names the destination; ``file:///dir`` writes the output tree under ``dir``
(replacing files of the same path). Object-store URLs (``s3://``) arrive with the S3 store.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from loxo.errors import InvalidArgumentError, StorageError
from loxo.pfs.core import Core
from loxo.storage.blobs import BlobReader
from loxo.storage.fileset import NodeRef


def egress(pfs: Core, root: NodeRef | None, url: str) -> int:
    """Write every file of ``root`` to ``url``; the number of files written."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise InvalidArgumentError(
            f"egress URL {url!r} is not supported yet: use file:///path (s3:// comes with the "
            "S3 object store)"
        )
    dest = Path(urllib.parse.unquote(parsed.path))
    reader = BlobReader(pfs.store)
    n = 0
    for e in pfs._reader(root).iter():
        target = dest / e.path.lstrip("/")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                for chunk in reader.iter_chunks(e.refs):
                    f.write(chunk)
        except OSError as err:
            raise StorageError(f"cannot write {str(target)!r}: {err.strerror}") from err
        n += 1
    return n
