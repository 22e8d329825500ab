"""monitoring/prometheus-rules.yaml, checked and unit-tested by promtool.

The rule groups are taken out of the PrometheusRule's spec.groups into a plain rules file, as the
Prometheus Operator hands them to Prometheus. The unit tests live in monitoring/tests/*.test.yaml.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from selfheal.reporting.metrics import RunMetrics, build_registry
from tests.deploy.support import REPO, Doc, cron_interval_seconds, find, load_manifests, run, tool

RULES_DOC = load_manifests("monitoring/prometheus-rules.yaml")[0].doc
GROUPS: list[Doc] = RULES_DOC["spec"]["groups"]
ALERTS: list[Doc] = [r for g in GROUPS for r in g["rules"] if "alert" in r]
RECORDED = {r["record"] for g in GROUPS for r in g["rules"] if "record" in r}
TEST_FILES = sorted((REPO / "monitoring" / "tests").glob("*.test.yaml"))
RULES_FILE = "predictive-alerts.rules.yaml"
PROMTOOL_HINT = "run `bash tools/install-system.sh` (Debian package prometheus)"

# Series the rules may read, by source. kube-state-metrics names as documented in its docs/metrics.
KUBE_STATE_METRICS = {
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
    "kube_deployment_status_replicas_updated",
    "kube_pod_container_status_waiting_reason",
    "kube_horizontalpodautoscaler_status_desired_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
}
APP_METRICS = {"http_requests_total", "http_request_duration_seconds_bucket"}
# Every series name the job pushes (samples of its registry: `_total`, `_bucket`, `_count`, `_sum` included)
PUSHED_BY_THE_JOB = {
    s.name
    for family in build_registry(RunMetrics(canary_traffic={"web": 10}, last_success_timestamp=0.0)).collect()
    for s in family.samples
}

# The guide's alert table: alert, severity, `for`, and the comparison that is its threshold.
GUIDE_ALERTS = [
    ("DeploymentReplicaDrift", "warning", "5m", None),
    ("PodCrashLoopBackOff", "critical", "5m", None),
    ("CanaryHighErrorRate", "critical", None, "> 0.05"),
    ("LatencySLOViolation", "critical", None, "> 1"),
    ("AvailabilitySLOViolation", "critical", None, "> 0.001"),
]


def rules_file() -> str:
    return yaml.safe_dump({"groups": GROUPS}, sort_keys=False)


def unit_test_files() -> dict[Path, Doc]:
    return {path: yaml.safe_load(path.read_text()) for path in TEST_FILES}


def prepare(workdir: Path, groups: list[Doc]) -> None:
    """A directory promtool can run in: the extracted rules next to copies of the unit tests."""
    (workdir / RULES_FILE).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    for path in TEST_FILES:
        shutil.copy(path, workdir / path.name)


def promtool_test(workdir: Path, files: list[str]) -> subprocess.CompletedProcess[str]:
    return run([tool("promtool", PROMTOOL_HINT), "test", "rules", *files], cwd=workdir)


def minutes(duration: str) -> int:
    match = re.fullmatch(r"(\d+)m", duration)
    assert match, f"durations here are written in minutes: {duration!r}"
    return int(match.group(1))


def test_promtool_check_rules_accepts_the_extracted_groups(tmp_path: Path) -> None:
    (tmp_path / RULES_FILE).write_text(rules_file())
    result = run([tool("promtool", PROMTOOL_HINT), "check", "rules", RULES_FILE], cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in GROUPS)} rules found" in result.stdout


def test_promtool_unit_tests_pass(tmp_path: Path) -> None:
    prepare(tmp_path, GROUPS)
    result = promtool_test(tmp_path, [p.name for p in TEST_FILES])

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for doc in unit_test_files().values():
        for group in doc["tests"]:
            for case in group.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    names = {a["alert"] for a in ALERTS}

    assert names - firing == set(), "alerts never tested firing"
    assert names - silent == set(), "alerts never tested staying silent"


def test_unit_tests_evaluate_recording_rules_first() -> None:
    """Without group_eval_order promtool evaluates groups in random order and the tests flake."""
    order = [g["name"] for g in GROUPS]
    for path, doc in unit_test_files().items():
        assert doc["rule_files"] == [RULES_FILE], path.name
        assert doc["group_eval_order"] == order, path.name
        assert order[0].endswith(".recording")


def cases_for(alert: str) -> Doc:
    """One unit-test file holding only the test groups, and their assertions, about one alert."""
    groups = []
    for doc in unit_test_files().values():
        for group in doc["tests"]:
            cases = [c for c in group.get("alert_rule_test", []) if c["alertname"] == alert]
            if cases:
                groups.append({**group, "alert_rule_test": cases, "promql_expr_test": []})
    first = unit_test_files()[TEST_FILES[0]]
    return {**{k: v for k, v in first.items() if k != "tests"}, "tests": groups}


@pytest.mark.parametrize("alert", [a for a in ALERTS if "for" in a], ids=lambda a: a["alert"])
def test_unit_tests_notice_an_alert_firing_a_minute_early(alert: Doc, tmp_path: Path) -> None:
    """Shorten the alert's `for` by one minute: its unit tests must fail, so each duration is pinned."""
    groups = copy.deepcopy(GROUPS)
    for rule in (r for g in groups for r in g["rules"]):
        if rule == alert:
            rule["for"] = f"{minutes(alert['for']) - 1}m"
    (tmp_path / RULES_FILE).write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    (tmp_path / "mutant.test.yaml").write_text(yaml.safe_dump(cases_for(alert["alert"]), sort_keys=False))

    result = promtool_test(tmp_path, ["mutant.test.yaml"])

    assert result.returncode != 0, (
        f"no unit test noticed {alert['alert']} firing after {minutes(alert['for']) - 1}m"
    )
    # Failed on an assertion about this alert, not on a broken file.
    assert f"alertname: {alert['alert']}," in result.stdout + result.stderr


