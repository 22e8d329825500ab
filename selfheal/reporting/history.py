"""The action history, `logs/rollback-history.log`: JSON Lines, the job's record (logs/README.md).

Writing. Every append is one `os.write` under an exclusive `flock` on an `O_APPEND` descriptor, then
`fsync`: two runs started together (the CronJob and a manual `kubectl create job --from=...`) may
append at the same moment; O_APPEND lands each write at the end of file, the flock makes a batch one
critical section, one write per batch means a crash tears at most the last line, and the fsync puts a
line on disk before the job goes on (the write-ahead record relies on it). A torn last line would glue
itself to the next line, so the writer first checks, under the lock, that the file ends with a newline.
After a rotation (`rotate.py`) a writer that opened the old file reopens the new one.

A history that cannot be written is a `RecordError` with one line naming the path and the reason
(a directory, a device, a read-only volume, a full disk): the caller decides (before the first write:
exit 2 and change nothing; during the pass: take no further action).

Reading is tolerant and bounded: `read_history` reads from the end of the file back to the window the
rails need (`since`), never the whole file, and a line that does not parse (torn, garbage, an older
format) is reported in `HistoryRead.problems` with where it is, and the rest is used.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import msgspec

from selfheal.findings import ActionOutcome, HistoryEntry, PatchRecord, PlannedAction, RecordError, Result
from selfheal.kube.requests import Write

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(HistoryEntry)

BLOCK = 64 * 1024
# Lines are appended in time order by the run holding the Lease; a dry-run (no Lease) may append a few
# seconds out of order. Reading back stops once it is this far before the window.
ORDER_SLACK = timedelta(minutes=10)


def _file_in_the_way(path: Path) -> Path | None:
    """The first ancestor of `path` that exists and is not a directory (mkdir's EEXIST/ENOTDIR)."""
    for parent in reversed(path.parents):
        try:
            if not stat.S_ISDIR(parent.stat().st_mode):
                return parent
        except OSError:
            return None
    return None


def describe_os_error(path: Path, exc: OSError) -> str:
    if exc.errno in (errno.EEXIST, errno.ENOTDIR) and (blocker := _file_in_the_way(path)) is not None:
        return f"{path}: a parent is not a directory ({blocker} is a file)"
    reason = {
        errno.ENOSPC: "no space left on the device",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted (immutable file?)",
        errno.EISDIR: "is a directory",
        errno.ENOTDIR: "a parent is not a directory",
        errno.EDQUOT: "disk quota exceeded",
    }.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return f"{path}: {reason}"


# --- the lines ---------------------------------------------------------------------------------------


def _records(writes: Sequence[Write], inverse: bool) -> tuple[PatchRecord, ...] | None:
    out = []
    for w in writes:
        body = w.inverse if inverse else w.body
        if body is None:
            continue
        out.append(
            PatchRecord(
                kind=w.target.kind,
                name=w.target.name,
                subresource=w.subresource,
                content_type=w.content_type.value,
                body=msgspec.Raw(body),
            )
        )
    return tuple(out) or None


def _line(
    a: PlannedAction,
    *,
    result: str,
    reason: str,
    message: str,
    writes: Sequence[Write],
    run_id: str,
    namespace: str,
    ts: datetime,
    intent: str = "",
    recovered: bool = False,
) -> HistoryEntry:
    return HistoryEntry(
        ts=ts,
        run_id=run_id,
        namespace=namespace,
        action=a.action.value,
        kind=a.target.kind,
        name=a.target.name,
        reason=reason,
        result=result,
        message=message,
        workload=str(a.workload),
        detector=a.detector,
        ladder=a.ladder.value,
        patch=_records(writes, inverse=False),
        inverse=_records(writes, inverse=True),
        intent=intent,
        recovered=recovered,
        onset=a.onset if result in (Result.APPLIED, Result.INTENT) else None,
    )


def entry_for(
    outcome: ActionOutcome, *, run_id: str, namespace: str, ts: datetime, intent: str = ""
) -> HistoryEntry:
    """The history line for one decided action. Writes (applied, dry_run, failed) carry the exact
    request bodies and their inverses; skipped actions carry none."""
    a = outcome.action
    writes = a.writes if outcome.result != Result.SKIPPED else ()
    return _line(
        a,
        result=outcome.result.value,
        reason=outcome.reason or a.reason,
        message=outcome.message or a.summary,
        writes=writes,
        run_id=run_id,
        namespace=namespace,
        ts=ts,
        intent=intent,
    )


def intent_for(
    action: PlannedAction, *, run_id: str, namespace: str, ts: datetime, intent: str
) -> HistoryEntry:
    """The line written (and fsync-ed) before an action's first write: what is about to be sent."""
    return _line(
        action,
        result=Result.INTENT.value,
        reason=action.reason,
        message=action.summary,
        writes=action.writes,
        run_id=run_id,
        namespace=namespace,
        ts=ts,
        intent=intent,
    )


def resolution_for(
    intent: HistoryEntry, *, found: bool, detail: str, run_id: str, ts: datetime
) -> HistoryEntry:
    """The outcome a later pass writes for an intent left without one: found in the cluster or not."""
    return msgspec.structs.replace(
        intent,
        ts=ts,
        run_id=run_id,
        result=(Result.APPLIED if found else Result.ABANDONED).value,
        recovered=found,
        message=detail,
    )


def encode_lines(entries: Iterable[HistoryEntry]) -> bytes:
    return b"".join(_encoder.encode(e) + b"\n" for e in entries)


# --- writing -----------------------------------------------------------------------------------------


def check_writable(path: str | Path) -> None:
    """Prove the history can be appended to, without changing its content; raises RecordError."""
    p = Path(path)
    if str(path).strip() == "":
        raise RecordError("history file: the path is empty")
    try:
        if p.exists() and not stat.S_ISREG(p.stat().st_mode):
            kind = "a directory" if p.is_dir() else "not a regular file (a device, a pipe or a socket)"
            raise RecordError(f"{p}: is {kind}")
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        os.close(fd)
    except OSError as exc:
        raise RecordError(describe_os_error(p, exc)) from None


def check_regular_file(path: str | Path) -> None:
    """The path, if something is there, is a regular file: never replace or append to a device, a pipe, a
    socket or a directory (renaming a report over /dev/null as root replaces the device). RecordError."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise RecordError(describe_os_error(p, exc)) from None
    if stat.S_ISDIR(mode):
        raise RecordError(f"{p}: is a directory")
    if not stat.S_ISREG(mode):
        raise RecordError(f"{p}: is not a regular file (a device, a pipe or a socket)")


def _open_current(p: Path) -> int:
    """An O_APPEND descriptor of the file at `p` now, locked; reopened if a rotation replaced it."""
    while True:
        fd = os.open(p, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise RecordError(f"{p}: is not a regular file (a device, a pipe or a socket)")
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.stat(p).st_ino == os.fstat(fd).st_ino:
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # rotated while we waited: append to the new file


@contextlib.contextmanager
def locked(path: str | Path) -> Iterator[int]:
    """The history file, open for appending and exclusively locked (the one lock of every writer)."""
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = _open_current(p)
    except OSError as exc:
        raise RecordError(describe_os_error(p, exc)) from None
    try:
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def write_locked(fd: int, path: Path, entries: Sequence[HistoryEntry]) -> None:
    """Append under the caller's lock: the torn-line guard, one write, fsync. Raises RecordError."""
    if not entries:
        return
    payload = encode_lines(entries)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            payload = b"\n" + payload  # never glue onto a torn last line
        view = memoryview(payload)
        while view:  # a regular file takes it all at once; the loop only guards a short write
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        raise RecordError(describe_os_error(path, exc)) from None


def append_history(path: str | Path, entries: Iterable[HistoryEntry]) -> int:
    """Append the entries as one write under an exclusive lock, fsync-ed; returns the number of lines.
    Raises RecordError when they cannot be written (nothing, or a torn last line, is then on disk)."""
    lines = list(entries)
    if lines:
        with locked(path) as fd:
            write_locked(fd, Path(path), lines)
    return len(lines)


# --- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryProblem:
    line: int  # 1-based line number when the whole file was read, else 0
    error: str
    offset: int = 0  # byte offset of the line in the file


@dataclass(frozen=True)
class HistoryRead:
    entries: tuple[HistoryEntry, ...]
    problems: tuple[HistoryProblem, ...]


def _decode(raw: bytes, number: int, offset: int) -> HistoryEntry | HistoryProblem:
    try:
        return _decoder.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return HistoryProblem(number, " ".join(str(exc).split())[:200], offset)


def _regular(p: Path) -> bool:
    try:
        return stat.S_ISREG(p.stat().st_mode)
    except OSError:
        return False


def _forward(p: Path) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, line) for every line, start to end."""
    offset = 0
    with p.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            yield number, offset, line
            offset += len(line)


def backward_lines(p: Path) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) from the end of the file to its start, a block at a time: memory is one block
    plus the lines the caller keeps."""
    with p.open("rb") as fh:
        end = fh.seek(0, os.SEEK_END)
        tail = b""  # the start of a line that began in an earlier block
        while end > 0:
            start = max(0, end - BLOCK)
            fh.seek(start)
            chunk = fh.read(end - start) + tail
            lines = chunk.split(b"\n")
            tail = lines[0] if start else b""
            after = start + len(chunk)
            for line in reversed(lines[1:] if start else lines):
                after -= len(line)
                if line.strip():
                    yield after, line
                after -= 1  # its newline
            end = start


