"""Server-side printing: the rows `kubectl get` shows must be the ones a 1.32 apiserver would send.

Every expected cell below was worked out by hand from the real printer in kubernetes/kubernetes
`pkg/printers/internalversion/printers.go` (release-1.32; the function is named next to each case),
for objects written the way `kubectl get -o yaml` shows them. The clock is frozen at NOW.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubesandbox.apiserver.tables import PRINTERS, human_duration, to_table
from kubesandbox.resources.errors import ApiError

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def obj(text: str) -> dict[str, Any]:
    loaded = yaml.safe_load(textwrap.dedent(text))
    assert isinstance(loaded, dict)
    return loaded


def cells(kind: str, o: dict[str, Any]) -> list[Any]:
    table = to_table(kind, [o], NOW)
    return list(table["rows"][0]["cells"])


# ---------------------------------------------------------------------------------------------------
# duration.HumanDuration (k8s.io/apimachinery/pkg/util/duration)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=-2), "<invalid>"),
        (timedelta(seconds=-2, microseconds=1), "0s"),  # up to 2s of clock skew reads as "now"
        (timedelta(0), "0s"),
        (timedelta(seconds=5), "5s"),
        (timedelta(seconds=119, microseconds=999_000), "119s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(minutes=2, seconds=10), "2m10s"),
        (timedelta(minutes=9, seconds=59), "9m59s"),
        (timedelta(minutes=10, seconds=1), "10m"),
        (timedelta(minutes=70), "70m"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=3, minutes=1), "3h1m"),
        (timedelta(hours=8, minutes=59), "8h"),
        (timedelta(hours=47), "47h"),
        (timedelta(days=4, hours=5), "4d5h"),
        (timedelta(days=8, hours=23), "8d"),
        (timedelta(days=367), "367d"),
        (timedelta(days=730), "2y"),
        (timedelta(days=731), "2y1d"),
        (timedelta(days=365 * 8 + 1), "8y"),
    ],
)
def test_human_duration_matches_apimachinery(delta: timedelta, expected: str) -> None:
    assert human_duration(delta) == expected


# ---------------------------------------------------------------------------------------------------
# Pods: printPod


def pod(status: str, *, spec_extra: str = "", meta_extra: str = "") -> dict[str, Any]:
    """A pod of the `web` Deployment with one container; `status` is its YAML status block."""
    p = obj("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-7d4b9c-x2x9q
          namespace: shop
          creationTimestamp: "2026-01-01T11:00:00Z"
        spec:
          nodeName: node-1
          containers:
          - name: web
            image: nginx:1.27
        """)
    p["metadata"].update(yaml.safe_load(meta_extra) or {})
    p["spec"].update(yaml.safe_load(spec_extra) or {})
    p["status"] = yaml.safe_load(status)
    return p


RUNNING = """
phase: Running
podIP: 10.244.1.7
podIPs: [{ip: 10.244.1.7}]
conditions:
- {type: Initialized, status: "True"}
- {type: Ready, status: "True"}
containerStatuses:
- name: web
  ready: true
  restartCount: 0
  started: true
  state: {running: {startedAt: "2026-01-01T11:00:05Z"}}
"""

CRASHLOOP = """
phase: Running
conditions:
- {type: Ready, status: "False"}
containerStatuses:
- name: web
  ready: false
  restartCount: 5
  started: false
  lastState:
    terminated: {exitCode: 1, reason: Error, startedAt: "2026-01-01T11:57:50Z", finishedAt: "2026-01-01T11:58:00Z"}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: back-off 2m40s restarting failed container=web pod=web-7d4b9c-x2x9q_shop(uid)
"""


def waiting(reason: str, message: str = "") -> str:
    return f"""
phase: Pending
containerStatuses:
- name: web
  ready: false
  restartCount: 0
  started: false
  state: {{waiting: {{reason: {reason}, message: {json.dumps(message)}}}}}
"""


OOMKILLED = """
phase: Running
containerStatuses:
- name: web
  ready: false
  restartCount: 3
  lastState:
    terminated: {exitCode: 137, reason: OOMKilled, finishedAt: "2026-01-01T11:56:50Z"}
  state:
    terminated: {exitCode: 137, reason: OOMKilled, startedAt: "2026-01-01T11:59:00Z", finishedAt: "2026-01-01T11:59:40Z"}
"""

COMPLETED = """
phase: Succeeded
containerStatuses:
- name: web
  ready: false
  restartCount: 0
  state: {terminated: {exitCode: 0, reason: Completed, finishedAt: "2026-01-01T11:10:00Z"}}
"""

ONE_INIT = """
initContainers:
- name: migrate
  image: migrate:1
"""

