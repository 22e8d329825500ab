"""The official `kubernetes` client against the sandbox over real HTTP."""

from __future__ import annotations

import json
import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.builders import bare_pod, deployment, pdb
from tests.kubesandbox.worlds import running


def _status(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_lists_page_through_a_large_namespace_with_continue_tokens():
    with running() as sb:
        for i in range(1203):
            sb.put(bare_pod(f"pod-{i:04d}"))
        core = client.CoreV1Api(sb.api_client())
        seen, pages, token = [], 0, None
        while True:
            page = core.list_namespaced_pod("shop", limit=500, _continue=token)
            pages += 1
            seen += [p.metadata.name for p in page.items]
            token = page.metadata._continue
            if pages == 1:
                assert page.metadata.remaining_item_count == 703
            if not token:
                break
        assert pages == 3
        assert seen == sorted(f"pod-{i:04d}" for i in range(1203))
        lists = [r for r in sb.requests if r.method == "GET" and r.path.endswith("/pods")]
        assert len(lists) == 3 and all("limit=500" in r.query for r in lists)


def test_an_expired_continue_token_answers_410_gone():
    with running() as sb:
        for i in range(3):
            sb.put(bare_pod(f"p{i}"))
        core = client.CoreV1Api(sb.api_client())
        token = core.list_namespaced_pod("shop", limit=1).metadata._continue
        sb.advance(301)  # past etcd's 5-minute compaction
        with pytest.raises(ApiException) as err:
            core.list_namespaced_pod("shop", limit=1, _continue=token)
        assert err.value.status == 410
        assert _status(err.value)["reason"] == "Expired"


def test_label_selectors_filter_lists_including_set_based():
    with running(deployment("web", replicas=2), deployment("api", replicas=1), settle=20) as sb:
        core = client.CoreV1Api(sb.api_client())
        assert len(core.list_namespaced_pod("shop", label_selector="app=web").items) == 2
        assert len(core.list_namespaced_pod("shop", label_selector="app in (web,api)").items) == 3
        assert len(core.list_namespaced_pod("shop", label_selector="app notin (web)").items) == 1
        assert len(core.list_namespaced_pod("shop", label_selector="!app").items) == 0


def test_a_strategic_patch_is_attributed_to_its_field_manager_and_bumps_generation():
    with running(deployment("web", replicas=2), settle=20) as sb:
        apps = client.AppsV1Api(sb.api_client())
        before = apps.read_namespaced_deployment("web", "shop")
        after = apps.patch_namespaced_deployment(
            "web",
            "shop",
            {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "shop/web:2"}]}}}},
            field_manager="selfheal",
        )
        assert after.spec.template.spec.containers[0].image == "shop/web:2"
        assert after.metadata.generation == before.metadata.generation + 1
        assert int(after.metadata.resource_version) > int(before.metadata.resource_version)
        managers = {m.manager for m in after.metadata.managed_fields}
        assert "selfheal" in managers


def test_a_write_with_a_stale_resource_version_gets_409_conflict():
    with running(deployment("web", replicas=1), settle=10) as sb:
        apps = client.AppsV1Api(sb.api_client())
        stale = apps.read_namespaced_deployment("web", "shop")
        apps.patch_namespaced_deployment("web", "shop", {"metadata": {"labels": {"touched": "yes"}}})
        stale.spec.replicas = 5
        with pytest.raises(ApiException) as err:
            apps.replace_namespaced_deployment("web", "shop", stale)
        assert err.value.status == 409
        body = _status(err.value)
        assert body["reason"] == "Conflict"
        assert "the object has been modified" in body["message"]
        assert sb.get("Deployment", "web")["spec"]["replicas"] == 1


def test_dry_run_answers_but_stores_nothing():
    with running(deployment("web", replicas=1), settle=10) as sb:
        apps = client.AppsV1Api(sb.api_client())
        rv = sb.get("Deployment", "web")["metadata"]["resourceVersion"]
        answer = apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": 4}}, dry_run="All")
        assert answer.spec.replicas == 4
        assert sb.get("Deployment", "web")["spec"]["replicas"] == 1
        assert sb.get("Deployment", "web")["metadata"]["resourceVersion"] == rv
        with pytest.raises(ApiException) as err:  # dry-run still validates
            apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": -1}}, dry_run="All")
        assert err.value.status == 422


def test_eviction_respects_a_pod_disruption_budget():
    with running(
        deployment("web", replicas=2), pdb("web", selector={"app": "web"}, min_available=2), settle=30
    ) as sb:
        core = client.CoreV1Api(sb.api_client())
        pod = core.list_namespaced_pod("shop", label_selector="app=web").items[0].metadata.name
        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace="shop"))
        with pytest.raises(ApiException) as err:
            core.create_namespaced_pod_eviction(pod, "shop", body)
        assert err.value.status == 429
        assert "disruption budget" in _status(err.value)["message"]
        assert sb.find("Pod", pod) is not None

        sb.put(
            {
                **sb.get("PodDisruptionBudget", "web"),
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "minAvailable": 1},
            }
        )
        sb.advance(1)
        core.create_namespaced_pod_eviction(pod, "shop", body)
        sb.advance(5)
        assert sb.find("Pod", pod) is None
        sb.advance(20)
        assert len(sb.list("Pod", label_selector="app=web")) == 2  # the ReplicaSet replaced it


