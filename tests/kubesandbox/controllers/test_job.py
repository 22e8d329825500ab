"""Jobs made from a CronJob's template run their pod to completion (or give up) like the real controller."""

from __future__ import annotations

from typing import Any

from tests.builders import cronjob, job_from_cronjob
from tests.kubesandbox.controllers.world import World, container_status

Obj = dict[str, Any]


def test_a_job_created_from_a_cronjob_runs_its_pod_and_completes() -> None:
    world = World()
    nightly = world.create(cronjob("nightly", image="shop/report:1", schedule="0 3 * * *"))
    job = world.create(job_from_cronjob(nightly, "nightly-manual-1"))
    uid = job["metadata"]["uid"]
    world.advance(0)

    job = world.get("Job", "nightly-manual-1")
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    expected_labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "nightly-manual-1",
        "controller-uid": uid,
        "job-name": "nightly-manual-1",
    }
    assert job["spec"]["template"]["metadata"]["labels"] == expected_labels
    assert job["metadata"]["labels"] == expected_labels
    [pod] = world.pods()
    assert pod["metadata"]["name"].startswith("nightly-manual-1-") and len(pod["metadata"]["name"]) == 22
    assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    assert pod["metadata"]["labels"] == expected_labels
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Job"
    assert job["status"] == {
        "startTime": "2026-01-01T12:00:00Z",
        "active": 1,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "ready": 0,
    }

    world.advance(3)
    assert world.get("Job", "nightly-manual-1")["status"]["ready"] == 1
    world.advance(5)
    pod = world.get("Pod", pod["metadata"]["name"])
    assert pod["status"]["phase"] == "Succeeded" and "finalizers" not in pod["metadata"]
    assert container_status(pod, "task")["state"]["terminated"]["reason"] == "Completed"
    status = world.get("Job", "nightly-manual-1")["status"]
    conditions = status.pop("conditions")
    assert status == {
        "startTime": "2026-01-01T12:00:00Z",
        "completionTime": "2026-01-01T12:00:06Z",
        "succeeded": 1,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "ready": 0,
    }
    assert [(c["type"], c["status"], c["reason"], c["message"]) for c in conditions] == [
        ("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
        ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
    ]
    assert [e["message"] for e in world.events(involved="nightly-manual-1")] == [
        f"Created pod: {pod['metadata']['name']}",
        "Job completed",
    ]
    cronjob_events = world.events(involved="nightly")
    assert [(e["type"], e["reason"], e["message"]) for e in cronjob_events] == [
        (
            "Warning",
            "UnexpectedJob",
            "Saw a job that the controller did not create or forgot: nightly-manual-1",
        )
    ]
    assert world.get("CronJob", "nightly")["status"] == {"lastSuccessfulTime": "2026-01-01T12:00:06Z"}


def test_a_job_whose_pods_keep_failing_stops_at_its_backoff_limit() -> None:
    world = World(behaviors={"shop/report:bad": "CrashLoop"})
    nightly = world.create(cronjob("nightly", image="shop/report:bad", schedule="0 3 * * *", backoff_limit=1))
    world.create(job_from_cronjob(nightly, "nightly-manual-1"))
    world.advance(11)
    assert len(world.pods()) == 1  # the first pod failed at 2 s; the next waits out a 10 s back-off
    world.advance(1)
    assert len(world.pods()) == 2
    world.advance(30)
    job = world.get("Job", "nightly-manual-1")
    assert job["status"]["failed"] == 2 and "completionTime" not in job["status"]
    assert [(c["type"], c["reason"], c["message"]) for c in job["status"]["conditions"]] == [
        ("FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
        ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
    ]
    warning = world.events(reason="BackoffLimitExceeded")
    assert len(warning) == 1 and warning[0]["type"] == "Warning"
    assert all(p["status"]["phase"] == "Failed" for p in world.pods())


def test_an_on_failure_job_counts_container_restarts_against_the_limit_and_deletes_its_pod() -> None:
    world = World(behaviors={"shop/report:bad": "CrashLoop"})
    nightly = world.create(
        cronjob(
            "nightly",
            image="shop/report:bad",
            schedule="0 3 * * *",
            restart_policy="OnFailure",
            backoff_limit=2,
        )
    )
    world.create(job_from_cronjob(nightly, "nightly-manual-1"))
    world.advance(60)
    job = world.get("Job", "nightly-manual-1")
    assert world.condition(job, "Failed")["reason"] == "BackoffLimitExceeded"
    assert world.all("Pod") == []
    assert job["status"]["failed"] == 1


def test_deleting_a_job_removes_its_pods() -> None:
    world = World()
    nightly = world.create(cronjob("nightly", image="shop/report:1", schedule="0 3 * * *"))
    world.create(job_from_cronjob(nightly, "nightly-manual-1"))
    world.advance(2)
    world.delete("Job", "nightly-manual-1")
    world.advance(2)
    assert world.all("Pod") == []
