"""Upload sessions: the remote form of a :class:`~loxo.pfs.files_write.ModifyFile`.

``POST /uploads`` opens a session on a branch; each file is then streamed in its own request
(or a whole tree as one tar stream); ``POST /uploads/{id}/finish`` applies everything as one
commit. Until then nothing is visible: a client or server that dies in the middle leaves the
branch as it was (the session's bytes become garbage for ``gc``). Sessions idle for
:data:`IDLE_TIMEOUT` seconds are aborted.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from loxo.errors import NotFoundError
from loxo.pfs.files_write import ModifyFile
from loxo.pfs.model import CommitInfo

IDLE_TIMEOUT = 600.0


class UploadNotFound(NotFoundError):
    def __init__(self, upload_id: str) -> None:
        super().__init__(
            f"upload session {upload_id!r} not found: it finished, was aborted, or sat idle "
            f"longer than {IDLE_TIMEOUT:.0f}s; start the upload again"
        )


@dataclass
class Upload:
    mf: ModifyFile
    used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Uploads:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, Upload] = {}

    def open(self, mf: ModifyFile) -> str:
        self.expire()
        upload_id = uuid.uuid4().hex
        with self._lock:
            self._open[upload_id] = Upload(mf)
        return upload_id

    def get(self, upload_id: str) -> Upload:
        with self._lock:
            upload = self._open.get(upload_id)
        if upload is None:
            raise UploadNotFound(upload_id)
        upload.used = time.monotonic()
        return upload

    def finish(self, upload_id: str) -> CommitInfo:
        upload = self._take(upload_id)
        with upload.lock:
            return upload.mf.close()

    def abort(self, upload_id: str) -> None:
        upload = self._take(upload_id)
        with upload.lock:
            upload.mf.abort()

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [k for k, u in self._open.items() if now - u.used > IDLE_TIMEOUT]
            stale = [self._open.pop(k) for k in idle]
        for upload in stale:
            upload.mf.abort()

    def abort_all(self) -> None:
        with self._lock:
            stale, self._open = list(self._open.values()), {}
        for upload in stale:
            upload.mf.abort()

    def _take(self, upload_id: str) -> Upload:
        with self._lock:
            upload = self._open.pop(upload_id, None)
        if upload is None:
            raise UploadNotFound(upload_id)
        return upload

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)
