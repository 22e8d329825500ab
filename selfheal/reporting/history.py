"""The action history, `logs/rollback-history.log`: JSON Lines, one line per action decided.

Why a single `os.write` under `flock` on an `O_APPEND` descriptor: two runs started together (a
CronJob run and a manual `kubectl create job --from=...`) may append at the same moment. O_APPEND
makes each write land at the current end of file; the exclusive flock makes a batch of lines one
critical section even if the kernel split a large write; and one write per batch means a crash can
tear at most the last line. A torn last line would glue itself to the next run's first line, so the
writer first checks (under the lock) that the file ends with a newline and starts a fresh line if not.

Reading is tolerant: a line that does not parse (torn, garbage, from an older format) is reported in
`HistoryRead.problems` with its line number, and the rest is used.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import msgspec

from selfheal.findings import ActionOutcome, HistoryEntry, PatchRecord, Result
from selfheal.kube.requests import Write

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(HistoryEntry)


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


def entry_for(outcome: ActionOutcome, *, run_id: str, namespace: str, ts: datetime) -> HistoryEntry:
    """The history line for one decided action. Writes (applied, dry_run, failed) carry the exact
    request bodies and their inverses; skipped actions carry none."""
    a = outcome.action
    writes = a.writes if outcome.result != Result.SKIPPED else ()
    return HistoryEntry(
        ts=ts,
        run_id=run_id,
        namespace=namespace,
        action=a.action.value,
        kind=a.target.kind,
        name=a.target.name,
        reason=outcome.reason or a.reason,
        result=outcome.result.value,
        message=outcome.message or a.summary,
        workload=str(a.workload),
        detector=a.detector,
        ladder=a.ladder.value,
        patch=_records(writes, inverse=False),
        inverse=_records(writes, inverse=True),
    )


def encode_lines(entries: Iterable[HistoryEntry]) -> bytes:
    return b"".join(_encoder.encode(e) + b"\n" for e in entries)


def append_history(path: str | Path, entries: Iterable[HistoryEntry]) -> int:
    """Append the entries as one write under an exclusive lock; returns the number of lines written."""
    lines = list(entries)
    if not lines:
        return 0
    payload = encode_lines(lines)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(
        p, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644
    )  # RDWR: to check the last byte
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                payload = b"\n" + payload  # never glue onto a torn last line
            view = memoryview(payload)
            while view:  # a regular file takes it all at once; the loop only guards a short write
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return len(lines)


@dataclass(frozen=True)
class HistoryProblem:
    line: int
    error: str


@dataclass(frozen=True)
class HistoryRead:
    entries: tuple[HistoryEntry, ...]
    problems: tuple[HistoryProblem, ...]


def read_history(
    path: str | Path, *, since: datetime | None = None, namespace: str | None = None
) -> HistoryRead:
    """All parseable lines (optionally only those at/after `since` and of `namespace`), in file order.

    A missing file is an empty history. Unparseable lines become `problems`, never an exception.
    """
    p = Path(path)
    entries: list[HistoryEntry] = []
    problems: list[HistoryProblem] = []
    try:
        fh = p.open("rb")
    except FileNotFoundError:
        return HistoryRead((), ())
    with fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = _decoder.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                problems.append(HistoryProblem(number, " ".join(str(exc).split())[:200]))
                continue
            if since is not None and entry.ts < since:
                continue
            if namespace is not None and entry.namespace != namespace:
                continue
            entries.append(entry)
    return HistoryRead(tuple(entries), tuple(problems))


def last_entries(path: str | Path, n: int = 20) -> HistoryRead:
    """The last `n` parseable entries (for `selfheal history -n`)."""
    read = read_history(path)
    return HistoryRead(read.entries[-n:] if n > 0 else (), read.problems)