def test_errors_are_status_objects_with_real_reasons():
    with running() as sb:
        apps = client.AppsV1Api(sb.api_client())
        with pytest.raises(ApiException) as err:
            apps.read_namespaced_deployment("nope", "shop")
        body = _status(err.value)
        assert (err.value.status, body["kind"], body["reason"]) == (404, "Status", "NotFound")
        assert body["message"] == 'deployments.apps "nope" not found'
        bad = deployment("bad")
        bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
        with pytest.raises(ApiException) as err:
            apps.create_namespaced_deployment("shop", bad)
        assert err.value.status == 422
        assert "selector` does not match template `labels`" in _status(err.value)["message"]
        apps.create_namespaced_deployment("shop", deployment("good"))
        with pytest.raises(ApiException) as err:
            apps.create_namespaced_deployment("shop", deployment("good"))
        assert (err.value.status, _status(err.value)["reason"]) == (409, "AlreadyExists")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_injected_faults_reach_the_client(status):
    with running(deployment("web", replicas=1)) as sb:
        apps = client.AppsV1Api(sb.api_client())
        sb.inject("GET", r"/deployments/web$", status=status, times=1)
        with pytest.raises(ApiException) as err:
            apps.read_namespaced_deployment("web", "shop")
        assert err.value.status == status
        assert json.loads(err.value.body)["code"] == status
        assert apps.read_namespaced_deployment("web", "shop").metadata.name == "web"  # only once


def test_the_client_itself_retries_a_429_that_carries_retry_after():
    """urllib3's default Retry honours Retry-After on 413/429/503: the caller never sees that 429."""
    with running(deployment("web", replicas=1)) as sb:
        apps = client.AppsV1Api(sb.api_client())
        sb.clear_requests()
        sb.inject("GET", r"/deployments/web$", status=429, retry_after=0, times=1)
        assert apps.read_namespaced_deployment("web", "shop").metadata.name == "web"
        assert (
            len([r for r in sb.requests if r.path.endswith("/deployments/web")]) == 1
        )  # the 429 is not logged


def test_a_delay_fault_trips_the_client_timeout_and_a_drop_closes_the_connection():
    """urllib3 (under the official client) retries an idempotent GET three times: four faults surface."""
    import urllib3

    with running(deployment("web", replicas=1)) as sb:
        apps = client.AppsV1Api(sb.api_client())
        sb.inject("GET", r"/deployments/web$", delay=1.0, times=4)
        with pytest.raises(urllib3.exceptions.MaxRetryError) as err:
            apps.read_namespaced_deployment("web", "shop", _request_timeout=0.2)
        assert isinstance(err.value.reason, urllib3.exceptions.ReadTimeoutError)
        sb.inject("GET", r"/deployments/web$", drop=True, times=4)
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            apps.read_namespaced_deployment("web", "shop", _request_timeout=5)
        assert apps.read_namespaced_deployment("web", "shop").metadata.name == "web"


def test_delete_with_orphan_keeps_dependents_and_background_collects_them():
    with running(deployment("web", replicas=2), deployment("api", replicas=1), settle=20) as sb:
        apps = client.AppsV1Api(sb.api_client())
        apps.delete_namespaced_deployment("web", "shop", propagation_policy="Orphan")
        sb.advance(5)
        rs = [r for r in sb.list("ReplicaSet") if r["metadata"]["name"].startswith("web-")]
        assert rs and not rs[0]["metadata"].get("ownerReferences")
        apps.delete_namespaced_deployment("api", "shop", propagation_policy="Background")
        sb.advance(40)
        assert not [r for r in sb.list("ReplicaSet") if r["metadata"]["name"].startswith("api-")]
        assert not sb.list("Pod", label_selector="app=api")


def test_delete_preconditions_protect_against_deleting_a_replacement():
    with running(bare_pod("debug")) as sb:
        core = client.CoreV1Api(sb.api_client())
        with pytest.raises(ApiException) as err:
            core.delete_namespaced_pod(
                "debug",
                "shop",
                body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-the-uid")),
            )
        assert err.value.status == 409
        assert (
            "the UID in the precondition (not-the-uid) does not match the UID in record"
            in _status(err.value)["message"]
        )
        uid = sb.get("Pod", "debug")["metadata"]["uid"]
        core.delete_namespaced_pod(
            "debug",
            "shop",
            body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(uid=uid), grace_period_seconds=0
            ),
        )
        assert sb.find("Pod", "debug") is None


def test_a_watch_streams_changes_after_a_list():
    with running(deployment("web", replicas=1), settle=10) as sb:
        apps = client.AppsV1Api(sb.api_client())
        rv = apps.list_namespaced_deployment("shop").metadata.resource_version
        events: list[tuple[str, int]] = []

        def consume() -> None:
            w = watch.Watch()
            for ev in w.stream(
                apps.list_namespaced_deployment, "shop", resource_version=rv, timeout_seconds=5
            ):
                events.append((ev["type"], ev["object"].spec.replicas))
                if ev["object"].spec.replicas == 3:
                    w.stop()

        t = threading.Thread(target=consume)
        t.start()
        apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 3}})
        t.join(timeout=10)
        assert ("MODIFIED", 3) in events


def test_a_patch_that_changes_nothing_is_not_a_write_and_is_not_attributed():
    with running(deployment("web", replicas=2), settle=10) as sb:
        apps = client.AppsV1Api(sb.api_client())
        before = sb.get("Deployment", "web")
        apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": 2}}, field_manager="idle")
        after = sb.get("Deployment", "web")
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        assert after["metadata"].get("managedFields") == before["metadata"].get("managedFields")
        apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": 3}}, field_manager="busy")
        managers = {m["manager"] for m in sb.get("Deployment", "web")["metadata"]["managedFields"]}
        assert "busy" in managers and "idle" not in managers
