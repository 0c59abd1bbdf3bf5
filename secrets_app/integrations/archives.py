"""Reading a whole branch of a GitHub repository in two requests: its tarball.

Why the tarball rather than the Git trees API: a recursive ``GET
/git/trees/<ref>`` lists the paths in one request, but every file's content
is then one more request (``GET /git/blobs/<sha>``), so reading the
definitions of an infra repository with 2,000 Terraform files would cost
2,001 requests of the 5,000 an hour a token has. ``GET /tarball/<ref>`` is one
API request answered with a redirect to ``codeload`` (a second HTTP request,
not counted against the API rate limit) whatever the repository's size. The
price is bytes: the archive carries every file, not only the definitions.
Infra and deploy repositories are small text repositories, and the archive is
read as a stream (the files wanted are kept, the others skipped as they pass)
with a cap on its compressed size, so a large one fails clearly instead of
filling memory.

Nothing here imports PyGithub or Django: it turns the chunks of a response
into ``{path: text}``.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterable, Iterator

from .errors import PermanentError, RetryableError

#: A larger compressed archive is refused (the repository is not an infra
#: or deploy repository as the portal knows them).
MAX_ARCHIVE_BYTES = 200 * 1024 * 1024


class _ChunkReader(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, with a size cap."""

    def __init__(self, chunks: Iterable[bytes], limit: int):
        self._chunks: Iterator[bytes] = iter(chunks)
        self._buffer = b""
        self._limit = limit
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
            self.read_bytes += len(self._buffer)
            if self.read_bytes > self._limit:
                raise PermanentError(
                    f"the repository archive is larger than {self._limit // 2**20} MiB",
                    system="github",
                )
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def text_files_of_tarball(
    chunks: Iterable[bytes],
    *,
    suffixes: tuple[str, ...],
    max_bytes: int,
    limit: int = MAX_ARCHIVE_BYTES,
) -> dict[str, str]:
    """The regular files of a gzipped tarball (GitHub's: every path under one
    top folder ``<owner>-<repo>-<sha>/``) whose names end with one of
    ``suffixes``, at most ``max_bytes`` each and UTF-8, by path inside the
    repository."""
    found: dict[str, str] = {}
    reader = _ChunkReader(chunks, limit)
    wanted = tuple(s.lower() for s in suffixes)
    try:
        with tarfile.open(fileobj=reader, mode="r|gz") as archive:
            for member in archive:
                _, _, path = member.name.partition("/")
                if not member.isfile() or not path or member.size > max_bytes:
                    continue
                if not path.lower().endswith(wanted):
                    continue
                data = archive.extractfile(member)
                if data is None:
                    continue
                try:
                    found[path] = data.read().decode("utf-8")
                except UnicodeDecodeError:
                    continue
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        # OSError includes requests' connection errors (a download cut short).
        # A download cut short is worth another try; the caller's retry
        # policy decides how many.
        # Only the error's type: a connection error's text may quote the
        # archive's URL, which carries a token.
        raise RetryableError(
            f"the repository archive could not be read ({type(exc).__name__})", system="github"
        ) from None
    return found
