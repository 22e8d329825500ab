"""Regenerate the corpus dumps: `python -m tests.corpus.make_dumps [CASE ...]` (all cases without arguments).

Each function below lives through one incident in the sandbox (`tests.corpus.world`) with the real
controllers and the real kubectl, and returns `tests/corpus/<case>/dump.yaml` as kubectl printed it at
the capture moment. Every run is deterministic (seeded names and uids, a frozen clock), so regenerating
changes nothing unless the sandbox or a story changes. The expected decisions are NOT generated: they
live in each case's hand-written `case.yaml`.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from tests.corpus.world import (
    World,
    at,
    both,
    checksum_of,
    configmap,
    container,
    crashing,
    days,
    deployment,
    hours,
    hpa,
    minutes,
    pdb,
    selfheal_settings,
    stamp,
    unready,
    unschedulable,
)

CORPUS = Path(__file__).parent
CASES: dict[str, Callable[[], str]] = {}


def case(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    def register(fn: Callable[[], str]) -> Callable[[], str]:
        CASES[name] = fn
        return fn

    return register


# --- the EA Plan v5 namespace (README: cpt-web under Argo CD, HPA, PDB, ConfigMap, stamped hashes) -----------

EA = "dese-ea-plan-v5"
CPT = "ghcr.io/dese-ea/cpt-web"
TRACKING = "cpt-web:apps/Deployment:dese-ea-plan-v5/{name}"


def ea_config(**overrides: str) -> dict:
    data = {
        "LOG_LEVEL": "info",
        "CPT_CACHE_TTL_SECONDS": "300",
        "CPT_PLAN_VERSION": "5.2",
        "FEATURE_SCENARIO_EXPORT": "false",
    }
    data.update(overrides)
    return configmap("cpt-web-config", data, labels={"app": "cpt-web"})


def ea_deployment(
    name: str,
    image: str,
    *,
    replicas: int,
    track: str,
    tracked: bool = True,
    split: str | None = None,
    cm: dict | None = None,
) -> dict:
    annotations = {}
    if tracked:
        annotations["argocd.argoproj.io/tracking-id"] = TRACKING.format(name=name)
    if split is not None:
        annotations["rollout.argoproj.io/traffic-split"] = split
    dep = deployment(
        name,
        replicas=replicas,
        app="cpt-web",
        labels={"track": track},
        annotations=annotations,
        containers=[
            container(
                "cpt-web", image, env_from_configmap="cpt-web-config", memory="128Mi", memory_limit="256Mi"
            )
        ],
        max_surge=1,
        max_unavailable=0,
        part_of="ea-plan-v5",
    )
    return stamp(dep, [cm or ea_config()])


# --- cases ---------------------------------------------------------------------------------------------------


def ea_namespace(w: World) -> dict:
    """The stable cpt-web of dese-ea-plan-v5 (3 replicas, PDB, ConfigMap, the job's settings) beside a case's
    own workload; returns its ConfigMap."""
    cm = ea_config()
    w.apply(
        cm,
        selfheal_settings(EA),
        ea_deployment(EA, f"{CPT}:5.2.0", replicas=3, track="stable", cm=cm),
        pdb(EA, min_available=2, selector={"app": "cpt-web"}),
    )
    return cm


def ea_app(name: str, image: str, *, replicas: int, tracked: bool = True) -> dict:
    annotations = {"argocd.argoproj.io/tracking-id": TRACKING.format(name=name)} if tracked else {}
    return stamp(deployment(name, image, replicas=replicas, part_of="ea-plan-v5", annotations=annotations))


# A crash loop noticed for the first time: it began 140 s before the capture, so the previous run (two
# minutes earlier, the CronJob runs every 2 minutes) saw at most 2 restarts, below the threshold of 3.
FIRST = timedelta(seconds=140)
# The runs of the CronJob start on even minutes and read the namespace a few seconds later: every capture
# below is such a run's moment, HH:<even>:0X.


# --- recent changes: roll them back -------------------------------------------------------------------------


@case("01-quiet-namespace")
def quiet_namespace() -> str:
    t = at("2026-03-04T10:18:04Z")
    with World(EA, start=t - days(26), seed=1) as w:
        ea_namespace(w)
        w.advance_to(t - hours(1))
        w.reload(add=[(hpa(EA, min_replicas=3, max_replicas=10), t - days(26))])
        w.advance_to(t)
        return w.capture(
            header="""
01-quiet-namespace: dese-ea-plan-v5 on an ordinary Wednesday morning. cpt-web 5.2.0 (3 replicas, Argo CD
tracked, config hash and checksum stamped), its HPA (3..10), PDB and ConfigMap, the self-heal CronJob.
Generated: applied 26 days before the capture and rolled out by the sandbox's controllers. The HPA joins an
hour before the capture with its real creation time (World.reload(add=...): living through 26 days of
15-second HPA resyncs is slow); with no metrics server in the sandbox it reports FailedGetResourceMetric.
"""
        )


@case("02-bad-deploy-crashloop-during-rollout")
def bad_deploy_during_rollout() -> str:
    t = at("2026-01-22T16:42:05Z")
    old, new = "registry.example/shop/checkout:1.14.2", "registry.example/shop/checkout:1.15.0"
    with World("shop", start=t - days(18), seed=2, behaviors={new: "CrashLoop"}) as w:
        w.apply(deployment("checkout", old, replicas=3, part_of="shop"))
        w.advance_to(t - timedelta(seconds=150))
        w.kubectl("set", "image", "deploy/checkout", f"checkout={new}")
        w.advance_to(t)
        return w.capture(
            header="""
02-bad-deploy-crashloop-during-rollout: checkout 1.15.0 was rolled out 150 seconds ago with `kubectl set
image`; its first pod exits 1 at start and crash-loops, so the rollout is stuck with the three 1.14.2 pods
still serving. Generated entirely by the sandbox's controllers (image behaviour CrashLoop).
""",
            behaviors={old: "Healthy"},
        )


@case("03-bad-deploy-app-error-after-rollout")
def app_error_after_rollout() -> str:
    t = at("2026-02-11T09:52:04Z")
    old, new = "registry.example/payments/payments-api:2.7.0", "registry.example/payments/payments-api:2.8.0"
    with World("payments", start=t - days(30), seed=3) as w:
        w.apply(deployment("payments-api", old, replicas=4, part_of="payments"))
        w.advance_to(t - minutes(47))
        w.kubectl("set", "image", "deploy/payments-api", f"payments-api={new}")
        w.advance_to(t - FIRST)
        w.reload(
            behaviors={new: "CrashLoop"},
            edit=crashing(w.pods("app=payments-api"), "payments-api", onset=w.now, until=t),
        )
        w.advance_to(t)
        return w.capture(
            header="""
03-bad-deploy-app-error-after-rollout: payments-api 2.8.0 passed readiness and completed its rollout 47
minutes ago; at 09:49:44, when the hourly settlement batch hit it, every pod started exiting 1 and
crash-looping. Generated: the rollout by the sandbox's controllers; the crash loops from 09:49:44 are
container statuses from the sandbox's runtime model started at that moment (World.reload + crashing: the
sandbox cannot change what a running image does), loaded into a fresh sandbox whose controllers then marked
the ReplicaSet and the Deployment unavailable.
""",
            behaviors={old: "Healthy"},
        )


@case("04-bad-deploy-oomkilled-after-rollout")
def oom_after_rollout() -> str:
    t = at("2026-05-19T15:08:06Z")
    old, new = "registry.example/search/search-indexer:5.3.0", "registry.example/search/search-indexer:5.4.0"
    with World("search", start=t - days(33), seed=4) as w:
        w.apply(
            deployment(
                "search-indexer",
                replicas=3,
                part_of="search",
                containers=[
                    container("search-indexer", old, memory="384Mi", memory_limit="512Mi", cpu="500m")
                ],
            )
        )
        w.advance_to(t - hours(2) - minutes(40))
        w.kubectl("set", "image", "deploy/search-indexer", f"search-indexer={new}")
        w.advance_to(t - FIRST)
        w.reload(
            behaviors={new: "OOMKilled"},
            edit=crashing(
                w.pods("app=search-indexer"), "search-indexer", onset=w.now, until=t, behavior="OOMKilled"
            ),
        )
        w.advance_to(t)
        return w.capture(
            header="""
04-bad-deploy-oomkilled-after-rollout: search-indexer 5.4.0 (a new in-memory cache) completed its rollout
2 h 40 min ago; its memory grew with the day's traffic until, at 15:05:46, the pods began to be OOMKilled
(exit 137) in a loop. Generated: the rollout by the sandbox's controllers; the OOMKilled loops are the
sandbox runtime model's statuses from that moment (World.reload + crashing).
""",
            behaviors={old: "Healthy"},
        )


@case("05-bad-deploy-bad-command-exit-zero")
def bad_command_after_rollout() -> str:
    t = at("2026-06-02T11:32:05Z")
    old, new = "registry.example/shop/mailer:3.2.0", "registry.example/shop/mailer:3.3.0"
    with World("shop", start=t - days(15), seed=5) as w:
        w.apply(
            deployment(
                "mailer",
                replicas=2,
                part_of="shop",
                containers=[container("mailer", old, args=["serve", "--queue=mail"])],
            )
        )
        w.advance_to(t - minutes(70))
        w.apply(
            deployment(
                "mailer",
                replicas=2,
                part_of="shop",
                containers=[container("mailer", new, args=["serve", "--queue=mail", "--drain-once"])],
            )
        )
        w.advance_to(t - FIRST)
        w.reload(
            behaviors={new: "CrashLoop"},
            edit=crashing(w.pods("app=mailer"), "mailer", onset=w.now, until=t, exit_zero=True),
        )
        w.advance_to(t)
        return w.capture(
            header="""