INIT_CRASHLOOP = """
phase: Pending
conditions:
- {type: Initialized, status: "False", reason: ContainersNotInitialized}
initContainerStatuses:
- name: migrate
  ready: false
  restartCount: 4
  lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2026-01-01T11:59:10Z"}}
  state: {waiting: {reason: CrashLoopBackOff}}
containerStatuses:
- name: web
  ready: false
  restartCount: 0
  state: {waiting: {reason: PodInitializing}}
"""

INIT_RUNNING = """
phase: Pending
conditions:
- {type: Initialized, status: "False"}
initContainerStatuses:
- name: migrate
  ready: false
  restartCount: 0
  state: {running: {startedAt: "2026-01-01T11:59:00Z"}}
containerStatuses:
- name: web
  ready: false
  restartCount: 0
  state: {waiting: {reason: PodInitializing}}
"""

INIT_FAILED = """
phase: Pending
initContainerStatuses:
- name: migrate
  ready: false
  restartCount: 0
  state: {terminated: {exitCode: 2}}
"""

SIDECAR = """
initContainers:
- name: proxy
  image: envoy:1.30
  restartPolicy: Always
"""

SIDECAR_RUNNING = """
phase: Running
conditions:
- {type: Initialized, status: "True"}
- {type: Ready, status: "True"}
initContainerStatuses:
- name: proxy
  ready: true
  started: true
  restartCount: 1
  lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "2026-01-01T11:30:00Z"}}
  state: {running: {startedAt: "2026-01-01T11:30:01Z"}}
containerStatuses:
- name: web
  ready: true
  restartCount: 0
  state: {running: {startedAt: "2026-01-01T11:00:05Z"}}
"""

TWO_CONTAINERS = """
- name: log-shipper
  image: fluent-bit:3
"""

ONE_DONE_ONE_RUNNING = """
phase: Running
conditions:
- {type: Ready, status: "False"}
containerStatuses:
- name: web
  ready: true
  restartCount: 0
  state: {running: {startedAt: "2026-01-01T11:00:05Z"}}
- name: log-shipper
  ready: false
  restartCount: 0
  state: {terminated: {exitCode: 0, reason: Completed}}
"""


@pytest.mark.parametrize(
    ("story", "status", "spec_extra", "meta_extra", "ready", "state", "restarts"),
    [
        ("healthy", RUNNING, "", "", "1/1", "Running", "0"),
        (
            "crash looping: the waiting reason wins, restarts say when",
            CRASHLOOP,
            "",
            "",
            "0/1",
            "CrashLoopBackOff",
            "5 (2m ago)",
        ),
        (
            "image cannot be pulled, backing off",
            waiting("ImagePullBackOff", 'Back-off pulling image "nginx:1.99"'),
            "",
            "",
            "0/1",
            "ImagePullBackOff",
            "0",
        ),
        (
            "image pull just failed",
            waiting("ErrImagePull", "manifest unknown"),
            "",
            "",
            "0/1",
            "ErrImagePull",
            "0",
        ),
        (
            "secret missing",
            waiting("CreateContainerConfigError", 'secret "db" not found'),
            "",
            "",
            "0/1",
            "CreateContainerConfigError",
            "0",
        ),
        (
            "container still being created",
            waiting("ContainerCreating"),
            "",
            "",
            "0/1",
            "ContainerCreating",
            "0",
        ),
        (
            "OOM killed: the terminated reason, lastState dates the restart",
            OOMKILLED,
            "",
            "",
            "0/1",
            "OOMKilled",
            "3 (3m10s ago)",
        ),
        ("finished", COMPLETED, "", "", "0/1", "Completed", "0"),
        ("not scheduled yet: the phase", "phase: Pending\n", "", "", "0/1", "Pending", "0"),
        (
            "being deleted",
            RUNNING,
            "",
            'deletionTimestamp: "2026-01-01T11:59:30Z"',
            "1/1",
            "Terminating",
            "0",
        ),
        (
            "deleted after finishing stays Completed",
            COMPLETED,
            "",
            'deletionTimestamp: "2026-01-01T11:59:30Z"',
            "0/1",
            "Completed",
            "0",
        ),
        (
            "init container crash looping",
            INIT_CRASHLOOP,
            ONE_INIT,
            "",
            "0/1",
            "Init:CrashLoopBackOff",
            "4 (50s ago)",
        ),
        ("init container running", INIT_RUNNING, ONE_INIT, "", "0/1", "Init:0/1", "0"),
        (
            "init container exited non-zero without a reason",
            INIT_FAILED,
            ONE_INIT,
            "",
            "0/1",
            "Init:ExitCode:2",
            "0",
        ),
        (
            "sidecar counts in READY and RESTARTS",
            SIDECAR_RUNNING,
            SIDECAR,
            "",
            "2/2",
            "Running",
            "1 (30m ago)",
        ),
    ],
)
def test_pod_status_column(
    story: str, status: str, spec_extra: str, meta_extra: str, ready: str, state: str, restarts: str
) -> None:
    row = cells("Pod", pod(status, spec_extra=spec_extra, meta_extra=meta_extra))
    assert row[1:4] == [ready, state, restarts], story


