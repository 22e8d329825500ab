"""Missing probes: a finding (info) per Deployment, never an action."""

from __future__ import annotations

from selfheal.detectors import probes
from selfheal.detectors.base import DetectorConfig
from selfheal.findings import CauseCode, Severity
from tests.builders import NOW, make_container, make_deployment, make_template, snapshot_of


def test_containers_without_probes_are_listed_and_nothing_is_proposed():
    sidecar = {"name": "proxy", "image": "envoy:1.30", "readinessProbe": {"tcpSocket": {"port": 15000}}}
    template = make_template("web", containers=[make_container("web", probes=False), sidecar])
    dep = make_deployment("web", template=template)

    [finding] = probes.detect(snapshot_of(dep, make_deployment("api")), DetectorConfig(), NOW)

    assert finding.workload.name == "web" and finding.severity == Severity.INFO
    assert finding.cause.code == CauseCode.MISSING_PROBES
    assert finding.evidence == (
        "container web: no liveness and no readiness probe",
        "container proxy: no liveness probe",
    )
    assert finding.actions == () and not finding.failing
