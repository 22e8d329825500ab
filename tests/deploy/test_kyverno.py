"""policies/kyverno/prevent-drift.yaml under the real Kyverno engine (the CLI built by tools/kyverno/build.sh).

`kyverno test policies/kyverno/tests` must pass, row by row: `kyverno test` alone counts a result whose rule
never ran (not matched, or excluded) as passed whatever it expected, so each expected pass or fail must come
with a rule result of its own (reason `Ok`). Mutants of the policy (an exception removed, the scale
subresource dropped, a person exempted, ...) must make the suite fail, so it cannot pass vacuously.
`kyverno apply` then checks what `kyverno test` cannot: the guide's Enforce/audit switch and `--audit-warn`.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.support import REPO, Doc, load_docs, path_without_go, run

BUILD = REPO / "tools" / "kyverno" / "build.sh"
POLICY_PATH = REPO / "policies" / "kyverno" / "prevent-drift.yaml"
SUITE = REPO / "policies" / "kyverno" / "tests"
# One per (Test, rule, resource) in kyverno-test.yaml: adding or dropping a case must be deliberate.
EXPECTED_RESULTS = 54
SIGNATURE_RULES = {
    "verify-image-signatures",
    "autogen-verify-image-signatures",
    "autogen-cronjob-verify-image-signatures",
}


@cache
def kyverno() -> str:
    """The pinned Kyverno CLI; the first build takes minutes (go build from the module proxy)."""
    result = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1:] or [f"exit code {result.returncode}"]
        pytest.fail(f"tools/kyverno/build.sh failed: {reason[0]}")
    return result.stdout.strip()


@dataclass(frozen=True)
class Expected:
    test: str
    rule: str
    resource: str  # namespace/name
    result: str  # pass, fail or skip


def expectations(suite: Path) -> list[Expected]:
    return [
        Expected(test["metadata"]["name"], result["rule"], resource, result["result"])
        for test in load_docs(suite / "kyverno-test.yaml")
        for result in test["results"]
        for resource in result["resources"]
    ]


@dataclass
class SuiteRun:
    returncode: int
    output: str
    tables: list[list[Doc]]  # one per Test, in file order: the rows `kyverno test -o json` prints


def run_suite(suite: Path) -> SuiteRun:
    result = run([kyverno(), "test", str(suite), "-o", "json", "--detailed-results", "--remove-color"])
    output = result.stdout + result.stderr
    decoder = json.JSONDecoder()
    tables = []
    for start in (m.start() for m in re.finditer(r"^\[", result.stdout, re.MULTILINE)):
        table, _ = decoder.raw_decode(result.stdout[start:])
        tables.append(table)
    return SuiteRun(result.returncode, output, tables)


def problems(suite: Path, outcome: SuiteRun) -> list[str]:
    """What is wrong with a run of the suite, by Test: [] when every expected result is really there."""
    tests = [t["metadata"]["name"] for t in load_docs(suite / "kyverno-test.yaml")]
    found: list[str] = []
    if outcome.returncode != 0:
        found.append(f"kyverno test exited with {outcome.returncode}")
    if len(outcome.tables) != len(tests):
        return [*found, f"{len(outcome.tables)} result tables for {len(tests)} Tests:\n{outcome.output}"]
    by_test: dict[str, list[Expected]] = {name: [] for name in tests}
    for e in expectations(suite):
        by_test[e.test].append(e)
    for name, table in zip(tests, outcome.tables, strict=True):
        for e in by_test[name]:
            rows = [r for r in table if r["RULE"] == e.rule and r["RESOURCE"].endswith(f"/{e.resource}")]
            if not rows:
                found.append(f"{name}: {e.rule} {e.resource}: no result")
            for r in rows:
                if r["RESULT"] != "Pass":
                    found.append(f"{name}: {e.rule} {e.resource}: {r['REASON']} ({r.get('Message', '')})")
            ran = [r for r in rows if r["REASON"] != "Excluded"]
            # A rule that did not run is reported as passed whatever was expected: only `skip` may say so.
            if e.result != "skip" and not ran:
                found.append(f"{name}: {e.rule} {e.resource}: expected {e.result}, but the rule did not run")
        unexpected = [
            r
            for r in table
            if not any(
                r["RULE"] == e.rule and r["RESOURCE"].endswith(f"/{e.resource}") for e in by_test[name]
            )
        ]
        found += [f"{name}: unexpected row {r}" for r in unexpected]
    return found


@cache
def suite_run() -> SuiteRun:
    return run_suite(SUITE)


def test_the_kyverno_cli_is_the_pinned_version() -> None:
    pinned = re.search(r"^\s*github\.com/kyverno/kyverno (v\S+)", (BUILD.parent / "go.mod").read_text(), re.M)
    assert pinned

    result = run([kyverno(), "version"])

    assert result.returncode == 0, result.stderr
    assert f"Version: {pinned.group(1)}" in result.stdout
    assert Path(kyverno()) == REPO / ".tools" / "kyverno" / pinned.group(1) / "kyverno"


def test_the_build_is_a_no_op_once_built_and_says_where() -> None:
    built = kyverno()
    before = Path(built).stat().st_mtime_ns

    result = subprocess.run(["bash", str(BUILD)], capture_output=True, text=True, timeout=60, check=False)

    assert (result.returncode, result.stdout, result.stderr) == (0, f"{built}\n", "")
    assert Path(built).stat().st_mtime_ns == before


def test_a_missing_go_is_a_one_line_error_naming_what_to_install(tmp_path: Path) -> None:
    """In a fresh clone (no .tools/kyverno yet) without Go: no traceback, no skip, one line."""
    shutil.copytree(BUILD.parent, tmp_path / "tools" / "kyverno")
    env = {**os.environ, "PATH": path_without_go()}

    result = subprocess.run(
        ["bash", str(tmp_path / "tools" / "kyverno" / "build.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("build.sh: go is not installed: install Go 1.26.6 or newer")


def test_the_suite_passes_with_every_expected_result() -> None:
    outcome = suite_run()

    assert problems(SUITE, outcome) == []
    assert len(expectations(SUITE)) == EXPECTED_RESULTS
    rows = sum(len(t) for t in outcome.tables)
    assert f"Test Summary: {rows} tests passed and 0 tests failed" in outcome.output


def test_the_suite_covers_each_rule_and_each_exception_of_the_policy() -> None:
    policy = load_docs(POLICY_PATH)[0]
    cases = expectations(SUITE)
    results_by_rule: dict[str, set[str]] = {}
    for e in cases:
        results_by_rule.setdefault(e.rule.removeprefix("autogen-"), set()).add(e.result)
    rules = {r["name"] for r in policy["spec"]["rules"]}

    # verifyImages needs the registry: the only rule without a result (kyverno-test.yaml says why).
    assert set(results_by_rule) == rules - {"verify-image-signatures"}
    for rule, results in results_by_rule.items():
        assert {"pass", "fail"} <= results or rule == "deny-manual-deployment-changes", rule
    # Every subject and cluster role the deny rule exempts has a Test (userinfo) that expects `skip`.
    deny = next(r for r in policy["spec"]["rules"] if r["name"] == "deny-manual-deployment-changes")
    exempt_users = set()
    for entry in deny["exclude"]["any"]:
        for s in entry.get("subjects", []):
            exempt_users.add(
                f"system:serviceaccount:{s['namespace']}:{s['name']}"
                if s["kind"] == "ServiceAccount"
                else s["name"]
            )
        exempt_users.update(entry.get("clusterRoles", []))
    skipped_users = set()
    for test in load_docs(SUITE / "kyverno-test.yaml"):
        if any(
            r["rule"] == "deny-manual-deployment-changes" and r["result"] == "skip" for r in test["results"]
        ):
            if any(r.get("operation") == "CREATE" for r in test["results"]):
                continue
            info = yaml.safe_load((SUITE / test["userinfo"]).read_text())
            skipped_users.add(info["userInfo"]["username"])
            skipped_users.update(info["userInfo"].get("groups", []))
            skipped_users.update(info.get("clusterRoles", []))
    assert exempt_users <= skipped_users


def mutant_suite(tmp_path: Path, mutate: Any) -> Path:
    """A copy of the suite next to a mutated copy of the policy (kyverno-test.yaml names ../prevent-drift.yaml)."""
    suite = tmp_path / "tests"
    shutil.copytree(SUITE, suite)
    policy = copy.deepcopy(load_docs(POLICY_PATH)[0])
    mutate({r["name"]: r for r in policy["spec"]["rules"]}, policy)
    (tmp_path / "prevent-drift.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    return suite


def drop_subject(name: str) -> Any:
    def mutate(rules: dict[str, Doc], _policy: Doc) -> None:
        for entry in rules["deny-manual-deployment-changes"]["exclude"]["any"]:
            if "subjects" in entry:
                entry["subjects"] = [s for s in entry["subjects"] if s["name"] != name]

    return mutate


def drop_scale(rules: dict[str, Doc], _policy: Doc) -> None:
    rules["deny-manual-deployment-changes"]["match"]["any"][0]["resources"]["kinds"] = ["Deployment"]


def exempt_everyone_authenticated(rules: dict[str, Doc], _policy: Doc) -> None:
    rules["deny-manual-deployment-changes"]["exclude"]["any"].append(
        {"subjects": [{"kind": "Group", "name": "system:authenticated"}]}
    )


def trust_any_namespace(rules: dict[str, Doc], _policy: Doc) -> None:
    conditions = rules["isolate-namespace-rbac"]["validate"]["foreach"][0]["deny"]["conditions"]["any"]
    rules["isolate-namespace-rbac"]["validate"]["foreach"][0]["deny"]["conditions"]["any"] = [
        c for c in conditions if "ServiceAccount" not in str(c["key"])
    ]


def allow_host_network(rules: dict[str, Doc], _policy: Doc) -> None:
    del rules["isolate-namespace-host-access"]["validate"]["pattern"]["spec"]["=(hostNetwork)"]


def explicit_namespace_only(rules: dict[str, Doc], _policy: Doc) -> None:
    """The policy before this suite: a namespace-less ServiceAccount subject counted as another namespace's."""
    for c in rules["isolate-namespace-rbac"]["validate"]["foreach"][0]["deny"]["conditions"]["any"]:
        c["key"] = str(c["key"]).replace("(element.namespace || 'dese-ea-plan-v5')", "element.namespace")