05-bad-deploy-bad-command-exit-zero: mailer 3.3.0 shipped with `--drain-once` in its args. It rolled out 70
minutes ago and worked through the backlog; when the queue ran empty at 11:29:45 each container exited 0
(Completed), and every restart exits 0 again at once: CrashLoopBackOff. Generated: the rollout by the
sandbox's controllers (kubectl apply); the loops are the sandbox runtime model's crash loop with each exit
rewritten by hand to 0/Completed (the sandbox has no "command ends" behaviour).
""",
            behaviors={old: "Healthy"},
        )


@case("06-image-typo-imagepullbackoff")
def image_typo() -> str:
    t = at("2026-02-26T13:44:05Z")
    old, typo = "registry.example/storefront/catalog:4.12.0", "registry.example/storefront/catalgo:4.13.0"
    with World("storefront", start=t - days(21), seed=6, behaviors={typo: "ImagePullBackOff"}) as w:
        w.apply(
            stamp(
                deployment("catalog", old, replicas=3, max_surge=1, max_unavailable=0, part_of="storefront")
            )
        )
        w.advance_to(t - timedelta(minutes=5, seconds=50))
        w.apply(
            stamp(
                deployment("catalog", typo, replicas=3, max_surge=1, max_unavailable=0, part_of="storefront")
            )
        )
        w.advance_to(t)
        return w.capture(
            header="""
06-image-typo-imagepullbackoff: CI applied catalog 4.13.0 5 minutes 50 seconds ago with a typo in the image
name (catalgo); the surge pod cannot pull it (ErrImagePull / ImagePullBackOff), the three 4.12.0 pods still
serve. The previous run saw a pod younger than the 5-minute grace. Generated entirely by the sandbox's
controllers (image behaviour ImagePullBackOff).
""",
            behaviors={old: "Healthy"},
        )


@case("07-image-pull-error-within-grace")
def image_pull_within_grace() -> str:
    t = at("2026-02-26T14:02:04Z")
    old, new = "registry.example/storefront/reviews:2.6.1", "registry.example/storefront/reviews:2.7.0"
    with World("storefront", start=t - days(40), seed=7, behaviors={new: "ImagePullBackOff"}) as w:
        w.apply(deployment("reviews", old, replicas=2, max_surge=1, max_unavailable=0, part_of="storefront"))
        w.advance_to(t - timedelta(seconds=95))
        w.kubectl("set", "image", "deploy/reviews", f"reviews={new}")
        w.advance_to(t)
        return w.capture(
            header="""
07-image-pull-error-within-grace: reviews 2.7.0 was rolled out 95 seconds ago while the release pipeline was
still pushing its image; the registry answers "not found" for now and the surge pod shows ErrImagePull /
ImagePullBackOff. Generated entirely by the sandbox's controllers.
""",
            behaviors={old: "Healthy"},
        )


@case("08-missing-secret-createcontainerconfigerror")
def missing_secret() -> str:
    t = at("2026-03-17T08:12:05Z")
    old, new = "registry.example/payments/ledger:4.1.0", "registry.example/payments/ledger:4.2.0"
    with World("payments", start=t - days(12), seed=8, behaviors={new: "CreateContainerConfigError"}) as w:
        w.apply(deployment("ledger", old, replicas=2, part_of="payments"))
        w.advance_to(t - timedelta(minutes=5, seconds=40))
        w.apply(
            deployment(
                "ledger",
                replicas=2,
                part_of="payments",
                containers=[
                    container(
                        "ledger",
                        new,
                        env=[
                            {
                                "name": "LEDGER_DB_PASSWORD",
                                "valueFrom": {"secretKeyRef": {"name": "ledger-db", "key": "password"}},
                            }
                        ],
                    )
                ],
            )
        )
        w.advance_to(t)
        return w.capture(
            header="""
08-missing-secret-createcontainerconfigerror: ledger 4.2.0 reads LEDGER_DB_PASSWORD from Secret ledger-db,
which was never created in this cluster; its pod has been in CreateContainerConfigError since the rollout
5 minutes 40 seconds ago, and the rollout is stuck. Generated entirely by the sandbox's controllers (image
behaviour CreateContainerConfigError).
""",
            behaviors={old: "Healthy"},
        )


@case("09-rollout-stuck-progress-deadline")
def rollout_stuck() -> str:
    t = at("2026-04-21T17:56:04Z")
    old, new = "registry.example/search/search-api:2.3.1", "registry.example/search/search-api:2.4.0"
    with World("search", start=t - days(27), seed=9) as w:
        w.apply(deployment("search-api", old, replicas=3, max_surge=1, max_unavailable=0, part_of="search"))
        w.advance_to(t - minutes(11))
        w.kubectl("set", "image", "deploy/search-api", f"search-api={new}")
        w.advance(3)
        fresh = [
            p for p in w.pods("app=search-api") if w.get("Pod", p)["spec"]["containers"][0]["image"] == new
        ]
        created = at(w.get("Pod", fresh[0])["metadata"]["creationTimestamp"])
        w.reload(edit=unready(fresh, "search-api", since=created))
        w.advance_to(t)
        return w.capture(
            header="""