@pytest.mark.parametrize(("name", "severity", "duration", "threshold"), GUIDE_ALERTS)
def test_the_guides_alerts_have_its_severity_duration_and_threshold(
    name: str, severity: str, duration: str | None, threshold: str | None
) -> None:
    (alert,) = [a for a in ALERTS if a["alert"] == name]

    assert alert["labels"]["severity"] == severity
    if duration:
        assert alert["for"] == duration
    if threshold:
        assert alert["expr"].rstrip().endswith(threshold)


def test_self_heal_job_missing_means_three_schedule_intervals() -> None:
    cronjob = find(load_manifests("aiops/self-heal-job.yaml"), "CronJob", "self-heal-cpt")
    interval = cron_interval_seconds(cronjob["spec"]["schedule"])
    (alert,) = [a for a in ALERTS if a["alert"] == "SelfHealJobMissing"]

    assert re.search(rf"\) > {3 * interval}\b", alert["expr"])
    assert f"[{3 * interval // 60}m]" in alert["expr"]


def test_rules_read_only_series_that_exist() -> None:
    """A misspelt metric name gives an alert that can never fire; promtool cannot tell."""
    known = KUBE_STATE_METRICS | APP_METRICS | PUSHED_BY_THE_JOB | RECORDED
    for rule in (r for g in GROUPS for r in g["rules"]):
        selected = set(re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{", rule["expr"]))
        recorded_refs = {t for t in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*(?::[a-zA-Z0-9_]+)+", rule["expr"])}
        assert (selected | recorded_refs) - known == set(), rule.get("alert") or rule.get("record")


def test_kube_state_metrics_series_are_scoped_to_the_app_namespace() -> None:
    for rule in (r for g in GROUPS for r in g["rules"]):
        for selector in re.findall(r"kube_[a-z_]+(\{[^}]*\})?", rule["expr"]):
            assert 'namespace="dese-ea-plan-v5"' in selector, rule.get("alert")