def test_completed_container_next_to_a_running_one_reads_not_ready() -> None:
    p = pod(ONE_DONE_ONE_RUNNING)
    p["spec"]["containers"] += yaml.safe_load(TWO_CONTAINERS)
    # printPod: reason "Completed" with a running container becomes Running/NotReady by the Ready condition
    assert cells("Pod", p)[1:3] == ["1/2", "NotReady"]


def test_running_pod_full_row_includes_the_wide_cells() -> None:
    # printPod: the apiserver always generates with Wide=true; kubectl hides priority-1 columns itself
    assert cells("Pod", pod(RUNNING)) == [
        "web-7d4b9c-x2x9q",
        "1/1",
        "Running",
        "0",
        "60m",
        "10.244.1.7",
        "node-1",
        "<none>",
        "<none>",
    ]


def test_pending_pod_has_no_ip_node_or_readiness_gates() -> None:
    p = pod(
        'phase: Pending\nconditions:\n- {type: www.example.com/lb-ready, status: "False"}\n',
        spec_extra="readinessGates:\n- conditionType: www.example.com/lb-ready\n",
    )
    del p["spec"]["nodeName"]
    assert cells("Pod", p)[5:] == ["<none>", "<none>", "<none>", "0/1"]


def test_pod_ip_falls_back_to_pod_ip_like_the_v1_conversion() -> None:
    p = pod(RUNNING)
    del p["status"]["podIPs"]
    assert cells("Pod", p)[5] == "10.244.1.7"