def read_history(
    path: str | Path, *, since: datetime | None = None, namespace: str | None = None
) -> HistoryRead:
    """The parseable lines (of `namespace`, at or after `since`), in file order.

    With `since`, the file is read from its end back to `since` (minus ORDER_SLACK) and no further; without
    it, the whole file. A missing file, or one that is not a regular file, is an empty history.
    """
    p = Path(path)
    if not _regular(p):
        return HistoryRead((), ())
    entries: list[HistoryEntry] = []
    problems: list[HistoryProblem] = []
    if since is None:
        for number, offset, raw in _forward(p):
            if raw.strip():
                _keep(_decode(raw, number, offset), entries, problems, since, namespace)
        return HistoryRead(tuple(entries), tuple(problems))
    stop = since - ORDER_SLACK
    for offset, raw in backward_lines(p):
        got = _decode(raw, 0, offset)
        if isinstance(got, HistoryEntry) and got.ts < stop:
            break
        _keep(got, entries, problems, since, namespace)
    entries.reverse()
    problems.reverse()
    return HistoryRead(tuple(entries), tuple(problems))


def _keep(
    got: HistoryEntry | HistoryProblem,
    entries: list[HistoryEntry],
    problems: list[HistoryProblem],
    since: datetime | None,
    namespace: str | None,
) -> None:
    if isinstance(got, HistoryProblem):
        problems.append(got)
    elif (since is None or got.ts >= since) and (namespace is None or got.namespace == namespace):
        entries.append(got)


def last_entries(path: str | Path, n: int = 20) -> HistoryRead:
    """The last `n` parseable entries (for `selfheal history -n`), read from the end of the file."""
    p = Path(path)
    if n <= 0 or not _regular(p):
        return HistoryRead((), ())
    entries: list[HistoryEntry] = []
    problems: list[HistoryProblem] = []
    for offset, raw in backward_lines(p):
        got = _decode(raw, 0, offset)
        if isinstance(got, HistoryProblem):
            problems.append(got)
            continue
        entries.append(got)
        if len(entries) >= n:
            break
    return HistoryRead(tuple(reversed(entries)), tuple(reversed(problems)))