09-rollout-stuck-progress-deadline: search-api 2.4.0 went out 11 minutes ago; its pod runs but /ready keeps
answering 503 (it waits for an index that nobody built), so the rollout never progressed and a minute ago
passed its 600 s progressDeadlineSeconds. Generated: the rollout by the sandbox's controllers; the new pod's
failing readiness probe is written into its status (World.reload + unready: a Healthy sandbox image becomes
ready after its probe's initial delay), and the controllers then declared ProgressDeadlineExceeded.
""",
            behaviors={old: "Healthy"},
        )


# --- established revisions: the change is elsewhere ---------------------------------------------------------


@case("10-established-revision-dependency-down")
def dependency_down() -> str:
    t = at("2026-04-07T03:26:05Z")
    image = "registry.example/shop/orders:3.9.4"
    with World("shop", start=t - days(23), seed=10) as w:
        w.apply(
            deployment(
                "orders",
                replicas=4,
                part_of="shop",
                containers=[
                    container(
                        "orders",
                        image,
                        env=[
                            {
                                "name": "DATABASE_URL",
                                "value": "postgres://orders@orders-db.shop.svc:5432/orders",
                            }
                        ],
                    )
                ],
            )
        )
        w.advance_to(t - FIRST)
        w.reload(
            behaviors={image: "CrashLoop"},
            edit=crashing(w.pods("app=orders"), "orders", onset=w.now, until=t),
        )
        w.advance_to(t)
        return w.capture(
            header="""
10-established-revision-dependency-down: orders 3.9.4 has run for 23 days. At 03:23:45 its database went
down; since then every orders pod exits 1 (cannot connect) and crash-loops.
Generated: the 23-day rollout by the sandbox's controllers; the crash loops are container statuses from the
sandbox's runtime model from 03:23:45 (World.reload + crashing). Replacement pods crash too: the database is
still down.
"""
        )


@case("11-established-revision-oomkilled")
def established_oom() -> str:
    t = at("2026-07-01T06:04:06Z")
    image = "registry.example/analytics/report-builder:7.2.2"
    with World("analytics", start=t - days(41), seed=11) as w:
        w.apply(
            deployment(
                "report-builder",
                replicas=3,
                part_of="analytics",
                containers=[
                    container("report-builder", image, cpu="250m", memory="768Mi", memory_limit="1Gi")
                ],
            )
        )
        w.advance_to(t - FIRST)
        w.reload(
            behaviors={image: "OOMKilled"},
            edit=crashing(
                w.pods("app=report-builder"), "report-builder", onset=w.now, until=t, behavior="OOMKilled"
            ),
        )
        w.advance_to(t)
        return w.capture(
            header="""
11-established-revision-oomkilled: report-builder 7.2.2 has run for 41 days; the month-end reports started at
06:00 and at 06:01:46 every pod began to be OOMKilled (exit 137) in a loop. Generated: the rollout by the
sandbox's controllers; the OOMKilled loops are the sandbox runtime model's statuses (World.reload +
crashing).
"""
        )


@case("12-flaky-pod-among-healthy-siblings")
def flaky_pod() -> str:
    t = at("2026-03-09T12:20:05Z")
    image = "registry.example/shop/cart:2.19.3"
    with World("shop", start=t - days(12), seed=12) as w:
        w.apply(deployment("cart", image, replicas=5, part_of="shop"))
        w.advance_to(t - FIRST)
        w.reload(edit=crashing(w.pods("app=cart")[2:3], "cart", onset=w.now, until=t))
        w.advance_to(t)
        return w.capture(
            header="""
12-flaky-pod-among-healthy-siblings: cart 2.19.3 has run for 12 days on five pods; at 12:17:45 one of them
started exiting 1 (a corrupted local cache file) and crash-loops, the other four serve normally.
Generated: the rollout by the sandbox's controllers; the one pod's crash loop is the sandbox runtime model's
status from its onset (World.reload + crashing). A replacement pod starts with a clean cache: Healthy.
""",
            behaviors={image: "Healthy"},
        )


@case("13-node-failure-many-deployments")
def node_failure() -> str:
    t = at("2026-08-14T02:48:04Z")
    apps = {
        "cart": ("2.19.3", 30),
        "catalog": ("4.12.0", 22),
        "checkout": ("1.14.2", 16),
        "orders": ("3.9.4", 9),
    }
    with World("shop", start=t - days(31), seed=13) as w:
        for name, (version, age) in apps.items():
            w.advance_to(t - days(age))
            w.apply(deployment(name, f"registry.example/shop/{name}:{version}", replicas=2, part_of="shop"))
        w.apply(deployment("docs", "registry.example/shop/docs:1.0.7", replicas=1, part_of="shop"))
        w.advance_to(t - FIRST)
        edits = [crashing(w.pods(f"app={name}"), name, onset=w.now, until=t) for name in apps]
        w.reload(
            behaviors={f"registry.example/shop/{n}:{v}": "CrashLoop" for n, (v, _) in apps.items()},
            edit=both(*edits),
        )
        w.advance_to(t)
        return w.capture(
            header="""
13-node-failure-many-deployments: at 02:45:44 the node's DNS resolver died; cart, catalog, checkout and
orders (established revisions, 9 to 30 days old) all exit 1 at start since then (they cannot resolve their
dependencies); only the static docs site, which needs no DNS, still runs. Generated: the rollouts by the
sandbox's controllers; the crash loops are the sandbox runtime model's statuses (World.reload + crashing).
"""
        )


@case("14-pdb-at-its-limit-blocks-eviction")
def pdb_blocks() -> str:
    t = at("2026-05-05T10:10:05Z")
    image = "registry.example/payments/fraud-scorer:1.31.0"
    with World("payments", start=t - days(17), seed=14) as w:
        w.apply(
            deployment("fraud-scorer", image, replicas=3, part_of="payments"),
            pdb("fraud-scorer", min_available=3),
        )
        w.advance_to(t - FIRST)
        w.reload(edit=crashing(w.pods("app=fraud-scorer")[:1], "fraud-scorer", onset=w.now, until=t))
        w.advance_to(t)
        return w.capture(
            header="""
14-pdb-at-its-limit-blocks-eviction: fraud-scorer runs 3 pods under a PodDisruptionBudget with minAvailable: 3
(the team wants every replica, always); one pod started crash-looping (exit 1) at 10:07:45. Generated: the
rollout and the PDB status by the sandbox's controllers; the crash loop is the sandbox runtime model's status
from its onset (World.reload + crashing).
""",
            behaviors={image: "Healthy"},
        )


# --- replicas ---------------------------------------------------------------------------------------------------


@case("15-hpa-owns-the-replicas")
def hpa_owns() -> str:
    t = at("2026-03-02T09:42:04Z")
    with World(EA, start=t - days(19), seed=15) as w:
        ea_namespace(w)
        w.advance_to(t - hours(4))
        w.reload(add=[(hpa(EA, min_replicas=3, max_replicas=10), t - days(19))])
        w.advance_to(t - hours(3))
        w.kubectl("scale", f"deploy/{EA}", "--replicas=6")  # what the HPA did for the Monday peak
        w.advance_to(t)
        return w.capture(
            header="""
15-hpa-owns-the-replicas: Monday 09:42, the HPA scaled cpt-web from 3 to 6 replicas for the morning peak three
hours ago; Git and last-applied-configuration still say 3. Generated by the sandbox's controllers. The
sandbox has no metrics server: the scale-up the HPA made is a `kubectl scale` to 6, and the HPA's status shows
it unable to read CPU metrics (FailedGetResourceMetric) where a real cluster's would show the utilisation.
The HPA joined 4 hours before the capture with its real creation time.
"""
        )


@case("16-hpa-replicas-below-min-clamped")
def hpa_clamp() -> str:
    t = at("2026-09-08T07:16:05Z")
    image = "registry.example/storefront/storefront-api:3.4.1"
    with World("storefront", start=t - days(64), seed=16) as w:
        w.apply(deployment("storefront-api", image, replicas=3, part_of="storefront"))
        w.advance_to(t - hours(2))
        w.reload(
            add=[
                (
                    hpa(
                        "storefront-api",
                        min_replicas=3,
                        max_replicas=12,
                        target_api_version="extensions/v1beta1",
                    ),
                    t - days(64),
                )
            ]
        )
        w.advance_to(t - timedelta(seconds=100))
        w.kubectl("scale", "deploy/storefront-api", "--replicas=1")
        w.advance_to(t)
        return w.capture(
            header="""
16-hpa-replicas-below-min-clamped: storefront-api's HPA (3..12) still names its target as extensions/v1beta1,
an API the cluster no longer serves, so the HPA controller cannot read or set the scale (AbleToScale False,
FailedGetScale) and nothing enforces its minimum; 100 seconds ago a cost-saving script scaled the Deployment
to 1. Generated by the sandbox's controllers; the HPA joined 2 hours before the capture with its real
creation time.
"""
        )


@case("17-hpa-target-scaled-to-zero-on-purpose")
def hpa_zero() -> str:
    t = at("2026-10-03T22:30:04Z")
    image = "registry.example/analytics/export-api:1.12.0"
    with World("analytics", start=t - days(35), seed=17) as w:
        w.apply(deployment("export-api", image, replicas=2, part_of="analytics"))
        w.advance_to(t - hours(2))
        w.reload(add=[(hpa("export-api", min_replicas=2, max_replicas=6), t - days(35))])
        w.advance_to(t - minutes(50))
        w.kubectl("scale", "deploy/export-api", "--replicas=0")
        w.advance_to(t)
        return w.capture(
            header="""
17-hpa-target-scaled-to-zero-on-purpose: Saturday-night maintenance of the export database: the on-call scaled
export-api to 0 fifty minutes ago, the documented way to switch its HPA (2..6) off (the HPA reports
ScalingDisabled). Generated by the sandbox's controllers; the HPA joined 2 hours before the capture with its
real creation time.
"""
        )


@case("18-manual-scale-down-desired-annotation")
def scale_down_annotation() -> str:
    t = at("2026-04-14T16:02:05Z")
    image = "registry.example/shop/notifications:5.0.2"
    with World("shop", start=t - days(45), seed=18) as w:
        w.create(
            deployment(
                "notifications",
                image,
                replicas=4,
                part_of="shop",
                annotations={"selfheal.dev/desired-replicas": "4"},
            )
        )
        w.advance_to(t - timedelta(seconds=90))
        w.kubectl("scale", "deploy/notifications", "--replicas=1")
        w.advance_to(t)
        return w.capture(
            header="""
18-manual-scale-down-desired-annotation: notifications runs 4 replicas (selfheal.dev/desired-replicas: "4";
created by the team's tooling with `kubectl create`, so no last-applied-configuration); 90 seconds ago
someone ran `kubectl scale --replicas=1` against the wrong context. Generated entirely by the sandbox's
controllers.
"""
        )


@case("19-manual-scale-down-last-applied")
def scale_down_last_applied() -> str:
    t = at("2026-04-30T19:28:04Z")
    image = "registry.example/storefront/recommendations:0.9.8"
    with World("storefront", start=t - days(8), seed=19) as w:
        w.apply(deployment("recommendations", image, replicas=3, part_of="storefront"))
        w.advance_to(t - timedelta(seconds=80))
        w.kubectl("scale", "deploy/recommendations", "--replicas=1")
        w.advance_to(t)
        return w.capture(
            header="""
19-manual-scale-down-last-applied: recommendations was applied with replicas: 3; 80 seconds ago a load test's
clean-up script scaled it to 1. Generated entirely by the sandbox's controllers.
"""
        )


# --- rails: paused, Argo CD, pods that are not ours -----------------------------------------------------------


@case("20-paused-deployment-bad-revision")
def paused() -> str:
    t = at("2026-05-27T14:18:04Z")
    old, new = "registry.example/payments/invoice-api:1.8.2", "registry.example/payments/invoice-api:1.9.0"
    with World("payments", start=t - days(20), seed=20, behaviors={new: "CrashLoop"}) as w:
        w.apply(deployment("invoice-api", old, replicas=3, part_of="payments"))
        w.advance_to(t - timedelta(seconds=150))
        w.kubectl("set", "image", "deploy/invoice-api", f"invoice-api={new}")
        w.advance_to(t - timedelta(seconds=50))
        w.kubectl("rollout", "pause", "deploy/invoice-api")
        w.advance_to(t)
        return w.capture(
            header="""
20-paused-deployment-bad-revision: invoice-api 1.9.0 crash-loops (exit 1) since its rollout 150 seconds ago;
the developer watching it paused the rollout (`kubectl rollout pause`) 50 seconds ago to attach a debugger to
the failing pod. Generated entirely by the sandbox's controllers.
""",
            behaviors={old: "Healthy"},
        )


@case("21-argocd-tracked-bad-revision")
def argocd_bad_revision() -> str:
    t = at("2026-06-16T10:40:05Z")
    old, new = "ghcr.io/dese-ea/cpt-optimizer:6.0.3", "ghcr.io/dese-ea/cpt-optimizer:6.1.0"
    with World(EA, start=t - days(24), seed=21, behaviors={new: "CrashLoop"}) as w:
        ea_namespace(w)
        w.apply(ea_app("cpt-optimizer", old, replicas=2))
        w.advance_to(t - timedelta(seconds=150))
        w.apply(ea_app("cpt-optimizer", new, replicas=2))  # Argo CD's sync of the merged commit
        w.advance_to(t)
        return w.capture(
            header="""
21-argocd-tracked-bad-revision: Argo CD synced cpt-optimizer 6.1.0 from Git 150 seconds ago (automated sync
with selfHeal); the new pod exits 1 and crash-loops, the rollout is stuck. Generated entirely by the
sandbox's controllers; Argo CD's sync is a `kubectl apply` of the new manifest (tracking-id annotation,
restamped config hash).
""",
            behaviors={old: "Healthy"},
        )


@case("22-argocd-tracked-flaky-pod")
def argocd_flaky_pod() -> str:
    t = at("2026-06-23T04:52:05Z")
    image = "ghcr.io/dese-ea/cpt-worker:2.4.1"
    with World(EA, start=t - days(19), seed=22) as w:
        ea_namespace(w)
        w.apply(ea_app("cpt-worker", image, replicas=4))
        w.advance_to(t - FIRST)
        w.reload(edit=crashing(w.pods("app=cpt-worker")[1:2], "cpt-worker", onset=w.now, until=t))
        w.advance_to(t)
        return w.capture(
            header="""
22-argocd-tracked-flaky-pod: one of cpt-worker's four pods (an Argo CD-tracked, 19-day-old revision) has
crash-looped with exit 1 since 04:49:45, after losing its message-broker session; the other three work.
Generated: the rollout by the sandbox's controllers; the one pod's crash loop is the sandbox runtime model's
status from its onset (World.reload + crashing).
""",
            behaviors={image: "Healthy"},
        )


@case("23-argocd-tracked-hand-edited-template")
def argocd_config_drift() -> str:
    t = at("2026-07-08T15:16:04Z")
    image = "ghcr.io/dese-ea/cpt-api:3.1.0"
    with World(EA, start=t - days(11), seed=23) as w:
        ea_namespace(w)
        w.apply(ea_app("cpt-api", image, replicas=2))
        w.advance_to(t - minutes(35))
        w.kubectl("set", "env", "deploy/cpt-api", "LOG_LEVEL=debug")
        w.advance_to(t)
        return w.capture(
            header="""
23-argocd-tracked-hand-edited-template: during last night's incident Argo CD's auto-sync of cpt-api was
switched off, and 35 minutes ago an engineer ran `kubectl set env deploy/cpt-api LOG_LEVEL=debug`; the live
template no longer hashes to the selfheal.dev/config-hash CI stamped. Generated entirely by the sandbox's
controllers.
"""
        )


@case("24-bare-pod-crashloop")
def bare_pod() -> str:
    t = at("2026-02-03T17:34:05Z")
    image, debug = "registry.example/shop/cart:2.19.3", "nicolaka/netshoot:v0.13"
    with World("shop", start=t - days(12), seed=24, behaviors={debug: "CrashLoop"}) as w:
        w.apply(deployment("cart", image, replicas=3, part_of="shop"))
        w.advance_to(t - minutes(40))
        w.kubectl(
            "run",
            "netshoot-debug",
            f"--image={debug}",
            "--",
            "/bin/sh",
            "-c",
            "dig +short orders-db.shop.svc && curl -sf http://orders:8080/healthz",
        )
        w.advance_to(t)
        return w.capture(
            header="""
24-bare-pod-crashloop: 40 minutes ago an engineer started a debug pod with `kubectl run netshoot-debug`
(no controller); its one-off command fails (exit 1) and, under restartPolicy Always, it crash-loops. The cart
Deployment beside it is healthy. Generated entirely by the sandbox's controllers.
"""
        )


@case("25-daemonset-pod-crashloop")
def daemonset_pod() -> str:
    t = at("2026-08-20T11:02:06Z")
    image, agent = "registry.example/shop/cart:2.19.3", "fluent/fluent-bit:3.0.4"
    with World("shop", start=t - days(12), seed=25, behaviors={agent: "CrashLoop"}) as w:
        w.apply(deployment("cart", image, replicas=3, part_of="shop"))
        w.advance_to(t - minutes(31))
        labels = {"app.kubernetes.io/name": "fluent-bit"}
        template = {
            "metadata": {"labels": dict(labels)},
            "spec": {
                "containers": [
                    container(
                        "fluent-bit", agent, port=2020, probes=False, memory="64Mi", memory_limit="128Mi"
                    )
                ],
                "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
            },
        }
        w.create(
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "fluent-bit", "labels": labels},
                "spec": {"selector": {"matchLabels": labels}, "template": template},
            }
        )
        ds = w.get("DaemonSet", "fluent-bit")
        pod_spec = copy.deepcopy(template["spec"])
        pod_spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": ["sandbox-node-1"]}
                            ]
                        }
                    ]
                }
            }
        }
        w.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "generateName": "fluent-bit-",
                    "labels": {
                        **labels,
                        "controller-revision-hash": "7c9d8f6b5d",
                        "pod-template-generation": "1",
                    },
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "DaemonSet",
                            "name": "fluent-bit",
                            "uid": ds["metadata"]["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": pod_spec,
            }
        )
        ds["status"] = {
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberMisscheduled": 0,
            "numberReady": 0,
            "numberUnavailable": 1,
            "observedGeneration": 1,
            "updatedNumberScheduled": 1,
        }
        w.put(ds)
        w.advance_to(t)
        return w.capture(
            kinds="deploy,rs,ds,pods,hpa,pdb,cm,cronjob,lease",
            header="""
25-daemonset-pod-crashloop: the log agent fluent-bit runs as a DaemonSet in the namespace; 3.0.4, rolled out
31 minutes ago, rejects its configuration (exit 1) and its pod crash-loops. The cart Deployment beside it is
healthy. Generated by the sandbox's controllers, except the DaemonSet's own work: the sandbox serves
DaemonSets without a controller, so its pod (with the controller's labels, owner reference and node
affinity) and its status were created by hand; the kubelet then ran the pod. Dumped with `ds` added to the
usual kinds (a replay without its owner would garbage-collect the pod).
""",
        )


@case("26-terminating-pod-held-by-finalizer")
def terminating_pod() -> str:
    t = at("2026-09-15T20:06:05Z")
    image = "registry.example/shop/cart:2.19.3"
    with World("shop", start=t - days(12), seed=26) as w:
        w.apply(deployment("cart", image, replicas=3, part_of="shop"))
        w.advance(30)
        for pod in w.pods("app=cart"):  # what the team's session-drain webhook adds to every cart pod
            w.kubectl(
                "patch",
                "pod",
                pod,
                "--type=merge",
                "-p",
                '{"metadata":{"finalizers":["shop.example/session-drain"]}}',
            )
        w.advance_to(t - FIRST)
        bad = w.pods("app=cart")[0]
        w.reload(edit=crashing([bad], "cart", onset=w.now, until=t))
        w.advance_to(t - timedelta(seconds=60))
        w.kubectl("delete", "pod", bad, "--wait=false")
        w.advance_to(t)
        return w.capture(
            header="""
26-terminating-pod-held-by-finalizer: one cart pod began crash-looping at 20:03:45; a minute ago the on-call
deleted it (`kubectl delete pod`), but it carries the shop.example/session-drain finalizer of a session-drain
controller that is down, so it stays Terminating; the ReplicaSet already started its replacement. Generated:
the rollout, the deletion and the replacement by the sandbox's controllers; the finalizer patched onto the
pods as the team's webhook would add it; the crash loop from the sandbox runtime model (World.reload +
crashing). The sandbox's kubelet gave the deleted pod its final phase (Failed) and kept its last container
status.
""",
            behaviors={image: "Healthy"},
        )


@case("27-init-container-crashloop-after-deploy")
def init_container() -> str:
    t = at("2026-01-28T10:24:05Z")
    old, new = (
        "registry.example/payments/settlement-worker:1.5.3",
        "registry.example/payments/settlement-worker:1.6.0",
    )
    check = "registry.example/payments/schema-check:2.0.1"
    with World("payments", start=t - days(26), seed=27, behaviors={check: "CrashLoop"}) as w:
        w.apply(deployment("settlement-worker", old, replicas=2, part_of="payments"))
        w.advance_to(t - timedelta(seconds=150))
        w.apply(
            deployment(
                "settlement-worker",
                new,
                replicas=2,
                part_of="payments",
                init_containers=[
                    container(
                        "wait-for-schema",
                        check,
                        port=None,
                        probes=False,
                        memory="32Mi",
                        memory_limit="64Mi",
                        args=["--expect", "settlement:v42", "--timeout", "10s"],
                    )
                ],
            )
        )
        w.advance_to(t)
        return w.capture(
            header="""
27-init-container-crashloop-after-deploy: settlement-worker 1.6.0, applied 150 seconds ago, added an init
container wait-for-schema that checks for schema v42; the migration that creates it was never run, so the init
container exits 1 and crash-loops (Init:CrashLoopBackOff) and the rollout is stuck. Generated entirely by the
sandbox's controllers (image behaviour CrashLoop for the init container's image).
""",
            behaviors={old: "Healthy", new: "Healthy"},
        )


def web_frontend(
    app_image: str,
    shipper: str,
    *,
    replicas: int = 3,
    annotations: dict | None = None,
    name: str = "web-frontend",
    track: str | None = None,
) -> dict:
    return deployment(
        name,
        replicas=replicas,
        part_of="storefront",
        app="web-frontend",
        labels={"track": track} if track else None,
        annotations=annotations,
        containers=[
            container("web-frontend", app_image, port=3000),
            container(
                "log-shipper", shipper, port=None, probes=False, cpu="20m", memory="32Mi", memory_limit="64Mi"
            ),
        ],
    )


@case("28-sidecar-crash-after-bump")
def sidecar_bump() -> str:
    t = at("2026-02-17T15:58:04Z")
    app, old, new = (
        "registry.example/storefront/web-frontend:8.2.0",
        "fluent/fluent-bit:2.2.2",
        "fluent/fluent-bit:3.0.4",
    )
    with World("storefront", start=t - days(16), seed=28, behaviors={new: "CrashLoop"}) as w:
        w.apply(web_frontend(app, old))
        w.advance_to(t - timedelta(seconds=150))
        w.apply(web_frontend(app, new))
        w.advance_to(t)
        return w.capture(
            header="""
