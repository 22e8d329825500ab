"""The store's own guarantees: resourceVersions, generation, status subresource, no-op writes."""

from __future__ import annotations

import pytest

from kubesandbox.resources import BY_PLURAL
from kubesandbox.resources.clock import Clock
from kubesandbox.resources.errors import ApiError
from kubesandbox.store import Store

NS, DEPLOY, POD = BY_PLURAL[("", "namespaces")], BY_PLURAL[("apps", "deployments")], BY_PLURAL[("", "pods")]


@pytest.fixture()
def store() -> Store:
    s = Store(Clock())
    s.create(NS, {"metadata": {"name": "shop"}})
    return s


def deployment(replicas: int = 1) -> dict:
    return {
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}}},
        "status": {"replicas": 0},
    }


def test_create_fills_identity_and_generation(store):
    d = store.create(DEPLOY, deployment())
    meta = d["metadata"]
    assert (d["apiVersion"], d["kind"]) == ("apps/v1", "Deployment")
    assert meta["generation"] == 1 and meta["uid"] and meta["creationTimestamp"] == "2026-01-01T12:00:00Z"


def test_spec_changes_bump_generation_but_metadata_changes_do_not(store):
    d = store.create(DEPLOY, deployment())
    d["metadata"]["labels"] = {"x": "y"}
    d = store.update(DEPLOY, d)
    assert d["metadata"]["generation"] == 1
    d["spec"]["replicas"] = 3
    d = store.update(DEPLOY, d)
    assert d["metadata"]["generation"] == 2


def test_main_resource_writes_keep_status_and_status_writes_keep_spec(store):
    d = store.create(DEPLOY, deployment())
    d["status"] = {"replicas": 99}
    d["spec"]["replicas"] = 2
    d = store.update(DEPLOY, d)
    assert d["status"] == {"replicas": 0} and d["spec"]["replicas"] == 2
    d["status"] = {"replicas": 2}
    d["spec"]["replicas"] = 7
    d = store.update(DEPLOY, d, subresource="status")
    assert d["status"] == {"replicas": 2} and d["spec"]["replicas"] == 2


def test_a_no_op_write_does_not_bump_the_resource_version(store):
    d = store.create(DEPLOY, deployment())
    again = store.update(DEPLOY, d)
    assert again["metadata"]["resourceVersion"] == d["metadata"]["resourceVersion"]


def test_stale_resource_version_conflicts(store):
    d = store.create(DEPLOY, deployment())
    fresh = store.update(DEPLOY, {**d, "spec": {**d["spec"], "replicas": 2}})
    with pytest.raises(ApiError) as err:
        store.update(DEPLOY, {**d, "spec": {**d["spec"], "replicas": 5}})
    assert err.value.code == 409
    assert (
        store.get(DEPLOY, "shop", "web")["metadata"]["resourceVersion"]
        == fresh["metadata"]["resourceVersion"]
    )


def test_objects_in_a_missing_namespace_are_refused(store):
    with pytest.raises(ApiError) as err:
        store.create(POD, {"metadata": {"name": "p", "namespace": "ghost"}})
    assert (err.value.code, err.value.message) == (404, 'namespaces "ghost" not found')


def test_generate_name_uses_the_kubernetes_suffix_alphabet(store):
    p = store.create(POD, {"metadata": {"generateName": "web-", "namespace": "shop"}})
    suffix = p["metadata"]["name"][len("web-") :]
    assert len(suffix) == 5 and set(suffix) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_graceful_delete_marks_terminating_until_removed(store):
    store.create(POD, {"metadata": {"name": "p", "namespace": "shop"}})
    marked = store.delete(POD, "shop", "p", grace_period_seconds=30)
    assert marked["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:30Z"
    assert store.peek(POD, "shop", "p") is not None
    store.remove(POD, "shop", "p")
    assert store.peek(POD, "shop", "p") is None


def test_watch_log_reports_changes_in_order(store):
    start = store.resource_version
    d = store.create(DEPLOY, deployment())
    store.update(DEPLOY, {**d, "spec": {**d["spec"], "replicas": 2}})
    store.delete(DEPLOY, "shop", "web")
    assert [e.type for e in store.events_since(start)] == ["ADDED", "MODIFIED", "DELETED"]


def test_list_pages_are_consistent_in_key_order(store):
    for name in ("c", "a", "b"):
        store.create(POD, {"metadata": {"name": name, "namespace": "shop"}})
    first = store.list_page(POD, "shop", limit=2)
    rest = store.list_page(POD, "shop", limit=2, continue_token=first.continue_token)
    names = [b.split(b'"name":"')[1].split(b'"')[0] for b in first.items + rest.items]
    assert names == [b"a", b"b", b"c"]
    assert first.remaining == 1 and rest.continue_token == ""
