"""Real servers from Debian's packages, started on 127.0.0.1 for one test module and stopped after.

with pushgateway() as url: ...
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