28-sidecar-crash-after-bump: a Renovate PR bumped web-frontend's log-shipper sidecar from fluent-bit 2.2.2 to
3.0.4 (150 seconds ago); 3.0.4 rejects the old configuration and the sidecar crash-loops (exit 1) in the new
pod while its web-frontend container runs. Generated entirely by the sandbox's controllers.
""",
            behaviors={old: "Healthy", app: "Healthy"},
        )


@case("29-configmap-edited-rolling-restart")
def configmap_edited() -> str:
    t = at("2026-03-12T13:30:05Z")
    image = "registry.example/storefront/catalog:4.12.0"
    cm = configmap(
        "catalog-config", {"SEARCH_BACKEND": "solr", "CACHE_TTL_SECONDS": "120", "LOG_LEVEL": "info"}
    )
    with World("storefront", start=t - days(9), seed=29) as w:
        dep = deployment(
            "catalog",
            replicas=3,
            part_of="storefront",
            containers=[container("catalog", image, env_from_configmap="catalog-config")],
        )
        w.apply(cm, stamp(dep, [cm]))
        w.advance_to(t - timedelta(seconds=100))
        w.kubectl(
            "patch",
            "configmap",
            "catalog-config",
            "--type=merge",
            "-p",
            '{"data":{"SEARCH_BACKEND":"opensearch"}}',
        )
        w.advance_to(t)
        edited = configmap("catalog-config", {**cm["data"], "SEARCH_BACKEND": "opensearch"})
        print(f"29: new checksum {checksum_of(edited)}", file=sys.stderr)
        return w.capture(
            header="""