MUTANTS = {
    # mutation: the Tests that must notice it
    "self-heal-cpt-not-exempt": (
        drop_subject("self-heal-cpt"),
        {"self-heal-cpt-updates-the-deployment", "self-heal-cpt-scales-the-deployment"},
    ),
    "argocd-not-exempt": (
        drop_subject("argocd-application-controller"),
        {
            "argocd-application-controller-updates-the-deployment",
            "argocd-application-controller-scales-the-deployment",
        },
    ),
    "hpa-not-exempt": (
        drop_subject("horizontal-pod-autoscaler"),
        {
            "horizontal-pod-autoscaler-scales-the-deployment",
            "horizontal-pod-autoscaler-updates-the-deployment",
        },
    ),
    # kyverno test alone passes these two: the rule no longer runs, and "Excluded" counts as a pass.
    "scale-not-matched": (
        drop_scale,
        {
            "a-person-scales-the-deployment",
            "self-heal-cpt-other-namespace-scales-the-deployment",
            "argocd-server-scales-the-deployment",
        },
    ),
    "everyone-exempt": (
        exempt_everyone_authenticated,
        {"a-person-updates-the-deployment", "a-person-scales-the-deployment"}
        | {
            f"{who}-{verb}-the-deployment"
            for who in ("self-heal-cpt-other-namespace", "argocd-server")
            for verb in ("updates", "scales")
        },
    ),
    "service-accounts-of-any-namespace": (trust_any_namespace, {"what-objects-must-look-like"}),
    "host-network-allowed": (allow_host_network, {"what-objects-must-look-like"}),
    "explicit-namespace-only": (explicit_namespace_only, {"what-objects-must-look-like"}),
}


