"""Configuration drift: the live pod template vs the config hash CI recorded, and ConfigMap changes.

1. Config-hash drift. `selfheal.dev/config-hash` on the Deployment is the hash of its template as
   written (`selfheal.confighash`). When the live template hashes differently, the template is
   restored from the first trustworthy source: the template in `last-applied-configuration` if IT
   hashes to the recorded value, else the newest ReplicaSet whose template does. Template
   annotations the hash ignores (restartedAt, config-checksum) keep their live values in the
   restored template, so a restore never causes a second, unrelated rollout. No source -> refused
   (`no_restore_source`): report, don't guess.
2. ConfigMap drift. A template annotated `selfheal.dev/config-checksum` records the combined
   checksum of the ConfigMaps it reads; when their content changed, a rolling restart writes the new
   checksum into the template (which is what restarts the pods). A ConfigMap that is gone refuses the
   restart (`configmap_missing`); one that could not be decoded is not gone, its content is unknown:
   refused too (`undecodable_object`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from selfheal.confighash import (
    IGNORED_TEMPLATE_ANNOTATIONS,
    combined_checksum,
    config_hash,
    drifted_fields,
    is_config_hash,
)
from selfheal.detectors.base import DetectorConfig, not_decoded, propose
from selfheal.findings import ActionKind, Cause, CauseCode, Finding, Ladder, Refusal, Severity, SkipCode
from selfheal.kube import requests
from selfheal.kube.annotations import last_applied
from selfheal.kube.model import ANN_CONFIG_CHECKSUM, ANN_CONFIG_HASH, Deployment
from selfheal.kube.refs import ref_of
from selfheal.kube.revisions import without_hash_label
from selfheal.view import Snapshot

NAME = "config_drift"


def _last_applied_template(dep: Deployment) -> dict[str, Any] | None:
    applied = last_applied(dep)
    spec = applied.get("spec") if applied is not None else None
    template = spec.get("template") if isinstance(spec, dict) else None
    return template if isinstance(template, dict) else None


def restore_source(snapshot: Snapshot, dep: Deployment, recorded: str) -> tuple[str, dict[str, Any]] | None:
    """(description, template) of the first source whose template hashes to `recorded`."""
    applied = _last_applied_template(dep)
    if applied is not None and config_hash(applied) == recorded:
        return "last-applied-configuration", applied
    ranked = sorted(snapshot.replicasets_of(dep), key=lambda rs: rs.revision() or -1, reverse=True)
    for rs in ranked:
        template = without_hash_label(rs.template_doc())
        if config_hash(template) == recorded:
            return f"ReplicaSet {rs.metadata.name} (revision {rs.revision()})", template
    return None


def _with_live_ignored_annotations(template: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    live_ann = (live.get("metadata") or {}).get("annotations") or {}
    meta = dict(template.get("metadata") or {})
    ann = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in IGNORED_TEMPLATE_ANNOTATIONS}
    ann.update({k: v for k, v in live_ann.items() if k in IGNORED_TEMPLATE_ANNOTATIONS})
    if ann:
        meta["annotations"] = ann
    else:
        meta.pop("annotations", None)
    return {**template, "metadata": meta}


def _hash_finding(snapshot: Snapshot, dep: Deployment) -> Finding | None:
    recorded = dep.metadata.annotations.get(ANN_CONFIG_HASH)
    if recorded is None:
        return None
    workload = ref_of("Deployment", dep.metadata)
    name = dep.metadata.name
    if not is_config_hash(recorded):
        text = f"{ANN_CONFIG_HASH}={recorded!r} is not sha256:<64 hex>"
        action = propose(
            ActionKind.RESTORE_TEMPLATE,
            workload,
            (),
            reason=CauseCode.INVALID_ANNOTATION.value,
            ladder=Ladder.CONFIG,
            detector=NAME,
            severity=Severity.WARNING,
            summary=f"restore the template of {name}",
            refusal=Refusal(SkipCode.INVALID_ANNOTATION, text),
        )
        return Finding(
            NAME, workload, Severity.WARNING, Cause(CauseCode.INVALID_ANNOTATION, text), (text,), (action,)
        )
    live = dep.template_doc()
    live_hash = config_hash(live)
    if live_hash == recorded:
        return None
    source = restore_source(snapshot, dep, recorded)
    evidence = [f"recorded {recorded}", f"live {live_hash}"]
    if source is None:
        summary = f"the live template of {name} differs from the recorded config hash"
        action = propose(
            ActionKind.RESTORE_TEMPLATE,
            workload,
            (),
            reason=CauseCode.CONFIG_HASH_DRIFT.value,
            ladder=Ladder.CONFIG,
            detector=NAME,
            severity=Severity.WARNING,
            summary=f"restore the template of {name}",
            refusal=Refusal(
                SkipCode.NO_RESTORE_SOURCE,
                "neither last-applied-configuration nor any ReplicaSet has a template with the recorded hash",
            ),
        )
        return Finding(
            NAME,
            workload,
            Severity.WARNING,
            Cause(CauseCode.CONFIG_HASH_DRIFT, summary),
            tuple(evidence),
            (action,),
        )
    origin, template = source
    fields = drifted_fields(template, live)
    summary = f"drifted: {', '.join(fields[:5])}" + (f" (+{len(fields) - 5} more)" if len(fields) > 5 else "")
    evidence += [f"drifted field {f}" for f in fields[:10]] + [f"restore from {origin}"]
    action = propose(
        ActionKind.RESTORE_TEMPLATE,
        workload,
        (requests.restore_template(dep, _with_live_ignored_annotations(template, live)),),
        reason=CauseCode.CONFIG_HASH_DRIFT.value,
        ladder=Ladder.CONFIG,
        detector=NAME,
        severity=Severity.WARNING,
        summary=f"restore the template of {name} from {origin}",
    )
    return Finding(
        NAME,
        workload,
        Severity.WARNING,
        Cause(CauseCode.CONFIG_HASH_DRIFT, summary),
        tuple(evidence),
        (action,),
    )


def _checksum_finding(snapshot: Snapshot, dep: Deployment, now: datetime) -> Finding | None:
    recorded = dep.spec.template.metadata.annotations.get(ANN_CONFIG_CHECKSUM)
    names = dep.spec.template.configmap_names()
    if recorded is None or not names:
        return None
    per_cm = {n: snapshot.configmap_checksums.get(n) for n in names}
    current = combined_checksum(per_cm)
    if current == recorded:
        return None
    workload = ref_of("Deployment", dep.metadata)
    summary = f"ConfigMaps {', '.join(names)} changed since the pods started"
    evidence = (
        f"recorded {recorded}",
        f"current {current}",
        *(f"configmap {n}: {c or 'missing'}" for n, c in per_cm.items()),
    )
    action = propose(
        ActionKind.ROLLOUT_RESTART,
        workload,
        (requests.template_annotation(dep, ANN_CONFIG_CHECKSUM, current),),
        reason=CauseCode.CONFIGMAP_CHANGED.value,
        ladder=Ladder.CONFIG,
        detector=NAME,
        severity=Severity.WARNING,
        summary=f"rolling restart of {dep.metadata.name} with the new config checksum",
    )
    missing = [n for n, c in per_cm.items() if c is None]
    unreadable = tuple(p for n in missing if (p := snapshot.configmap_problem(n)) is not None)
    if unreadable:
        action = replace(
            action,
            refusal=Refusal(
                SkipCode.UNDECODABLE_OBJECT,
                f"{not_decoded(unreadable)} could not be decoded: its content, and so the checksum, is unknown",
            ),
        )
    elif missing:  # the running pods still have the old content; new ones would not start at all
        action = replace(
            action,
            refusal=Refusal(
                SkipCode.CONFIGMAP_MISSING,
                f"ConfigMap {', '.join(missing)} is gone: restarted pods would fail with CreateContainerConfigError "
                "(restore it, or remove the reference)",
            ),
        )
    return Finding(
        NAME, workload, Severity.WARNING, Cause(CauseCode.CONFIGMAP_CHANGED, summary), evidence, (action,)
    )


def detect(snapshot: Snapshot, config: DetectorConfig, now: datetime) -> list[Finding]:
    findings: list[Finding] = []
    for dep in snapshot.deployments:
        for finding in (_hash_finding(snapshot, dep), _checksum_finding(snapshot, dep, now)):
            if finding is not None:
                findings.append(finding)
    return findings