29-configmap-edited-rolling-restart: the search team switched catalog to OpenSearch by editing its ConfigMap
(`kubectl patch configmap catalog-config`, 100 seconds ago); the running pods read the ConfigMap through
envFrom at start, so they still use Solr, and the template's selfheal.dev/config-checksum no longer matches.
Generated entirely by the sandbox's controllers.
"""
        )


@case("30-config-hash-drift-restore-from-last-applied")
def restore_last_applied() -> str:
    t = at("2026-04-09T16:48:04Z")
    image = "registry.example/storefront/search-ui:2.2.0"
    with World("storefront", start=t - days(14), seed=30) as w:
        w.apply(
            stamp(
                deployment(
                    "search-ui",
                    replicas=2,
                    part_of="storefront",
                    containers=[container("search-ui", image, env=[{"name": "LOG_LEVEL", "value": "info"}])],
                )
            )
        )
        w.advance_to(t - timedelta(seconds=110))
        w.kubectl("set", "env", "deploy/search-ui", "LOG_LEVEL=debug")
        w.advance_to(t)
        return w.capture(
            header="""
30-config-hash-drift-restore-from-last-applied: search-ui is deployed by CI with `kubectl apply` and a stamped
selfheal.dev/config-hash; 110 seconds ago a developer ran `kubectl set env deploy/search-ui LOG_LEVEL=debug`
to chase a bug in production. Generated entirely by the sandbox's controllers.
"""
        )


@case("31-config-hash-drift-restore-from-replicaset")
def restore_replicaset() -> str:
    t = at("2026-05-14T09:06:05Z")
    image = "registry.example/payments/payouts:2.0.9"
    with World("payments", start=t - days(21), seed=31) as w:
        w.create(
            stamp(
                deployment(
                    "payouts",
                    replicas=2,
                    part_of="payments",
                    containers=[container("payouts", image, memory="256Mi", memory_limit="512Mi")],
                )
            )
        )
        w.advance_to(t - timedelta(seconds=105))
        w.kubectl("set", "resources", "deploy/payouts", "-c", "payouts", "--limits=memory=2Gi")
        w.advance_to(t)
        return w.capture(
            header="""
31-config-hash-drift-restore-from-replicaset: payouts is created by the team's tooling (`kubectl create`, so no
last-applied-configuration) with a stamped selfheal.dev/config-hash; 105 seconds ago someone raised its memory
limit by hand (`kubectl set resources --limits=memory=2Gi`), outside the reviewed manifests. Generated entirely
by the sandbox's controllers.
"""
        )


@case("32-config-hash-drift-no-restore-source")
def no_restore_source() -> str:
    t = at("2026-06-25T18:22:04Z")
    image, hotfix = (
        "registry.example/payments/refunds:1.4.0",
        "registry.example/payments/refunds:1.4.1-hotfix",
    )
    with World("payments", start=t - days(30), seed=32) as w:
        w.create(
            stamp(deployment("refunds", image, replicas=2, part_of="payments", revision_history_limit=0))
        )
        w.advance_to(t - hours(2))
        w.kubectl("set", "image", "deploy/refunds", f"refunds={hotfix}")
        w.advance_to(t)
        return w.capture(
            header="""
32-config-hash-drift-no-restore-source: refunds keeps no ReplicaSet history (revisionHistoryLimit: 0) and was
created without last-applied-configuration; two hours ago the on-call shipped a hotfix image by hand (`kubectl
set image`), so the live template no longer hashes to the stamped value and nothing records the template
that did. Generated entirely by the sandbox's controllers (which deleted the old ReplicaSet).
"""
        )


@case("33-configmap-deleted")
def configmap_deleted() -> str:
    t = at("2026-07-29T11:12:05Z")
    image = "registry.example/storefront/recommendations:0.9.8"
    cm = configmap("recommendations-config", {"MODEL": "als-v3", "TOP_N": "24"})
    with World("storefront", start=t - days(8), seed=33) as w:
        dep = deployment(
            "recommendations",
            replicas=3,
            part_of="storefront",
            containers=[container("recommendations", image, env_from_configmap="recommendations-config")],
        )
        w.apply(cm, stamp(dep, [cm]))
        w.advance_to(t - minutes(10))
        w.kubectl("delete", "configmap", "recommendations-config")
        w.advance_to(t)
        return w.capture(
            header="""
33-configmap-deleted: a clean-up script deleted ConfigMap recommendations-config ten minutes ago; the running
pods read it at start and still serve, but any pod started now would fail with CreateContainerConfigError.
Generated entirely by the sandbox's controllers.
"""
        )


# --- canaries -----------------------------------------------------------------------------------------------

SPLIT = '{"canary":10,"stable":90}'


def ea_canary(w: World, t: datetime, *, released: datetime, split: str = SPLIT) -> None:
    """dese-ea-plan-v5 as the prod overlay runs it: stable cpt-web 5.2.0 (HPA 3..10) and the canary
    Deployment, both carrying the traffic split; at `released` Argo CD syncs the canary's new image 5.3.0."""
    cm = ea_config()
    w.apply(
        cm,
        selfheal_settings(EA),
        pdb(EA, min_available=2, selector={"app": "cpt-web"}),
        ea_deployment(EA, f"{CPT}:5.2.0", replicas=3, track="stable", split=split, cm=cm),
        ea_deployment(f"{EA}-canary", f"{CPT}:5.2.0", replicas=1, track="canary", split=split, cm=cm),
    )
    w.advance_to(min(released, t - hours(1)))
    w.reload(add=[(hpa(EA, min_replicas=3, max_replicas=10), w.now - days(1))])
    w.advance_to(released)
    w.apply(ea_deployment(f"{EA}-canary", f"{CPT}:5.3.0", replicas=1, track="canary", split=split, cm=cm))


def storefront_canary(w: World, *, released: datetime, split: str = '{"canary":25,"stable":75}') -> None:
    """storefront's web-frontend (3 replicas) and web-frontend-canary (1), deployed by CI with kubectl apply;
    the split on the stable Deployment only; at `released` the canary gets 8.3.0."""
    app, shipper = "registry.example/storefront/web-frontend", "fluent/fluent-bit:2.2.2"
    w.apply(
        web_frontend(
            f"{app}:8.2.0", shipper, annotations={"rollout.argoproj.io/traffic-split": split}, track="stable"
        ),
        web_frontend(f"{app}:8.2.0", shipper, replicas=1, name="web-frontend-canary", track="canary"),
    )
    w.advance_to(released)
    w.apply(web_frontend(f"{app}:8.3.0", shipper, replicas=1, name="web-frontend-canary", track="canary"))


@case("34-canary-without-prometheus")
def canary_no_prometheus() -> str:
    t = at("2026-03-18T10:06:05Z")
    with World(EA, start=t - days(20), seed=34) as w:
        ea_canary(w, t, released=t - minutes(40))
        w.advance_to(t)
        return w.capture(
            header="""
34-canary-without-prometheus: the cpt-web 5.3.0 canary (10 % of traffic) has run for 40 minutes; the job has
no Prometheus configured (SELFHEAL_PROMETHEUS_URL unset), so nothing says how it is doing. Generated by the
sandbox's controllers; Argo CD's syncs are `kubectl apply`s; the HPA joined an hour before the capture with a
creation time a day earlier.
"""
        )