@pytest.mark.parametrize("name", MUTANTS)
def test_the_suite_fails_for_a_broken_policy(name: str, tmp_path: Path) -> None:
    mutate, noticing = MUTANTS[name]
    suite = mutant_suite(tmp_path, mutate)

    found = problems(suite, run_suite(suite))

    assert found, f"the suite passes with the {name} mutant"
    assert {p.split(":")[0] for p in found if not p.startswith("kyverno test exited")} == noticing


def test_kyverno_test_alone_misses_a_rule_that_stopped_running(tmp_path: Path) -> None:
    """Why problems() checks reasons: with Deployment/scale unmatched, `kyverno test` still exits 0."""
    suite = mutant_suite(tmp_path, drop_scale)

    outcome = run_suite(suite)

    assert outcome.returncode == 0
    assert problems(suite, outcome) != []


# kyverno apply: the guide's command and its Enforce/audit switch.


def summary(output: str) -> dict[str, int]:
    """`pass: 11, fail: 6, warn: 0, error: 0, skip: 0` as a dict."""
    match = re.search(r"pass: (\d+), fail: (\d+), warn: (\d+), error: (\d+), skip: (\d+)", output)
    assert match, output
    return dict(zip(("pass", "fail", "warn", "error", "skip"), map(int, match.groups()), strict=True))


