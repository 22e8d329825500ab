"""Test-session rules for the whole suite.

- Tests that drive real command-line tools get a marker automatically, from what their module runs:
  `kubectl` (the machine's real kubectl against the sandbox or a real cluster), `prometheus`,
  `pushgateway`. `pytest -m "not kubectl"` leaves them out on purpose.
- A marked test whose tool is missing FAILS with the command that installs it: a validation that
  quietly does not run would let the project rot (no skip, no importorskip).
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest

TOOLS = {
    # marker: (commands it needs, a pattern in the test module's source that means it runs them, install hint)
    "kubectl": (
        ("kubectl",),
        re.compile(r"""\bkubectl\(|["']kubectl["']|\.kubectl\b"""),
        "kubectl 1.32 ships with the machine image",
    ),
    "prometheus": (
        ("prometheus", "promtool"),
        re.compile(r"\bprometheus\(|\bpromtool\b"),
        "`make system-tools` (tools/install-system.sh) installs Debian's prometheus",
    ),
    "pushgateway": (
        ("prometheus-pushgateway",),
        re.compile(r"\bpushgateway\("),
        "`make system-tools` (tools/install-system.sh) installs Debian's prometheus-pushgateway",
    ),
}


@cache
def _source(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


REALK8S = Path(__file__).parent / "realk8s"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        text = _source(path)
        # `-n 2 --dist loadgroup`: a module's tests stay together (module-scoped sandboxes are built once),
        # and every test against the real control plane runs in one worker, so one cluster serves them all.
        if REALK8S in path.parents:
            item.add_marker(pytest.mark.realk8s)
            item.add_marker(pytest.mark.xdist_group("realk8s"))
        else:
            item.add_marker(pytest.mark.xdist_group(str(path)))
        for marker, (_, pattern, _) in TOOLS.items():
            if pattern.search(text):
                item.add_marker(getattr(pytest.mark, marker))


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, (commands, _, hint) in TOOLS.items():
        if item.get_closest_marker(marker) is None:
            continue
        missing = [c for c in commands if shutil.which(c) is None]
        if missing:
            pytest.fail(f"{', '.join(missing)} is not installed: {hint}", pytrace=False)