@case("35-canary-error-rate-above-threshold")
def canary_abort() -> str:
    t = at("2026-03-19T14:22:04Z")
    with World(EA, start=t - days(21), seed=35) as w:
        ea_canary(w, t, released=t - minutes(40))
        w.advance_to(t)
        return w.capture(
            header="""
35-canary-error-rate-above-threshold: the cpt-web 5.3.0 canary has run for 40 minutes; 100 seconds ago it
started answering 30 % of its requests with 5xx (a new code path calling a rate-limited partner API), 10 % over
the last 5 minutes. Generated by the sandbox's controllers; the error ratio comes from the case's Prometheus
data (case.yaml).
"""
        )


@case("36-canary-healthy-auto-promote")
def canary_promote() -> str:
    t = at("2026-04-15T11:40:05Z")
    with World("storefront", start=t - days(16), seed=36) as w:
        storefront_canary(w, released=t - minutes(11))
        w.advance_to(t)
        return w.capture(
            header="""
36-canary-healthy-auto-promote: the web-frontend 8.3.0 canary (25 % of traffic) has run for 11 minutes at
0.4 % errors, like stable; the bake time (10 minutes) passed a minute ago and this namespace runs the job with
SELFHEAL_CANARY_AUTO_PROMOTE=true. Generated by the sandbox's controllers (CI's kubectl apply); the error
ratios come from the case's Prometheus data.
"""
        )


@case("37-canary-promote-argocd-tracked")
def canary_promote_argocd() -> str:
    t = at("2026-04-16T09:14:04Z")
    with World(EA, start=t - days(22), seed=37) as w:
        ea_canary(w, t, released=t - minutes(11))
        w.advance_to(t)
        return w.capture(
            header="""
37-canary-promote-argocd-tracked: the cpt-web 5.3.0 canary has run for 11 minutes at 0.2 % errors, past its
10-minute bake time; the job runs with SELFHEAL_CANARY_AUTO_PROMOTE=true, and both Deployments are tracked by
Argo CD (automated sync with selfHeal). Generated by the sandbox's controllers; the error ratios come from the
case's Prometheus data.
"""
        )


@case("38-canary-healthy-no-auto-promote")
def canary_healthy() -> str:
    t = at("2026-04-20T15:52:05Z")
    with World(EA, start=t - days(18), seed=38) as w:
        ea_canary(w, t, released=t - minutes(50))
        w.advance_to(t)
        return w.capture(
            header="""
38-canary-healthy-no-auto-promote: the cpt-web 5.3.0 canary has run for 50 minutes at 0.2 % errors; promotion
is a human's call here (SELFHEAL_CANARY_AUTO_PROMOTE unset). Generated by the sandbox's controllers; the error
ratios come from the case's Prometheus data.
"""
        )


@case("39-canary-aborted-stays-at-zero")
def canary_aborted() -> str:
    t = at("2026-04-22T13:26:04Z")
    with World(EA, start=t - days(24), seed=39) as w:
        ea_canary(w, t, released=t - minutes(55))
        w.advance_to(t - minutes(25))
        # what the job's canary_abort wrote 25 minutes ago (history in case.yaml): the split, then the replicas
        split = '{"canary":0,"stable":100}'
        w.kubectl("annotate", "--overwrite", f"deploy/{EA}", f"rollout.argoproj.io/traffic-split={split}")
        w.kubectl("scale", f"deploy/{EA}-canary", "--replicas=0")
        w.advance_to(t)
        return w.capture(
            header="""
39-canary-aborted-stays-at-zero: 25 minutes ago the job aborted the cpt-web 5.3.0 canary (error ratio 9 %):
traffic split {"canary":0,"stable":100} on the stable Deployment, canary scaled to 0. The team is looking at
the logs; Git (and the canary's last-applied-configuration) still say 1 replica. Generated by the sandbox's
controllers; the abort's two writes are made with kubectl as the job makes them.
"""
        )


@case("40-canary-malformed-split-high-errors")
def canary_malformed() -> str:
    t = at("2026-05-06T17:30:05Z")
    with World("storefront", start=t - days(13), seed=40) as w:
        storefront_canary(w, released=t - minutes(30), split="25")
        w.advance_to(t)
        return w.capture(
            header="""
40-canary-malformed-split-high-errors: web-frontend's traffic-split annotation was written by hand as "25"
instead of {"canary":25,"stable":75}; the 8.3.0 canary has run for 30 minutes and 100 seconds ago started
failing 30 % of its requests (10 % over 5 minutes). Generated by the sandbox's controllers; the error ratios
come from the case's Prometheus data.
"""
        )


@case("41-canary-baking")
def canary_baking() -> str:
    t = at("2026-05-07T08:44:04Z")
    with World("storefront", start=t - days(14), seed=41) as w:
        storefront_canary(w, released=t - minutes(4))
        w.advance_to(t)
        return w.capture(
            header="""
41-canary-baking: the web-frontend 8.3.0 canary went out 4 minutes ago and looks healthy (0.3 % errors); the
job runs with SELFHEAL_CANARY_AUTO_PROMOTE=true, but the 10-minute bake time has not passed. Generated by the
sandbox's controllers; the error ratios come from the case's Prometheus data.
"""
        )


# --- suspension ----------------------------------------------------------------------------------------------


@case("42-suspended-by-annotation")
def suspended_annotation() -> str:
    t = at("2026-06-11T21:06:05Z")
    old, new = "registry.example/shop/checkout:1.15.2", "registry.example/shop/checkout:1.16.0"
    with World("shop", start=t - days(10), seed=42, behaviors={new: "CrashLoop"}) as w:
        w.apply(deployment("checkout", old, replicas=3, part_of="shop"))
        w.advance_to(t - hours(3))
        w.kubectl("annotate", "cronjob", "self-heal-cpt", "cronjob.kubernetes.io/suspended=true")
        w.advance_to(t - minutes(9))
        w.kubectl("set", "image", "deploy/checkout", f"checkout={new}")
        w.advance_to(t)
        return w.capture(
            header="""
42-suspended-by-annotation: the platform team annotated the self-heal CronJob cronjob.kubernetes.io/suspended:
"true" three hours ago for tonight's database migration window; checkout 1.16.0, rolled out 9 minutes ago,
crash-loops. Generated entirely by the sandbox's controllers.
""",
            behaviors={old: "Healthy"},
        )


@case("43-suspended-by-spec")
def suspended_spec() -> str:
    t = at("2026-06-12T02:14:04Z")
    image = "registry.example/storefront/recommendations:0.9.8"
    with World("storefront", start=t - days(9), seed=43) as w:
        w.apply(deployment("recommendations", image, replicas=3, part_of="storefront"))
        w.advance_to(t - hours(1))
        w.kubectl("patch", "cronjob", "self-heal-cpt", "-p", '{"spec":{"suspend":true}}')
        w.advance_to(t - minutes(20))
        w.kubectl("scale", "deploy/recommendations", "--replicas=1")
        w.advance_to(t)
        return w.capture(
            header="""
43-suspended-by-spec: the self-heal CronJob was suspended (spec.suspend: true) an hour ago for a cluster
upgrade; 20 minutes ago the upgrade runbook scaled recommendations to 1. Someone starts the job by hand
(`kubectl create job --from=cronjob/self-heal-cpt`). Generated entirely by the sandbox's controllers.
"""
        )


# --- the escalation ladder, from history ------------------------------------------------------------------------


@case("44-ladder-restart-did-not-help-rollback")
def ladder_rollback() -> str:
    t = at("2026-03-24T11:36:04Z")
    old, new = "registry.example/shop/checkout:1.21.0", "registry.example/shop/checkout:1.22.0"
    with World("shop", start=t - days(30), seed=44) as w:
        w.apply(deployment("checkout", old, replicas=4, part_of="shop"))
        w.advance_to(t - hours(2))
        w.kubectl("set", "image", "deploy/checkout", f"checkout={new}")
        w.advance_to(at("2026-03-24T11:22:40Z"))
        first = w.pods("app=checkout")[1]
        w.reload(
            behaviors={new: "CrashLoop"},
            edit=crashing([first], "checkout", onset=w.now, until=at("2026-03-24T11:24:04Z")),
        )
        w.advance_to(at("2026-03-24T11:24:04Z"))
        w.evict(first)  # the job's restart (history in case.yaml)
        w.advance(1)
        print(f"44: evicted {first}, replacement {set(w.pods('app=checkout'))}", file=sys.stderr)
        w.advance_to(t)
        return w.capture(
            header="""
44-ladder-restart-did-not-help-rollback: checkout 1.22.0 rolled out two hours ago. At 11:22:40 one pod began
crash-looping (exit 1, a NullPointerException in the new promo-code path); the 11:24 run restarted it (history),
and its replacement crashes the same way; the cooldown ended at 11:34. Generated: the rollout, the eviction and
the replacement's crash loop by the sandbox's controllers (1.22.0 behaves CrashLoop for pods created after
11:22:40); the first pod's crash loop is the sandbox runtime model's status (World.reload + crashing).
""",
            behaviors={old: "Healthy"},
        )


