"""The controller manager: deterministic, and cheap where scenarios are big."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from kubesandbox.controllers import ControllerManager
from kubesandbox.controllers.disruption import evict
from tests.builders import NS, cronjob, deployment, hpa, job_from_cronjob, pdb, pod, replicaset
from tests.kubesandbox.controllers.world import World, rt

Obj = dict[str, Any]
ROOT = Path(__file__).resolve().parents[3]
KINDS = (
    "Pod",
    "ReplicaSet",
    "Deployment",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Event",
)


def story(seed: int = 0) -> World:
    world = World(behaviors={"shop/web:bad": "CrashLoop", "shop/api:stuck": "CrashUntilRestarted"}, seed=seed)
    world.create(deployment("web", image="shop/web:1", replicas=4))
    world.create(deployment("api", image="shop/api:stuck", replicas=2))
    world.create(pdb("web", selector={"app": "web"}, max_unavailable=1))
    world.create(hpa("web", target="web", min_replicas=2, max_replicas=3))
    nightly = world.create(cronjob("nightly", image="shop/report:1", schedule="0 3 * * *"))
    world.advance(30)
    world.create(job_from_cronjob(nightly, "manual"))

    def bad(d: Obj) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["image"] = "shop/web:bad"

    world.patch("Deployment", "web", bad)
    world.advance(100)
    victim = sorted(p["metadata"]["name"] for p in world.pods("app=api"))[0]
    evict(world.store, NS, victim, {"metadata": {"name": victim}}, False)
    world.advance(500)
    return world


def snapshot(world: World) -> str:
    return json.dumps({kind: world.all(kind) for kind in KINDS}, sort_keys=True)


def test_the_same_story_twice_gives_the_same_objects() -> None:
    first, second = story(), story()
    assert snapshot(first) == snapshot(second)
    assert first.store.resource_version == second.store.resource_version


def test_the_story_is_the_same_whatever_the_interpreter_hash_seed() -> None:
    """Nothing may depend on set or dict-of-str iteration order that varies between processes."""
    code = (
        "import hashlib; from tests.kubesandbox.controllers.test_manager import story, snapshot; "
        "print(hashlib.sha256(snapshot(story()).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1 and next(iter(digests)).strip()


def test_a_long_advance_jumps_between_changes_instead_of_ticking_every_second() -> None:
    world = World(behaviors={"shop/web:bad": "CrashLoop"})
    world.create(deployment("good", image="shop/web:1", replicas=25))
    world.create(deployment("bad", image="shop/web:bad", replicas=25))
    rounds = 0
    original = world.manager.reconcile

    def counting() -> None:
        nonlocal rounds
        rounds += 1
        original()

    world.manager.reconcile = counting  # type: ignore[method-assign]
    world.advance(600)
    assert len(world.pods()) == 50
    assert rounds < 60  # the crash loops change state ~16 times in 600 s; the healthy pods twice


def test_a_reconcile_over_twenty_thousand_frozen_pods_writes_and_copies_nothing() -> None:
    rs_uid = "99999999-9999-4999-8999-999999999999"
    owner = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "big-5d9c8b7f6", "uid": rs_uid},
    }
    template = pod("x", owner=owner, labels={"app": "big"})
    world = World()
    kinds = world.store
    kinds.load(
        rt("ReplicaSet"),
        replicaset("big-5d9c8b7f6", image="shop/web:1", replicas=20_000, uid=rs_uid, labels={"app": "big"}),
    )
    uids = []
    for i in range(20_000):
        frozen = copy.deepcopy(template)
        frozen["metadata"]["name"] = f"big-5d9c8b7f6-{i:05d}"
        uids.append(kinds.load(rt("Pod"), frozen)["metadata"]["uid"])
    manager = ControllerManager(kinds, {}, uids)
    manager.reconcile()  # the ReplicaSet reports its 20,000 pods once
    before = kinds.resource_version
    gets = 0
    original_get = kinds.get

    def counting_get(*args: Any, **kwargs: Any) -> Obj:
        nonlocal gets
        gets += 1
        return original_get(*args, **kwargs)

    kinds.get = counting_get  # type: ignore[method-assign]
    manager.reconcile()
    manager.advance(60)
    assert kinds.resource_version == before
    assert gets == 0