def test_finished_pods_carry_the_completed_row_condition() -> None:
    succeeded = to_table("Pod", [pod(COMPLETED)], NOW)["rows"][0]
    running = to_table("Pod", [pod(RUNNING)], NOW)["rows"][0]
    assert succeeded["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert "conditions" not in running


# ---------------------------------------------------------------------------------------------------
# Every other printer: one realistic object each


DEPLOYMENT = obj("""
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop, creationTimestamp: "2025-12-27T07:00:00Z", generation: 4}
    spec:
      replicas: 3
      selector: {matchLabels: {tier: frontend, app: web}}
      template:
        metadata: {labels: {app: web, tier: frontend}}
        spec:
          containers:
          - {name: web, image: "nginx:1.27"}
          - {name: envoy, image: "envoyproxy/envoy:v1.30"}
    status: {observedGeneration: 4, replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2}
    """)

REPLICASET = obj("""
    apiVersion: apps/v1
    kind: ReplicaSet
    metadata:
      name: web-7d4b9c
      namespace: shop
      creationTimestamp: "2026-01-01T11:50:00Z"
      annotations: {deployment.kubernetes.io/revision: "2"}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web, pod-template-hash: 7d4b9c}}
      template:
        spec:
          containers: [{name: web, image: "nginx:1.27"}]
    status: {replicas: 3, readyReplicas: 2, availableReplicas: 2}
    """)

STATEFULSET = obj("""
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop, creationTimestamp: "2025-11-02T12:00:00Z"}
    spec:
      replicas: 3
      selector: {matchLabels: {app: db}}
      template: {spec: {containers: [{name: postgres, image: "postgres:16"}]}}
    status: {replicas: 3, readyReplicas: 3}
    """)

DAEMONSET = obj("""
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: node-exporter, namespace: monitoring, creationTimestamp: "2025-12-31T12:00:00Z"}
    spec:
      selector: {matchLabels: {app: node-exporter}}
      template:
        spec:
          nodeSelector: {kubernetes.io/os: linux}
          containers: [{name: exporter, image: "prom/node-exporter:v1.8"}]
    status: {desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3,
             numberAvailable: 2}
    """)

JOB_COMPLETE = obj("""
    apiVersion: batch/v1
    kind: Job
    metadata: {name: self-heal-cpt-29440000, namespace: shop, creationTimestamp: "2026-01-01T11:00:00Z"}
    spec:
      completions: 1
      parallelism: 1
      selector: {matchLabels: {batch.kubernetes.io/controller-uid: 6f1e2d3c}}
      template: {spec: {containers: [{name: heal, image: "selfheal:1"}], restartPolicy: Never}}
    status:
      startTime: "2026-01-01T11:00:00Z"
      completionTime: "2026-01-01T11:02:10Z"
      succeeded: 1
      conditions:
      - {type: SuccessCriteriaMet, status: "True"}
      - {type: Complete, status: "True"}
    """)

JOB_RUNNING_PARALLEL = obj("""
    apiVersion: batch/v1
    kind: Job
    metadata: {name: crunch, namespace: shop, creationTimestamp: "2026-01-01T11:58:00Z"}
    spec:
      parallelism: 3
      template: {spec: {containers: [{name: crunch, image: "crunch:2"}]}}
    status: {startTime: "2026-01-01T11:58:00Z", active: 3}
    """)

JOB_FAILED = obj("""
    apiVersion: batch/v1
    kind: Job
    metadata: {name: migrate, namespace: shop, creationTimestamp: "2026-01-01T09:00:00Z"}
    spec:
      completions: 1
      template: {spec: {containers: [{name: migrate, image: "migrate:1"}]}}
    status:
      startTime: "2026-01-01T09:00:00Z"
      failed: 7
      conditions:
      - {type: FailureTarget, status: "True", reason: BackoffLimitExceeded}
      - {type: Failed, status: "True", reason: BackoffLimitExceeded}
    """)

JOB_SUSPENDED_UNSTARTED = obj("""
    apiVersion: batch/v1
    kind: Job
    metadata: {name: later, namespace: shop, creationTimestamp: "2026-01-01T11:59:55Z"}
    spec:
      completions: 2
      suspend: true
      template: {spec: {containers: [{name: later, image: "later:1"}]}}
    status:
      conditions: [{type: Suspended, status: "True"}]
    """)

CRONJOB = obj("""
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: self-heal-cpt, namespace: shop, creationTimestamp: "2025-12-02T12:00:00Z"}
    spec:
      schedule: "*/5 * * * *"
      suspend: false
      concurrencyPolicy: Forbid
      jobTemplate:
        spec:
          template:
            spec:
              restartPolicy: Never
              containers: [{name: heal, image: "selfheal:1"}]
    status:
      active: [{apiVersion: batch/v1, kind: Job, name: self-heal-cpt-29440005, namespace: shop}]
      lastScheduleTime: "2026-01-01T11:55:00Z"
    """)

CRONJOB_NEVER_RAN = obj("""
    apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: shop, creationTimestamp: "2026-01-01T11:59:50Z"}
    spec:
      schedule: "0 3 * * *"
      timeZone: Europe/Berlin
      suspend: true
      jobTemplate: {spec: {template: {spec: {containers: [{name: n, image: "n:1"}]}}}}
    """)

HPA = obj("""
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: web, namespace: shop, creationTimestamp: "2026-01-01T11:30:00Z"}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 2
      maxReplicas: 10
      metrics:
      - type: Resource
        resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
    status: {currentReplicas: 2, desiredReplicas: 2}
    """)

HPA_THREE_METRICS = obj("""
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: api, namespace: shop, creationTimestamp: "2026-01-01T11:30:00Z"}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
      maxReplicas: 5
      metrics:
      - type: Resource
        resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
      - type: Resource
        resource: {name: memory, target: {type: AverageValue, averageValue: 500Mi}}
      - type: Pods
        pods: {metric: {name: rps}, target: {type: AverageValue, averageValue: "100"}}
    status:
      currentReplicas: 4
      currentMetrics:
      - type: Resource
        resource: {name: cpu, current: {averageUtilization: 45, averageValue: 450m}}
      - type: Resource
        resource: {name: memory, current: {averageValue: 300Mi}}
    """)

EVENT = obj("""
    apiVersion: v1
    kind: Event
    metadata: {name: web-7d4b9c-x2x9q.181a2b3c4d5e6f70, namespace: shop, creationTimestamp: "2026-01-01T11:00:00Z"}
    involvedObject: {apiVersion: v1, kind: Pod, name: web-7d4b9c-x2x9q, namespace: shop,
                     fieldPath: "spec.containers{web}"}
    reason: BackOff
    message: "Back-off restarting failed container web in pod web-7d4b9c-x2x9q_shop(uid)\\n"
    source: {component: kubelet, host: node-1}
    firstTimestamp: "2026-01-01T11:00:00Z"
    lastTimestamp: "2026-01-01T11:58:00Z"
    count: 12
    type: Warning
    """)

EVENT_NEW_API = obj("""
    apiVersion: v1
    kind: Event
    metadata: {name: web-7d4b9c-x2x9q.181a2b3c4d5e6f71, namespace: shop}
    involvedObject: {apiVersion: v1, kind: Pod, name: web-7d4b9c-x2x9q, namespace: shop}
    reason: Scheduled
    message: Successfully assigned shop/web-7d4b9c-x2x9q to node-1
    source: {}
    firstTimestamp: null
    lastTimestamp: null
    eventTime: "2026-01-01T11:59:30.123456Z"
    reportingComponent: default-scheduler
    reportingInstance: default-scheduler-control-plane
    type: Normal
    """)

SERVICE = obj("""
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop, creationTimestamp: "2025-12-31T12:00:00Z"}
    spec:
      type: ClusterIP
      clusterIP: 10.96.0.12
      clusterIPs: [10.96.0.12]
      selector: {app: web}
      ports:
      - {name: http, port: 80, targetPort: 8080, protocol: TCP}
      - {name: metrics, port: 9090, targetPort: 9090, protocol: TCP}
    """)

SERVICE_LB = obj("""
    apiVersion: v1
    kind: Service
    metadata: {name: edge, namespace: shop, creationTimestamp: "2025-12-31T12:00:00Z"}
    spec:
      type: LoadBalancer
      clusterIPs: [10.96.0.40]
      ports: [{port: 443, nodePort: 31443, protocol: TCP}]
    status: {loadBalancer: {}}
    """)


@pytest.mark.parametrize(
    ("kind", "o", "expected"),
    [
        # printDeployment: READY is ready/desired; the selector is the parsed selector's String() (keys sorted)
        (
            "Deployment",
            DEPLOYMENT,
            [
                "web",
                "2/3",
                3,
                2,
                "5d5h",
                "web,envoy",
                "nginx:1.27,envoyproxy/envoy:v1.30",
                "app=web,tier=frontend",
            ],
        ),
        # printReplicaSet: integers; the selector through metav1.FormatLabelSelector
        (
            "ReplicaSet",
            REPLICASET,
            ["web-7d4b9c", 3, 3, 2, "10m", "web", "nginx:1.27", "app=web,pod-template-hash=7d4b9c"],
        ),
        # printStatefulSet
        ("StatefulSet", STATEFULSET, ["db", "3/3", "60d", "postgres", "postgres:16"]),
        # printDaemonSet: node selector through labels.FormatLabels
        (
            "DaemonSet",
            DAEMONSET,
            [
                "node-exporter",
                3,
                3,
                2,
                3,
                2,
                "kubernetes.io/os=linux",
                "24h",
                "exporter",
                "prom/node-exporter:v1.8",
                "app=node-exporter",
            ],
        ),
        # printJob: Complete wins over everything; DURATION is completionTime - startTime
        (
            "Job",
            JOB_COMPLETE,
            [
                "self-heal-cpt-29440000",
                "Complete",
                "1/1",
                "2m10s",
                "60m",
                "heal",
                "selfheal:1",
                "batch.kubernetes.io/controller-uid=6f1e2d3c",
            ],
        ),
        # printJob: no completions + parallelism>1 reads "0/1 of 3"; a running job's duration runs to now
        (
            "Job",
            JOB_RUNNING_PARALLEL,
            ["crunch", "Running", "0/1 of 3", "2m", "2m", "crunch", "crunch:2", "<none>"],
        ),
        ("Job", JOB_FAILED, ["migrate", "Failed", "0/1", "3h", "3h", "migrate", "migrate:1", "<none>"]),
        # printJob: never started: empty DURATION
        (
            "Job",
            JOB_SUSPENDED_UNSTARTED,
            ["later", "Suspended", "0/2", "", "5s", "later", "later:1", "<none>"],
        ),
        # printCronJob: TIMEZONE <none> when unset, SUSPEND through printBoolPtr, ACTIVE counts status.active
        (
            "CronJob",
            CRONJOB,
            [
                "self-heal-cpt",
                "*/5 * * * *",
                "<none>",
                "False",
                1,
                "5m",
                "30d",
                "heal",
                "selfheal:1",
                "<none>",
            ],
        ),
        (
            "CronJob",
            CRONJOB_NEVER_RAN,
            ["nightly", "0 3 * * *", "Europe/Berlin", "True", 0, "<none>", "10s", "n", "n:1", "<none>"],
        ),
        # printHorizontalPodAutoscaler / formatHPAMetrics: no current metrics yet reads <unknown>
        ("HorizontalPodAutoscaler", HPA, ["web", "Deployment/web", "cpu: <unknown>/70%", "2", 10, 2, "30m"]),
        # formatHPAMetrics: at most two metrics, then "+ N more..."; unset minReplicas is <unset>
        (
            "HorizontalPodAutoscaler",
            HPA_THREE_METRICS,
            [
                "api",
                "Deployment/api",
                "cpu: 45%/70%, memory: 300Mi/500Mi + 1 more...",
                "<unset>",
                5,
                4,
                "30m",
            ],
        ),
        # printEvent (wide): LAST SEEN, TYPE, REASON, OBJECT, SUBOBJECT, SOURCE, MESSAGE (trimmed), FIRST SEEN,
        # COUNT, NAME
        (
            "Event",
            EVENT,
            [
                "2m",
                "Warning",
                "BackOff",
                "pod/web-7d4b9c-x2x9q",
                "spec.containers{web}",
                "kubelet, node-1",
                "Back-off restarting failed container web in pod web-7d4b9c-x2x9q_shop(uid)",
                "60m",
                12,
                "web-7d4b9c-x2x9q.181a2b3c4d5e6f70",
            ],
        ),
        # printEvent: no first/last timestamps -> eventTime (29.88s truncates to 29s); no count -> 1; source from
        # the reporting fields
        (
            "Event",
            EVENT_NEW_API,
            [
                "29s",
                "Normal",
                "Scheduled",
                "pod/web-7d4b9c-x2x9q",
                "",
                "default-scheduler, default-scheduler-control-plane",
                "Successfully assigned shop/web-7d4b9c-x2x9q to node-1",
                "29s",
                1,
                "web-7d4b9c-x2x9q.181a2b3c4d5e6f71",
            ],
        ),
        # printNamespace
        (
            "Namespace",
            obj("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, creationTimestamp: "2025-12-01T12:00:00Z"}
        status: {phase: Active}
        """),
            ["shop", "Active", "31d"],
        ),
        # printConfigMap: DATA counts data and binaryData keys
        (
            "ConfigMap",
            obj("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: web-config, namespace: shop, creationTimestamp: "2026-01-01T11:59:00Z"}
        data: {nginx.conf: "...", mime.types: "..."}
        binaryData: {favicon.ico: AAAB}
        """),
            ["web-config", 3, "60s"],
        ),
        # printSecret
        (
            "Secret",
            obj("""
        apiVersion: v1
        kind: Secret
        metadata: {name: db, namespace: shop, creationTimestamp: "2026-01-01T07:30:00Z"}
        type: Opaque
        data: {username: YWRtaW4=, password: c2VjcmV0}
        """),
            ["db", "Opaque", 2, "4h30m"],
        ),
        # printServiceAccount: 1.24+ service accounts carry no token secrets
        (
            "ServiceAccount",
            obj("""
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: selfheal, namespace: shop, creationTimestamp: "2026-01-01T11:57:30Z"}
        """),
            ["selfheal", 0, "2m30s"],
        ),
        # printService: clusterIPs[0], ports as port/protocol, selector through labels.FormatLabels
        (
            "Service",
            SERVICE,
            ["web", "ClusterIP", "10.96.0.12", "<none>", "80/TCP,9090/TCP", "24h", "app=web"],
        ),
        # printService / getServiceExternalIP: a load balancer without an address is <pending>; nodePort shown
        (
            "Service",
            SERVICE_LB,
            ["edge", "LoadBalancer", "10.96.0.40", "<pending>", "443:31443/TCP", "24h", "<none>"],
        ),
        # printPodDisruptionBudget: IntOrString values, N/A when unset
        (
            "PodDisruptionBudget",
            obj("""
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web, namespace: shop, creationTimestamp: "2026-01-01T11:00:00Z"}
        spec: {minAvailable: 2, selector: {matchLabels: {app: web}}}
        status: {currentHealthy: 3, desiredHealthy: 2, disruptionsAllowed: 1, expectedPods: 3}
        """),
            ["web", "2", "N/A", 1, "60m"],
        ),
        (
            "PodDisruptionBudget",
            obj("""
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: db, namespace: shop, creationTimestamp: "2026-01-01T11:00:00Z"}
        spec: {maxUnavailable: 25%, selector: {matchLabels: {app: db}}}
        status: {disruptionsAllowed: 0}
        """),
            ["db", "N/A", "25%", 0, "60m"],
        ),
        # printLease
        (
            "Lease",
            obj("""
        apiVersion: coordination.k8s.io/v1
        kind: Lease
        metadata: {name: selfheal-lock, namespace: shop, creationTimestamp: "2026-01-01T11:59:58Z"}
        spec: {holderIdentity: selfheal-7f9c_1b2d, leaseDurationSeconds: 15}
        """),
            ["selfheal-lock", "selfheal-7f9c_1b2d", "2s"],
        ),
        # printRoleBinding (wide): users, groups, service accounts as namespace/name
        (
            "RoleBinding",
            obj("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: selfheal, namespace: shop, creationTimestamp: "2025-12-31T12:00:00Z"}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: selfheal}
        subjects:
        - {kind: ServiceAccount, name: selfheal, namespace: shop}
        - {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
        - {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
        - {kind: Group, name: sre, apiGroup: rbac.authorization.k8s.io}
        """),
            ["selfheal", "Role/selfheal", "24h", "alice, bob", "sre", "shop/selfheal"],
        ),
        # No printer for Role: rest.NewDefaultTableConvertor prints the name and RFC 3339 creation time
        (
            "Role",
            obj("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: selfheal, namespace: shop, creationTimestamp: "2025-12-31T12:00:00Z"}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, delete]}]
        """),
            ["selfheal", "2025-12-31T12:00:00Z"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_printer_cells(kind: str, o: dict[str, Any], expected: list[Any]) -> None:
    assert cells(kind, o) == expected


COLUMNS = {
    # (name, priority) in the order of printers.go AddHandlers, release-1.32
    "Pod": [
        ("Name", 0),
        ("Ready", 0),
        ("Status", 0),
        ("Restarts", 0),
        ("Age", 0),
        ("IP", 1),
        ("Node", 1),
        ("Nominated Node", 1),
        ("Readiness Gates", 1),
    ],
    "Deployment": [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "ReplicaSet": [
        ("Name", 0),
        ("Desired", 0),
        ("Current", 0),
        ("Ready", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "Job": [
        ("Name", 0),
        ("Status", 0),
        ("Completions", 0),
        ("Duration", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "CronJob": [
        ("Name", 0),
        ("Schedule", 0),
        ("Timezone", 0),
        ("Suspend", 0),
        ("Active", 0),
        ("Last Schedule", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ],
    "HorizontalPodAutoscaler": [
        ("Name", 0),
        ("Reference", 0),
        ("Targets", 0),
        ("MinPods", 0),
        ("MaxPods", 0),
        ("Replicas", 0),
        ("Age", 0),
    ],
    "Event": [
        ("Last Seen", 0),
        ("Type", 0),
        ("Reason", 0),
        ("Object", 0),
        ("Subobject", 1),
        ("Source", 1),
        ("Message", 0),
        ("First Seen", 1),
        ("Count", 1),
        ("Name", 1),
    ],
    "Namespace": [("Name", 0), ("Status", 0), ("Age", 0)],
    "ConfigMap": [("Name", 0), ("Data", 0), ("Age", 0)],
    "Secret": [("Name", 0), ("Type", 0), ("Data", 0), ("Age", 0)],
    "ServiceAccount": [("Name", 0), ("Secrets", 0), ("Age", 0)],
    "Service": [
        ("Name", 0),
        ("Type", 0),
        ("Cluster-IP", 0),
        ("External-IP", 0),
        ("Port(s)", 0),
        ("Age", 0),
        ("Selector", 1),
    ],
    "PodDisruptionBudget": [
        ("Name", 0),
        ("Min Available", 0),
        ("Max Unavailable", 0),
        ("Allowed Disruptions", 0),
        ("Age", 0),
    ],
    "Lease": [("Name", 0), ("Holder", 0), ("Age", 0)],
    "RoleBinding": [
        ("Name", 0),
        ("Role", 0),
        ("Age", 0),
        ("Users", 1),
        ("Groups", 1),
        ("ServiceAccounts", 1),
    ],
    "Role": [("Name", 0), ("Created At", 0)],
    "SomeCustomKind": [("Name", 0), ("Created At", 0)],
}


@pytest.mark.parametrize("kind", sorted(COLUMNS))
def test_column_definitions_match_the_real_printers(kind: str) -> None:
    columns = to_table(kind, [], NOW)["columnDefinitions"]
    assert [(c["name"], c["priority"]) for c in columns] == COLUMNS[kind]
    assert all(set(c) == {"name", "type", "format", "description", "priority"} for c in columns)
    assert all(c["description"] for c in columns)


def test_name_column_is_typed_and_described_like_object_meta() -> None:
    name = to_table("Pod", [], NOW)["columnDefinitions"][0]
    assert name["type"] == "string" and name["format"] == "name"
    assert name["description"].startswith("Name must be unique within a namespace.")


def test_every_printer_fills_one_cell_per_column() -> None:
    for kind, printer in PRINTERS.items():
        empty: dict[str, Any] = {"metadata": {"name": "x"}}
        assert len(printer.cells(empty, NOW)) == len(printer.columns), kind


# ---------------------------------------------------------------------------------------------------
# The Table envelope: includeObject and list metadata


def test_table_envelope_carries_list_metadata_and_partial_object_metadata_by_default() -> None:
    p = pod(RUNNING)
    table = to_table("Pod", [p], NOW, list_meta={"resourceVersion": "812"})
    assert (table["kind"], table["apiVersion"], table["metadata"]) == (
        "Table",
        "meta.k8s.io/v1",
        {"resourceVersion": "812"},
    )
    assert table["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": p["metadata"],
    }


def test_include_object_none_and_object() -> None:
    p = pod(RUNNING)
    assert to_table("Pod", [p], NOW, include_object="None")["rows"][0]["object"] is None
    assert to_table("Pod", [p], NOW, include_object="Object")["rows"][0]["object"] == p


def test_unknown_include_object_is_the_apiservers_400() -> None:
    with pytest.raises(ApiError) as err:
        to_table("Pod", [], NOW, include_object="Everything")
    assert err.value.code == 400
    assert err.value.message == 'unrecognized includeObject value: "Everything"'


def test_no_headers_omits_column_definitions() -> None:
    assert "columnDefinitions" not in to_table("Pod", [pod(RUNNING)], NOW, no_headers=True)


# ---------------------------------------------------------------------------------------------------
# The real kubectl renders our Table (a throwaway server standing in for the sandbox)

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
CORE_DISCOVERY = {
    "kind": "APIGroupDiscoveryList",
    "apiVersion": "apidiscovery.k8s.io/v2",
    "metadata": {},
    "items": [
        {
            "metadata": {},
            "versions": [
                {
                    "version": "v1",
                    "freshness": "Current",
                    "resources": [
                        {
                            "resource": "pods",
                            "singularResource": "pod",
                            "scope": "Namespaced",
                            "shortNames": ["po"],
                            "categories": ["all"],
                            "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
                            "verbs": [
                                "create",
                                "delete",
                                "deletecollection",
                                "get",
                                "list",
                                "patch",
                                "update",
                                "watch",
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}
APIS_DISCOVERY = {
    "kind": "APIGroupDiscoveryList",
    "apiVersion": "apidiscovery.k8s.io/v2",
    "metadata": {},
    "items": [],
}


@pytest.fixture
def pods_server() -> Iterator[tuple[str, list[str]]]:
    """Serves discovery and a Table of three pods for namespace x; records the Accept header of the list."""
    pods = [pod(RUNNING), pod(CRASHLOOP), pod(OOMKILLED)]
    for p, name in zip(pods, ["web-a", "web-b", "web-c"], strict=True):
        p["metadata"]["name"] = name
    accepts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def reply(
            self, body: dict[str, Any], content_type: str = "application/json", code: int = 200
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/api":
                self.reply(CORE_DISCOVERY, AGGREGATED)
            elif path == "/apis":
                self.reply(APIS_DISCOVERY, AGGREGATED)
            elif path == "/api/v1/namespaces/x/pods":
                accepts.append(self.headers.get("Accept", ""))
                self.reply(to_table("Pod", pods, NOW, list_meta={"resourceVersion": "7"}))
            else:
                self.reply(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "NotFound",
                        "code": 404,
                        "message": "not found",
                    },
                    code=404,
                )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", accepts
    finally:
        server.shutdown()
        server.server_close()


def run_kubectl(url: str, tmp_path: Path, *args: str) -> list[list[str]]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "sandbox",
                "clusters": [{"name": "sandbox", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": "u"}}],
            }
        )
    )
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    # kubectl pads columns with 3+ spaces; single spaces occur inside cells ("5 (2m ago)")
    return [[c.strip() for c in line.split("   ") if c.strip()] for line in out.splitlines()]


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs the machine image's kubectl")
def test_real_kubectl_prints_our_pod_table(pods_server: tuple[str, list[str]], tmp_path: Path) -> None:
    url, accepts = pods_server
    lines = run_kubectl(url, tmp_path, "get", "pods", "-n", "x")
    assert lines == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["web-a", "1/1", "Running", "0", "60m"],
        ["web-b", "0/1", "CrashLoopBackOff", "5 (2m ago)", "60m"],
        ["web-c", "0/1", "OOMKilled", "3 (3m10s ago)", "60m"],
    ]
    assert accepts and accepts[0].startswith("application/json;as=Table;v=v1;g=meta.k8s.io")


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs the machine image's kubectl")
def test_real_kubectl_shows_priority_one_columns_only_when_wide(
    pods_server: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, _ = pods_server
    lines = run_kubectl(url, tmp_path, "get", "pods", "-n", "x", "-o", "wide")
    assert lines[0] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
        "NOMINATED NODE",
        "READINESS GATES",
    ]
    assert lines[1] == ["web-a", "1/1", "Running", "0", "60m", "10.244.1.7", "node-1", "<none>", "<none>"]
