"""Real servers from Debian's packages, started on 127.0.0.1 for one test module and stopped after.

with pushgateway() as url: ...
    scrape(url)                                  # what Prometheus would scrape from it: {(name, labels): value}
with prometheus(openmetrics_text) as url: ...   # data backfilled with promtool, then served
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server not ready after {timeout}s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def _serve(cmd: list[str], ready: str, workdir: Path) -> Iterator[None]:
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
        try:
            _wait_ready(ready, proc, log)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def pushgateway() -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        url = f"http://127.0.0.1:{port}"
        with _serve(
            ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{port}"], f"{url}/-/ready", Path(d)
        ):
            yield url


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample a Pushgateway serves, parsed as Prometheus parses a scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def pushed(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The one sample of `name` the job pushed with these labels (its group: job, namespace)."""
    want = {"job": "self-heal-cpt", **labels}
    matches = [v for (n, ls), v in samples.items() if n == name and want.items() <= dict(ls).items()]
    assert len(matches) == 1, (name, labels, [k for k in samples if k[0] == name])
    return matches[0]


@contextlib.contextmanager
def prometheus(openmetrics: str) -> Iterator[str]:
    """Backfill `openmetrics` (must end with `# EOF`) into a fresh TSDB and serve it read-only-ish."""
    port = free_port()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        (work / "data.om").write_text(openmetrics)
        (work / "prometheus.yml").write_text("global: {scrape_interval: 15s}\nscrape_configs: []\n")
        subprocess.run(
            [
                "promtool",
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                str(work / "data.om"),
                str(work / "tsdb"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        url = f"http://127.0.0.1:{port}"
        cmd = [
            "prometheus",
            f"--config.file={work / 'prometheus.yml'}",
            f"--storage.tsdb.path={work / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=3650d",
        ]
        with _serve(cmd, f"{url}/-/ready", work):
            yield url
