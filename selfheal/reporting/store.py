"""The history file as the pass uses it: a bounded window read, the write-ahead journal, the end-of-pass
lines, the carried counters and the rotation that keeps the file bounded on its volume.

    store = HistoryStore(Path("logs/rollback-history.log"))
    store.check_writable()                  # before the first write: RecordError -> exit 2, nothing changed
    window = store.window(since, namespace)  # read from the end, never the whole file
    journal = store.journal(run_id, namespace, clock)   # for the executor: intent before, outcome after
    counters = store.close_pass(lines)     # the pass's other lines, the counters caught up, rotation

Rotation. When the file passes `max_bytes` (16 MiB: some 10,000 passes of a busy namespace), its newest
half (cut at a line) becomes the file and the whole old file is kept once as `<name>.1`: the window the
rails need and `tail -20` stay in the file, the volume holds at most about 2.5 times max_bytes. It happens
under the history lock; a writer that opened the old file reopens the new one (history.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from selfheal.findings import ActionOutcome, HistoryEntry, PlannedAction, RecordError
from selfheal.reporting import counters as counters_mod
from selfheal.reporting.history import (
    HistoryRead,
    append_history,
    check_writable,
    describe_os_error,
    entry_for,
    intent_for,
    locked,
    read_history,
    write_locked,
)

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
ROTATED_SUFFIX = ".1"


@dataclass
class Journal:
    """The write-ahead record of one pass (the executor's `Recorder`): an intent line, fsync-ed, before an
    action's first write; its outcome line after. `written` are the outcomes it recorded."""

    store: HistoryStore
    run_id: str
    namespace: str
    clock: Callable[[], datetime]
    written: list[ActionOutcome] = field(default_factory=list)
    _seq: int = 0

    def intent(self, action: PlannedAction) -> str:
        self._seq += 1
        intent = f"{self.run_id}-{self._seq}"
        self.store.append(
            [intent_for(action, run_id=self.run_id, namespace=self.namespace, ts=self.clock(), intent=intent)]
        )
        return intent

    def outcome(self, intent: str, outcome: ActionOutcome) -> None:
        self.store.append(
            [entry_for(outcome, run_id=self.run_id, namespace=self.namespace, ts=self.clock(), intent=intent)]
        )
        self.written.append(outcome)


@dataclass(frozen=True)
class HistoryStore:
    path: Path
    max_bytes: int = DEFAULT_MAX_BYTES

    def check_writable(self) -> None:
        check_writable(self.path)

    def window(self, since: datetime, namespace: str) -> HistoryRead:
        return read_history(self.path, since=since, namespace=namespace)

    def append(self, lines: Sequence[HistoryEntry]) -> None:
        append_history(self.path, lines)

    def journal(self, run_id: str, namespace: str, clock: Callable[[], datetime]) -> Journal:
        return Journal(self, run_id, namespace, clock)

    def counters(self) -> counters_mod.Counters:
        return counters_mod.load(self.path) or counters_mod.Counters()

    def close_pass(self, lines: Sequence[HistoryEntry]) -> counters_mod.Counters:
        """Append the pass's last lines, catch the counters up with the file, rotate it when it is too big.
        Raises RecordError when the lines cannot be written; the counters are then left as they were."""
        with locked(self.path) as fd:
            write_locked(fd, self.path, lines)
            counters = counters_mod.catch_up(fd, self.path)
            if os.fstat(fd).st_size > self.max_bytes:
                counters = self._rotate(fd, counters)
            try:
                counters_mod.save(self.path, counters)
            except OSError as exc:
                raise RecordError(describe_os_error(counters_mod.state_path(self.path), exc)) from None
        return counters

    def _rotate(self, fd: int, counters: counters_mod.Counters) -> counters_mod.Counters:
        size = os.fstat(fd).st_size
        start = size - self.max_bytes // 2
        head = os.pread(fd, 64 * 1024, start)
        cut = head.find(b"\n")
        start = start + cut + 1 if cut >= 0 else size
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.rotate")
        try:
            with tmp.open("wb") as out:
                pos = start
                while pos < size:
                    chunk = os.pread(fd, min(1 << 20, size - pos), pos)
                    out.write(chunk)
                    pos += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(self.path, self.path.with_name(self.path.name + ROTATED_SUFFIX))
            os.replace(tmp, self.path)
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise RecordError(describe_os_error(self.path, exc)) from None
        new = os.stat(self.path)
        counters.inode, counters.covered = new.st_ino, new.st_size  # everything in it was counted already
        return counters
