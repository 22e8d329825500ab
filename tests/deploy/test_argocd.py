"""deploy/argocd/cpt-web.yaml: Argo CD owns what Git renders, except the fields other controllers own."""

from __future__ import annotations

from pathlib import Path

from tests.deploy.support import NAMESPACE, REPO, find, load_manifests, render

APP = load_manifests("deploy/argocd/cpt-web.yaml")[0].doc
SPEC = APP["spec"]


def test_application_tracks_the_prod_overlay_into_the_app_namespace() -> None:
    assert APP["metadata"]["name"] == "cpt-web"
    assert SPEC["source"]["path"] == "deploy/overlays/prod"
    assert (REPO / Path(SPEC["source"]["path"]) / "kustomization.yaml").is_file()
    assert SPEC["source"]["targetRevision"] == "main"
    assert SPEC["destination"]["namespace"] == NAMESPACE


def test_sync_is_automated_with_prune_and_self_heal() -> None:
    automated = SPEC["syncPolicy"]["automated"]

    assert automated["prune"] is True
    assert automated["selfHeal"] is True


def test_replicas_belong_to_the_hpa_and_the_self_heal_job_not_to_git() -> None:
    """Without this, Argo CD's selfHeal and the HPA (stable) or the job (canary) undo each other forever."""
    manifests = list(render("deploy/overlays/prod"))
    hpa_target = find(manifests, "HorizontalPodAutoscaler", "dese-ea-plan-v5")["spec"]["scaleTargetRef"][
        "name"
    ]
    deployments = {m.name for m in manifests if m.kind == "Deployment"}
    ignoring_replicas = {
        d["name"]
        for d in SPEC["ignoreDifferences"]
        if d["kind"] == "Deployment" and "/spec/replicas" in d["jsonPointers"]
    }

    assert ignoring_replicas == deployments == {hpa_target, "dese-ea-plan-v5-canary"}
    # Without RespectIgnoreDifferences a sync triggered by any other change would still reset replicas.
    assert "RespectIgnoreDifferences=true" in SPEC["syncPolicy"]["syncOptions"]


def test_restarts_by_the_self_heal_job_are_not_reverted() -> None:
    pointers = [p for d in SPEC["ignoreDifferences"] for p in d["jsonPointers"]]

    assert "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt" in pointers
