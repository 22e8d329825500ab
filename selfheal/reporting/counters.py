"""The cumulative counters the Pushgateway gets, carried in a small state file beside the history.

`self_healing_actions_total{action,result}` and `config_drift_detected_total` count every decision of
every run, so each push carries the running total and `increase()`/`rate()` work across runs (every
run is a fresh process, and a Pushgateway keeps only the last push). Counting them from the history
file would read the whole file every pass; instead `<history>.counters.json` holds the totals and how
many bytes of the history file (which inode) they cover, and each pass counts only the bytes appended
since. The state is updated under the history's lock, after the pass's lines are appended, so a run
killed before it is updated loses nothing: the next run counts those lines. A rotation (`store.py`)
moves the covered mark with the file it keeps.

The first run without a state (an upgrade, or a lost state file) counts the existing file once, in
constant memory; intent lines (`result: intent`) are not decisions and are not counted.

Verdict lines (`selfheal.verify`: verified / not_recovered) are not decisions either: they are counted
apart, per SLO and result (`selfheal_verifications_total`), and a verified line's `recovery_seconds` goes
into the cumulative buckets of its SLO's histogram (`selfheal_recovery_seconds` for `recovery`,
`selfheal_drift_resolution_seconds` for `drift_resolution`), whose 300 s and 600 s bounds are the guide's
two SLOs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path

import msgspec

from selfheal.findings import HistoryEntry, Result

SUFFIX = ".counters.json"
CONFIG_DRIFT_DETECTOR = "config_drift"
# upper bounds (seconds) of the recovery histogram's buckets; 300 and 600 are the SLOs' (5 and 10 min)
RECOVERY_BUCKETS: tuple[float, ...] = (30, 60, 120, 180, 300, 450, 600, 900, 1800, 3600)


class Counters(msgspec.Struct, kw_only=True):
    version: int = 1
    inode: int = 0
    covered: int = 0  # bytes of the history file (that inode) already counted
    actions: dict[str, int] = {}  # "action/result" -> lines
    drift: int = 0
    verifications: dict[str, int] = {}  # "slo/result" -> verdict lines
    recovery: dict[str, list[int]] = {}  # slo -> lines per bucket (RECOVERY_BUCKETS, then +Inf)
    recovery_sum: dict[str, float] = {}  # slo -> seconds

    def action_totals(self) -> dict[tuple[str, str], int]:
        return {tuple(k.split("/", 1)): n for k, n in self.actions.items()}  # type: ignore[misc]

    def verification_totals(self) -> dict[tuple[str, str], int]:
        return {tuple(k.split("/", 1)): n for k, n in self.verifications.items()}  # type: ignore[misc]

    def count(self, entries: Iterable[HistoryEntry]) -> None:
        for e in entries:
            if e.result == Result.INTENT:
                continue
            if e.verifies:
                self._verdict(e)
                continue
            key = f"{e.action}/{e.result}"
            self.actions[key] = self.actions.get(key, 0) + 1
            if e.detector == CONFIG_DRIFT_DETECTOR:
                self.drift += 1

    def _verdict(self, e: HistoryEntry) -> None:
        slo = e.slo or "recovery"
        key = f"{slo}/{e.result}"
        self.verifications[key] = self.verifications.get(key, 0) + 1
        if e.recovery_seconds is None:
            return
        buckets = self.recovery.setdefault(slo, [0] * (len(RECOVERY_BUCKETS) + 1))
        i = next(
            (i for i, le in enumerate(RECOVERY_BUCKETS) if e.recovery_seconds <= le), len(RECOVERY_BUCKETS)
        )
        buckets[i] += 1
        self.recovery_sum[slo] = self.recovery_sum.get(slo, 0.0) + e.recovery_seconds


_decoder = msgspec.json.Decoder(HistoryEntry)


def state_path(history: Path) -> Path:
    return history.with_name(history.name + SUFFIX)


def load(history: Path) -> Counters | None:
    try:
        return msgspec.json.decode(state_path(history).read_bytes(), type=Counters)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def _count_range(fd: int, start: int, end: int, counters: Counters) -> None:
    """Count the complete lines in [start, end) of the file, a block at a time."""
    carry = b""
    pos = start
    while pos < end:
        chunk = os.pread(fd, min(1 << 20, end - pos), pos)
        if not chunk:
            break
        pos += len(chunk)
        lines = (carry + chunk).split(b"\n")
        carry = lines.pop()
        for raw in lines:
            if raw.strip():
                with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                    counters.count([_decoder.decode(raw)])
    counters.covered = pos - len(carry)


def catch_up(fd: int, history: Path) -> Counters:
    """The counters including every complete line of the locked history file `fd`."""
    st = os.fstat(fd)
    counters = load(history) or Counters(inode=st.st_ino)  # no state yet: count the file once
    if counters.inode != st.st_ino or counters.covered > st.st_size:
        # replaced by something else than our rotation (by hand, from a backup): count it on top
        counters.inode, counters.covered = st.st_ino, 0
    _count_range(fd, counters.covered, st.st_size, counters)
    return counters


def save(history: Path, counters: Counters) -> None:
    """Write the state atomically beside the history (temp file, fsync, rename)."""
    path = state_path(history)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        fh.write(msgspec.json.encode(counters))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