@case("45-ladder-rollback-did-not-help-needs-human")
def ladder_needs_human() -> str:
    t = at("2026-05-12T16:44:05Z")
    old, new = "registry.example/payments/payments-api:2.7.0", "registry.example/payments/payments-api:2.8.0"
    with World("payments", start=t - days(30), seed=45) as w:
        w.apply(deployment("payments-api", old, replicas=4, part_of="payments"))
        w.advance_to(t - minutes(70))
        w.kubectl("set", "image", "deploy/payments-api", f"payments-api={new}")
        w.advance_to(at("2026-05-12T16:31:10Z"))
        w.reload(
            behaviors={new: "CrashLoop", old: "CrashLoop"},
            edit=crashing(w.pods("app=payments-api"), "payments-api", onset=w.now, until=t),
        )
        w.advance_to(at("2026-05-12T16:32:04Z"))
        w.kubectl("rollout", "undo", "deploy/payments-api")  # the job's rollback (history in case.yaml)
        w.advance_to(t)
        return w.capture(
            header="""
45-ladder-rollback-did-not-help-needs-human: payments-api 2.8.0 rolled out 70 minutes ago and migrated the
database schema; at 16:31:10 its pods began crash-looping, the 16:32 run rolled back to 2.7.0 (history), and
2.7.0 crash-loops too: it cannot read the migrated schema. The cooldown ended at 16:42. Generated: the rollouts,
the rollback (`kubectl rollout undo`, as the job does it) and 2.7.0's crash loops by the sandbox's controllers;
2.8.0's crash loops are the sandbox runtime model's statuses (World.reload + crashing).
"""
        )


@case("46-ladder-cooldown")
def ladder_cooldown() -> str:
    t = at("2026-03-30T08:20:04Z")
    image = "registry.example/shop/cart:2.19.3"
    with World("shop", start=t - days(12), seed=46) as w:
        w.apply(deployment("cart", image, replicas=5, part_of="shop"))
        w.advance_to(at("2026-03-30T08:13:50Z"))
        pods = w.pods("app=cart")
        w.reload(edit=crashing([pods[0]], "cart", onset=w.now, until=at("2026-03-30T08:16:04Z")))
        w.advance_to(at("2026-03-30T08:16:04Z"))
        w.evict(pods[0])  # the job's restart (history in case.yaml); the replacement is healthy
        w.advance_to(at("2026-03-30T08:17:10Z"))
        w.reload(edit=crashing([pods[3]], "cart", onset=w.now, until=t))
        print(f"46: evicted {pods[0]}, now crashing {pods[3]}", file=sys.stderr)
        w.advance_to(t)
        return w.capture(
            header="""
46-ladder-cooldown: the 08:16 run restarted a crash-looping cart pod (history); its replacement is healthy. At
08:17:10 another cart pod began crash-looping; the 08:18 run left it alone (cooldown, history). Generated: the
rollout and the eviction by the sandbox's controllers; the two crash loops are the sandbox runtime model's
statuses (World.reload + crashing).
""",
            behaviors={image: "Healthy"},
        )


@case("47-ladder-window-expired-restart-again")
def ladder_window_expired() -> str:
    t = at("2026-04-02T18:30:06Z")
    image = "registry.example/shop/cart:2.19.3"
    with World("shop", start=t - days(12), seed=47) as w:
        w.apply(deployment("cart", image, replicas=5, part_of="shop"))
        w.advance_to(at("2026-04-02T16:17:40Z"))
        pods = w.pods("app=cart")
        w.reload(edit=crashing([pods[1]], "cart", onset=w.now, until=at("2026-04-02T16:20:04Z")))
        w.advance_to(at("2026-04-02T16:20:04Z"))
        w.evict(pods[1])  # the job's restart 2 h 10 min ago (history in case.yaml)
        w.advance_to(t - FIRST)
        w.reload(edit=crashing([pods[4]], "cart", onset=w.now, until=t))
        print(f"47: evicted {pods[1]}, now crashing {pods[4]}", file=sys.stderr)
        w.advance_to(t)
        return w.capture(
            header="""
47-ladder-window-expired-restart-again: at 16:20 the job restarted a crash-looping cart pod (history) and the
replacement has run fine since; at 18:27:46, two hours later, a different cart pod began crash-looping.
Generated: the rollout and the eviction by the sandbox's controllers; the crash loops are the sandbox runtime
model's statuses (World.reload + crashing).
""",
            behaviors={image: "Healthy"},
        )


@case("48-established-single-pod-restart-did-not-help")
def established_single_pod() -> str:
    t = at("2026-06-09T13:52:05Z")
    old, image = "registry.example/shop/orders:3.8.0", "registry.example/shop/orders:3.9.4"
    with World("shop", start=t - days(60), seed=48) as w:
        w.apply(deployment("orders", old, replicas=4, part_of="shop"))
        w.advance_to(t - days(21))
        w.kubectl("set", "image", "deploy/orders", f"orders={image}")
        w.advance_to(at("2026-06-09T13:37:40Z"))
        first = w.pods("app=orders")[2]
        w.reload(
            behaviors={image: "CrashLoop"},
            edit=crashing([first], "orders", onset=w.now, until=at("2026-06-09T13:40:04Z")),
        )
        w.advance_to(at("2026-06-09T13:40:04Z"))
        w.evict(first)  # the job's restart (history in case.yaml)
        w.advance(1)
        print(f"48: evicted {first}, pods {w.pods('app=orders')}", file=sys.stderr)
        w.advance_to(t)
        return w.capture(
            header="""
48-established-single-pod-restart-did-not-help: orders 3.9.4 has run for 21 days on four pods. At 13:37:40 the
pod consuming partition 7 of the order-events topic hit a malformed message and began crash-looping (exit 1);
the 13:40 run restarted it (history), the replacement took over partition 7 and crashes on the same message.
The other three pods are fine. Generated: the rollouts, the eviction and the replacement's crash loop by the
sandbox's controllers (3.9.4 behaves CrashLoop for pods created after 13:37:40: the poisoned partition goes to
the new pod); the first pod's crash loop is the sandbox runtime model's status (World.reload + crashing).
""",
            behaviors={old: "CrashLoop"},
        )


# --- more edges ------------------------------------------------------------------------------------------------


@case("49-pod-unready-past-progress-deadline")
def unready_pod() -> str:
    t = at("2026-05-20T21:14:04Z")
    image = "registry.example/storefront/catalog:4.12.0"
    with World("storefront", start=t - days(9), seed=49) as w:
        w.apply(deployment("catalog", image, replicas=3, part_of="storefront"))
        w.advance_to(t - timedelta(minutes=10, seconds=40))
        w.reload(edit=unready(w.pods("app=catalog")[1:2], "catalog", since=w.now))
        w.advance_to(t)
        return w.capture(
            header="""
49-pod-unready-past-progress-deadline: one catalog pod has been running but unready for 10 minutes 40 seconds
(a worker thread deadlocked: /ready fails, /healthz still answers, so the kubelet never restarts it); no
rollout is in progress. Generated: the rollout by the sandbox's controllers; the failing readiness probe is
written into the pod's status (World.reload + unready); the controllers then counted it unavailable.
""",
            behaviors={image: "Healthy"},
        )


@case("50-ignored-deployment")
def ignored() -> str:
    t = at("2026-07-14T09:10:05Z")
    old, new = "registry.example/shop/legacy-search:0.31.2", "registry.example/shop/legacy-search:0.32.0"
    with World("shop", start=t - days(90), seed=50, behaviors={new: "CrashLoop"}) as w:
        w.apply(
            deployment(
                "legacy-search", old, replicas=2, part_of="shop", annotations={"selfheal.dev/ignore": "true"}
            )
        )
        w.advance_to(t - minutes(6))
        w.kubectl("set", "image", "deploy/legacy-search", f"legacy-search={new}")
        w.advance_to(t)
        return w.capture(
            header="""
50-ignored-deployment: legacy-search is annotated selfheal.dev/ignore: "true" (its team runs it by hand while
they replace it); their 0.32.0, rolled out 6 minutes ago, crash-loops. Generated entirely by the sandbox's
controllers.
""",
            behaviors={old: "Healthy"},
        )


@case("51-first-deploy-no-previous-revision")
def first_deploy() -> str:
    t = at("2026-08-03T15:40:04Z")
    image = "registry.example/payments/tax-service:0.1.0"
    with World("payments", start=t - days(3), seed=51, behaviors={image: "CrashLoop"}) as w:
        w.advance_to(t - timedelta(seconds=150))
        w.apply(deployment("tax-service", image, replicas=2, part_of="payments"))
        w.advance_to(t)
        return w.capture(
            header="""
51-first-deploy-no-previous-revision: tax-service, a brand-new service, was deployed for the first time 150
seconds ago; both pods exit 1 at start (a missing environment variable) and crash-loop. There is no earlier
revision. Generated entirely by the sandbox's controllers.
"""
        )


@case("52-crash-below-restart-threshold")
def below_threshold() -> str:
    t = at("2026-09-01T12:00:05Z")
    image = "registry.example/shop/cart:2.19.3"
    with World("shop", start=t - days(12), seed=52) as w:
        w.apply(deployment("cart", image, replicas=3, part_of="shop"))
        w.advance_to(t - timedelta(seconds=25))
        w.reload(edit=crashing(w.pods("app=cart")[:1], "cart", onset=w.now, until=t))
        w.advance_to(t)
        return w.capture(
            header="""
52-crash-below-restart-threshold: 25 seconds ago one cart pod exited 1 (a brief Redis failover) and has been
restarted twice, now in its first back-off; the others are fine. Generated: the rollout by the sandbox's
controllers; the crash loop is the sandbox runtime model's status (World.reload + crashing). In the replay the
pod's status is frozen as captured (the sandbox keeps a dumped pod's status), so the second pass sees the same
two restarts.
""",
            behaviors={image: "Healthy"},
        )