def failed_rules(output: str) -> set[str]:
    """Rule names from `kyverno apply`'s `N - rule message` lines under `... failed:`."""
    return set(re.findall(r"^\d+ - (\S+) ", output, re.MULTILINE))


def policy_variant(tmp_path: Path, action: str | None = None, signatures: bool = True) -> Path:
    """The policy as the guide switches it (`replace /spec/validationFailureAction`), optionally without the
    verifyImages rule, as CI's policy-check job runs it offline."""
    policy = copy.deepcopy(load_docs(POLICY_PATH)[0])
    if action is not None:
        policy["spec"]["validationFailureAction"] = action
    if not signatures:
        policy["spec"]["rules"] = [r for r in policy["spec"]["rules"] if "verifyImages" not in r]
    path = tmp_path / f"policy-{action}-{signatures}.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """`--resource` arguments for what the guide applies: the prod overlay and the self-heal job."""
    directory = tmp_path_factory.mktemp("rendered")
    result = run(["kubectl", "kustomize", str(REPO / "deploy" / "overlays" / "prod")])
    assert result.returncode == 0, result.stderr
    (directory / "prod.yaml").write_text(result.stdout)
    return [
        "--resource",
        str(directory / "prod.yaml"),
        "--resource",
        str(REPO / "aiops" / "self-heal-job.yaml"),
    ]


def apply(policy: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return run([kyverno(), "apply", str(policy), *args, "--remove-color"], cwd=REPO)


def test_the_guides_command_needs_resources() -> None:
    """`kyverno apply policies/kyverno/prevent-drift.yaml --audit-warn`, exactly as the guide has it."""
    result = apply("policies/kyverno/prevent-drift.yaml", "--audit-warn")

    assert result.returncode != 0
    assert "resource file(s) or cluster required" in result.stdout + result.stderr


def test_the_guides_command_with_the_rendered_manifests(rendered: list[str]) -> None:
    """Every rule but the signature check passes; verifyImages needs the registry (and Sigstore's TUF root),
    so offline it fails, and in Enforce that fails the command even with --audit-warn."""
    result = apply("policies/kyverno/prevent-drift.yaml", *rendered, "--audit-warn")
    output = result.stdout + result.stderr
    counts = summary(output)

    assert failed_rules(output) <= SIGNATURE_RULES
    assert counts["error"] == 0
    # The 11 of CI's policy check below, plus the signature rules where the registry answers.
    assert counts["pass"] >= 11
    assert (result.returncode != 0) == (counts["fail"] > 0)


def test_ci_policy_check_passes_the_rendered_manifests(rendered: list[str], tmp_path: Path) -> None:
    """What the workflow's policy-check job runs: the policy without verifyImages, enforce."""
    result = apply(policy_variant(tmp_path, signatures=False), *rendered, "--detailed-results", "--table")
    rows = [line.split("│")[5].strip() for line in result.stdout.splitlines() if re.match(r"│ \d+ ", line)]

    assert result.returncode == 0, result.stdout + result.stderr
    # require-config-hash, require-probes and the two autogen Pod rules on each Deployment, the RBAC rule on
    # the job's RoleBinding, the two autogen Pod rules on its CronJob.
    assert rows == ["Pass"] * 11, result.stdout


def test_audit_mode_reports_the_guides_command_as_warnings(rendered: list[str], tmp_path: Path) -> None:
    """After the guide's `kubectl patch ... validationFailureAction audit`, even the signature failures are
    warnings: the command succeeds."""
    result = apply(policy_variant(tmp_path, "audit"), *rendered, "--audit-warn")
    counts = summary(result.stdout + result.stderr)

    assert result.returncode == 0, result.stdout + result.stderr
    assert counts["fail"] == counts["error"] == 0
    assert "failed:" not in result.stdout


@pytest.mark.parametrize(
    ("action", "audit_warn", "exit_code", "reported_as"),
    [
        ("Enforce", True, 1, "fail"),  # as committed: --audit-warn does not soften Enforce
        ("audit", True, 0, "warn"),  # the guide's switch: a warning, and the request would be admitted
        ("audit", False, 1, "fail"),  # --audit-warn only changes how Audit results are reported
    ],
)
def test_a_persons_update_is_denied_in_enforce_and_a_warning_in_audit(
    action: str, audit_warn: bool, exit_code: int, reported_as: str, tmp_path: Path
) -> None:
    deployment = load_docs(SUITE / "resources" / "deployments.yaml")[0]
    resource = tmp_path / "deployment.yaml"
    resource.write_text(yaml.safe_dump(deployment))
    args = [
        "--resource", str(resource),
        "--userinfo", str(SUITE / "userinfo" / "human.yaml"),
        "--values-file", str(SUITE / "values" / "update.yaml"),
    ]  # fmt: skip

    result = apply(
        policy_variant(tmp_path, action, signatures=False), *args, *(["--audit-warn"] if audit_warn else [])
    )
    output = result.stdout + result.stderr

    assert result.returncode == exit_code, output
    assert failed_rules(output) == {"deny-manual-deployment-changes"}
    assert summary(output)[reported_as] == 1
    assert ("failed as audit warning:" in output) == (reported_as == "warn")


def test_argo_cds_update_passes_in_both_modes(tmp_path: Path) -> None:
    deployment = load_docs(SUITE / "resources" / "deployments.yaml")[0]
    resource = tmp_path / "deployment.yaml"
    resource.write_text(yaml.safe_dump(deployment))

    for action in ("Enforce", "audit"):
        result = apply(
            policy_variant(tmp_path, action, signatures=False),
            "--resource", str(resource),
            "--userinfo", str(SUITE / "userinfo" / "argocd-application-controller.yaml"),
            "--values-file", str(SUITE / "values" / "update.yaml"),
        )  # fmt: skip

        assert result.returncode == 0, result.stdout + result.stderr
        assert summary(result.stdout)["fail"] == summary(result.stdout)["warn"] == 0