@case("53-sidecar-crash-in-one-pod")
def sidecar_one_pod() -> str:
    t = at("2026-10-12T07:46:04Z")
    app, shipper = "registry.example/storefront/web-frontend:8.2.0", "fluent/fluent-bit:2.2.2"
    with World("storefront", start=t - days(16), seed=53) as w:
        w.apply(web_frontend(app, shipper))
        w.advance_to(t - FIRST)
        w.reload(edit=crashing(w.pods("app=web-frontend")[2:3], "log-shipper", onset=w.now, until=t))
        w.advance_to(t)
        return w.capture(
            header="""
53-sidecar-crash-in-one-pod: in one of web-frontend's three pods (a 16-day-old revision) the log-shipper
sidecar began exiting 1 at 07:43:44 (its buffer file on the pod's emptyDir is corrupted); the web-frontend
container beside it keeps serving. Generated: the rollout by the sandbox's controllers; the sidecar's crash loop
is the sandbox runtime model's status (World.reload + crashing). A replacement pod gets a fresh emptyDir.
""",
            behaviors={app: "Healthy", shipper: "Healthy"},
        )


@case("54-hand-edited-image-typo-on-stamped-deployment")
def hand_typo_stamped() -> str:
    t = at("2026-10-20T10:34:05Z")
    old, typo = (
        "registry.example/storefront/catalog:4.12.0",
        "registry.example/storefront/catalog:4.12.1-hotfx",
    )
    with World("storefront", start=t - days(19), seed=54, behaviors={typo: "ImagePullBackOff"}) as w:
        w.apply(
            stamp(
                deployment("catalog", old, replicas=3, max_surge=1, max_unavailable=0, part_of="storefront")
            )
        )
        w.advance_to(t - timedelta(minutes=5, seconds=45))
        w.kubectl("set", "image", "deploy/catalog", f"catalog={typo}")
        w.advance_to(t)
        return w.capture(
            header="""
54-hand-edited-image-typo-on-stamped-deployment: catalog is deployed by CI (kubectl apply, stamped
selfheal.dev/config-hash); 5 minutes 45 seconds ago the on-call tried to ship a hotfix by hand with `kubectl set
image` and mistyped the tag (4.12.1-hotfx). The surge pod cannot pull it; the live template no longer hashes to
the stamped value either. Generated entirely by the sandbox's controllers.
""",
            behaviors={old: "Healthy"},
        )


@case("55-established-revision-image-no-longer-pulls")
def image_gone() -> str:
    t = at("2026-11-03T04:18:04Z")
    image = "registry.example/analytics/ingest:4.0.2"
    with World("analytics", start=t - days(44), seed=55) as w:
        w.apply(deployment("ingest", image, replicas=3, part_of="analytics"))
        w.advance_to(t - timedelta(minutes=6, seconds=50))
        pods = w.pods("app=ingest")
        w.reload(behaviors={image: "ImagePullBackOff"})
        for pod in pods:  # the node pool was replaced: every pod is drained and recreated
            w.evict(pod)
        w.advance_to(t)
        return w.capture(
            header="""
55-established-revision-image-no-longer-pulls: ingest 4.0.2 has run for 44 days. Last night a registry
retention policy deleted old tags, 4.0.2 among them; 6 minutes 50 seconds ago the node pool was replaced, every
ingest pod was drained and recreated, and none can pull its image (ErrImagePull / ImagePullBackOff). Generated
entirely by the sandbox's controllers (the image's behaviour turns ImagePullBackOff when the tag is deleted:
World.reload; the drain is three evictions).
""",
        )


@case("56-rollout-stuck-unschedulable")
def rollout_unschedulable() -> str:
    t = at("2026-11-10T16:06:05Z")
    old, new = "registry.example/search/search-api:2.4.1", "registry.example/search/search-api:2.5.0"
    with World("search", start=t - days(13), seed=56) as w:
        w.apply(
            deployment(
                "search-api",
                replicas=3,
                max_surge=1,
                max_unavailable=0,
                part_of="search",
                containers=[container("search-api", old, cpu="500m", memory="512Mi", memory_limit="1Gi")],
            )
        )
        w.advance_to(t - minutes(11))
        w.apply(
            deployment(
                "search-api",
                replicas=3,
                max_surge=1,
                max_unavailable=0,
                part_of="search",
                containers=[container("search-api", new, cpu="8", memory="512Mi", memory_limit="1Gi")],
            )
        )
        w.advance(1)
        fresh = [
            p for p in w.pods("app=search-api") if w.get("Pod", p)["spec"]["containers"][0]["image"] == new
        ]
        w.reload(
            edit=unschedulable(
                fresh,
                "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are "
                "available: 3 No preemption victims found for incoming pod.",
            )
        )
        w.advance_to(t)
        return w.capture(
            header="""
56-rollout-stuck-unschedulable: search-api 2.5.0 went out 11 minutes ago with a CPU request raised from 500m to
8 (a typo for 800m); no node can fit its pod, which stays Pending (Unschedulable), and the rollout passed its
600 s progress deadline a minute ago. Generated: the rollout by the sandbox's controllers; the sandbox's one
node accepts every pod, so the new pod's unschedulable status (unbound, PodScheduled False) is written by
World.reload + unschedulable; the controllers then declared ProgressDeadlineExceeded on their own.
""",
            behaviors={old: "Healthy"},
        )


@case("57-config-ladder-configmap-restart-after-restore")
def config_ladder() -> str:
    t = at("2026-11-17T11:24:04Z")
    image = "registry.example/storefront/catalog:4.12.0"
    cm = configmap("catalog-config", {"SEARCH_BACKEND": "solr", "CACHE_TTL_SECONDS": "120"})
    with World("storefront", start=t - days(9), seed=57) as w:
        dep = deployment(
            "catalog",
            replicas=3,
            part_of="storefront",
            containers=[
                container(
                    "catalog",
                    image,
                    env=[{"name": "LOG_LEVEL", "value": "info"}],
                    env_from_configmap="catalog-config",
                )
            ],
        )
        w.apply(cm, stamp(dep, [cm]))
        w.advance_to(t - timedelta(minutes=12, seconds=40))
        w.kubectl("set", "env", "deploy/catalog", "LOG_LEVEL=debug")
        w.advance_to(t - timedelta(minutes=12) + timedelta(seconds=4))
        w.kubectl(
            "set", "env", "deploy/catalog", "LOG_LEVEL=info"
        )  # the job's restore (history in case.yaml)
        w.advance_to(t - timedelta(minutes=2, seconds=50))
        w.kubectl(
            "patch",
            "configmap",
            "catalog-config",
            "--type=merge",
            "-p",
            '{"data":{"SEARCH_BACKEND":"opensearch"}}',
        )
        w.advance_to(t)
        edited = configmap("catalog-config", {**cm["data"], "SEARCH_BACKEND": "opensearch"})
        print(f"57: new checksum {checksum_of(edited)}", file=sys.stderr)
        return w.capture(
            header="""
57-config-ladder-configmap-restart-after-restore: at 11:11:24 an engineer set LOG_LEVEL=debug on catalog by
hand, and the 11:12 run restored the template (history). At 11:21:14 the search team's pipeline switched
catalog-config to OpenSearch; the pods, started at 11:12, still use Solr. The 11:22 run was still in the
cooldown of the restore. Generated entirely by the sandbox's controllers; the job's restore is the `kubectl set
env LOG_LEVEL=info` that gives back the same template.
""",
        )


@case("58-cooldown-spans-kinds-of-action")
def cooldown_any_action() -> str:
    t = at("2026-11-24T15:50:05Z")
    old, new = "registry.example/shop/checkout:1.16.0", "registry.example/shop/checkout:1.16.1"
    with World("shop", start=t - days(6), seed=58, behaviors={new: "CrashLoop"}) as w:
        w.apply(
            deployment(
                "checkout",
                old,
                replicas=3,
                part_of="shop",
                annotations={"selfheal.dev/desired-replicas": "3"},
            )
        )
        w.advance_to(t - minutes(5))
        w.kubectl("scale", "deploy/checkout", "--replicas=1")
        w.advance_to(t - minutes(4) + timedelta(seconds=4))
        w.kubectl("scale", "deploy/checkout", "--replicas=3")  # the job's scale (history in case.yaml)
        w.advance_to(t - timedelta(seconds=150))
        w.kubectl("set", "image", "deploy/checkout", f"checkout={new}")
        w.advance_to(t)
        return w.capture(
            header="""
58-cooldown-spans-kinds-of-action: at 15:45 a load-test script scaled checkout to 1 and the 15:46 run scaled it
back to 3 (history); 150 seconds ago checkout 1.16.1 went out and its first pod crash-loops, the rollout stuck
with 1.16.0 serving. Generated entirely by the sandbox's controllers; the job's scale is a `kubectl scale`.
""",
            behaviors={old: "Healthy"},
        )


def main(argv: list[str]) -> int:
    names = argv or sorted(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    for name in names:
        text = CASES[name]()
        out = CORPUS / name / "dump.yaml"
        out.parent.mkdir(exist_ok=True)
        out.write_text(text)
        print(f"{out.relative_to(CORPUS.parent.parent)}: {len(text.splitlines())} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
