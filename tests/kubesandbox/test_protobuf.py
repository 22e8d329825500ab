"""Reading the protobuf Job that `kubectl create job --from=cronjob/x` POSTs.

The bodies here are built with a tiny encoder written from the proto definitions (independent of the
decoder under test), plus one body captured from the machine image's kubectl 1.32.4 and, when kubectl
is present, one captured live.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubesandbox.apiserver.protobuf import decode_job, decode_object_meta, decode_unknown
from kubesandbox.resources.errors import ApiError

# ---------------------------------------------------------------------------------------------------
# A minimal protobuf encoder (proto2 wire format), for building bodies field by field


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 -> two's complement, 10 bytes
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bool | str | bytes) -> bytes:
    if isinstance(value, bool | int):
        return varint(number << 3) + varint(int(value))
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def fixed64(number: int, value: int) -> bytes:
    return varint(number << 3 | 1) + value.to_bytes(8, "little")


def fixed32(number: int, value: int) -> bytes:
    return varint(number << 3 | 5) + value.to_bytes(4, "little")


def map_entries(number: int, mapping: dict[str, str]) -> bytes:
    return b"".join(field(number, field(1, k) + field(2, v)) for k, v in mapping.items())


def envelope(raw: bytes, api_version: str = "batch/v1", kind: str = "Job") -> bytes:
    """`k8s\\0` + runtime.Unknown{typeMeta{apiVersion, kind}, raw, contentEncoding, contentType}."""
    type_meta = field(1, api_version) + field(2, kind)
    return b"k8s\x00" + field(1, type_meta) + field(2, raw) + field(3, "") + field(4, "")


def object_meta(**kw: Any) -> bytes:
    """ObjectMeta the way gogo-protobuf writes it: every non-pointer field, empty or not."""
    out = (
        field(1, kw.get("name", ""))
        + field(2, kw.get("generateName", ""))
        + field(3, kw.get("namespace", ""))
        + field(4, "")
        + field(5, kw.get("uid", ""))
        + field(6, kw.get("resourceVersion", ""))
        + field(7, kw.get("generation", 0))
        + field(8, field(1, kw.get("created", 0)) + field(2, 0))
    )
    out += map_entries(11, kw.get("labels", {})) + map_entries(12, kw.get("annotations", {}))
    for ref in kw.get("owners", []):
        out += field(13, ref)
    for fin in kw.get("finalizers", []):
        out += field(14, fin)
    return out


def owner_ref(
    kind: str,
    name: str,
    uid: str,
    api_version: str,
    *,
    controller: bool | None = None,
    block: bool | None = None,
) -> bytes:
    out = field(1, kind) + field(3, name) + field(4, uid) + field(5, api_version)
    if controller is not None:
        out += field(6, controller)
    if block is not None:
        out += field(7, block)
    return out


JOB_SPEC = field(4, field(1, b"") + field(2, field(2, field(1, "heal") + field(2, "selfheal:1"))))

# ---------------------------------------------------------------------------------------------------
# Captured: kubectl 1.32.4 `create job j1 --from=cronjob/self-heal-cpt -n ns`, the CronJob having
# uid 0b6a3c1e-1111-2222-3333-444455556666 and a jobTemplate with label app=self-heal, annotation team=sre.

KUBECTL_BODY = bytes.fromhex(
    "6b3873000a0f0a0862617463682f763112034a6f6212ae020aac010a026a3112001a026e7322002a0032003800"
    "42005a100a03617070120973656c662d6865616c622b0a2163726f6e6a6f622e6b756265726e657465732e696f"
    "2f696e7374616e746961746512066d616e75616c620b0a047465616d12037372656a4a0a0743726f6e4a6f621a"
    "0d73656c662d6865616c2d637074222430623661336331652d313131312d323232322d333333332d3434343435"
    "353535363636362a0862617463682f763130011273326f0a220a0012001a0022002a003200380042005a100a03"
    "617070120973656c662d6865616c124912260a046865616c120a73656c666865616c3a312a0042006a00720080"
    "0100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c2010038"
    "001a082000280030003a001a002200"
)

EXPECTED_FROM_KUBECTL = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "j1",
        "namespace": "ns",
        "labels": {"app": "self-heal"},
        "annotations": {"cronjob.kubernetes.io/instantiate": "manual", "team": "sre"},
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": "self-heal-cpt",
                "uid": "0b6a3c1e-1111-2222-3333-444455556666",
                "controller": True,
            }
        ],
    },
}


def test_reads_the_job_kubectl_really_sends() -> None:
    # kubectl copies the template's labels and annotations, adds instantiate=manual and a controller
    # owner reference (no blockOwnerDeletion), and leaves creationTimestamp as an empty message.
    assert decode_job(KUBECTL_BODY) == EXPECTED_FROM_KUBECTL


def test_envelope_names_the_type_and_carries_the_raw_job() -> None:
    api_version, kind, raw = decode_unknown(KUBECTL_BODY)
    assert (api_version, kind) == ("batch/v1", "Job")
    assert raw.startswith(b"\x0a\xac\x01")  # field 1 (ObjectMeta), 172 bytes


# ---------------------------------------------------------------------------------------------------
# Built bodies: every ObjectMeta field the sandbox cares about


def test_object_meta_with_maps_owner_references_and_finalizers() -> None:
    controller = owner_ref("CronJob", "self-heal-cpt", "c-uid", "batch/v1", controller=True, block=True)
    other = owner_ref("ConfigMap", "settings", "cm-uid", "v1", controller=False)
    meta = object_meta(
        generateName="self-heal-cpt-manual-",
        namespace="shop",
        created=1767268800,
        labels={"app": "self-heal", "batch.kubernetes.io/job-name": "x"},
        annotations={"cronjob.kubernetes.io/instantiate": "manual", "empty": ""},
        owners=[controller, other],
        finalizers=["batch.kubernetes.io/job-tracking"],
    )
    assert decode_object_meta(field(1, meta) + field(2, JOB_SPEC)) == {
        "generateName": "self-heal-cpt-manual-",
        "namespace": "shop",
        "creationTimestamp": "2026-01-01T12:00:00Z",
        "labels": {"app": "self-heal", "batch.kubernetes.io/job-name": "x"},
        "annotations": {"cronjob.kubernetes.io/instantiate": "manual", "empty": ""},
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": "self-heal-cpt",
                "uid": "c-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            },
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "name": "settings",
                "uid": "cm-uid",
                "controller": False,
            },
        ],
        "finalizers": ["batch.kubernetes.io/job-tracking"],
    }


def test_empty_meta_decodes_to_an_empty_dict() -> None:
    assert decode_object_meta(field(1, object_meta())) == {}
    assert decode_object_meta(b"") == {}


def test_unknown_fields_of_every_wire_type_are_skipped() -> None:
    managed = field(17, field(1, "kubectl-create") + field(2, "Update"))
    meta = (
        field(1, "j2")
        + fixed64(99, 2**63 + 5)
        + fixed32(98, 7)
        + field(97, 2**40)
        + managed
        + field(3, "shop")
        + field(10, -1)
    )
    body = envelope(fixed64(50, 1) + field(1, meta) + field(2, JOB_SPEC) + fixed32(51, 3))
    assert decode_job(body)["metadata"] == {
        "name": "j2",
        "namespace": "shop",
        "deletionGracePeriodSeconds": -1,
    }


def test_a_repeated_metadata_field_merges_like_protobuf() -> None:
    # Protobuf semantics for an embedded message seen twice: merge, the later scalar wins.
    body = envelope(field(1, field(1, "first") + field(3, "shop")) + field(1, field(1, "second")))
    assert decode_job(body)["metadata"] == {"name": "second", "namespace": "shop"}


# ---------------------------------------------------------------------------------------------------
# Malformed bodies: always a 400 BadRequest, never an IndexError


@pytest.mark.parametrize(
    ("story", "body", "message"),
    [
        ("empty body", b"", "missing the k8s\\x00 prefix"),
        ("JSON sent with the protobuf content type", b'{"kind":"Job"}', "missing the k8s\\x00 prefix"),
        ("truncated in the middle of the raw Job", KUBECTL_BODY[:-5], "claims"),
        ("varint that never ends", b"k8s\x00\x0a\xff\xff\xff", "truncated varint"),
        ("varint longer than ten bytes", b"k8s\x00\x08" + b"\xff" * 11 + b"\x01", "longer than 10 bytes"),
        ("deprecated group wire type", b"k8s\x00\x0b", "wire type 3"),
        ("field number zero", b"k8s\x00\x02\x00", "field number 0"),
        ("truncated fixed64", b"k8s\x00\x09\x01\x02", "truncated 64-bit"),
        ("type meta is not a message", b"k8s\x00" + field(1, 5), "should be length-delimited"),
        ("no kind in the envelope", envelope(b"", kind=""), "'Kind' is missing"),
        ("name is not UTF-8", envelope(field(1, field(1, b"\xff\xfe"))), "not valid UTF-8"),
        ("name sent as a varint", envelope(field(1, field(1, 7))), "should be length-delimited"),
        (
            "compressed content encoding",
            b"k8s\x00" + field(1, field(1, "batch/v1") + field(2, "Job")) + field(3, "gzip"),
            "contentEncoding",
        ),
    ],
)
def test_malformed_bodies_are_bad_requests(story: str, body: bytes, message: str) -> None:
    with pytest.raises(ApiError) as err:
        decode_job(body)
    assert (err.value.code, err.value.reason) == (400, "BadRequest"), story
    assert message in err.value.message, story


@pytest.mark.parametrize(
    ("api_version", "kind", "message"),
    [
        (
            "batch/v1beta1",
            "Job",
            "the API version in the data (batch/v1beta1) does not match the expected API version (batch/v1)",
        ),
        (
            "batch/v1",
            "CronJob",
            "the kind in the data (CronJob) does not match the expected kind (batch/v1, Kind=Job)",
        ),
    ],
)
def test_a_body_that_is_not_a_batch_v1_job_is_refused(api_version: str, kind: str, message: str) -> None:
    with pytest.raises(ApiError) as err:
        decode_job(envelope(field(1, object_meta(name="x")), api_version, kind))
    assert err.value.code == 400
    assert err.value.message == message


@given(st.binary(max_size=200))
def test_garbage_after_the_magic_is_either_decoded_or_a_bad_request(garbage: bytes) -> None:
    try:
        decode_job(b"k8s\x00" + garbage)
    except ApiError as err:
        assert err.code == 400


@given(st.integers(min_value=1, max_value=len(KUBECTL_BODY) - 1))
def test_every_truncation_of_the_real_body_is_handled(cut: int) -> None:
    try:
        decode_job(KUBECTL_BODY[:cut])
    except ApiError as err:
        assert err.code == 400


# ---------------------------------------------------------------------------------------------------
# Live: the machine image's kubectl POSTs to a throwaway server; we read what it sent

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def discovery(group: str, resources: list[tuple[str, str, str, list[str]]]) -> dict[str, Any]:
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [
            {
                "metadata": {"name": group} if group else {},
                "versions": [
                    {
                        "version": "v1",
                        "freshness": "Current",
                        "resources": [
                            {
                                "resource": plural,
                                "singularResource": singular,
                                "scope": "Namespaced",
                                "verbs": VERBS,
                                "shortNames": short,
                                "responseKind": {"group": group, "version": "v1", "kind": kind},
                            }
                            for plural, singular, kind, short in resources
                        ],
                    }
                ],
            }
        ],
    }


CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {
        "name": "self-heal-cpt",
        "namespace": "shop",
        "uid": "6d1c9a52-8f3e-4b7a-9c1d-2e5f7a9b0c3d",
        "resourceVersion": "41",
        "creationTimestamp": "2026-01-01T10:00:00Z",
    },
    "spec": {
        "schedule": "*/5 * * * *",
        "jobTemplate": {
            "metadata": {"labels": {"app": "self-heal"}},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "heal", "image": "selfheal:1"}],
                    }
                },
            },
        },
    },
}


@pytest.fixture
def cronjob_server() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """Discovery for batch/v1, GET of the CronJob, and a POST of jobs that records (path, type, body)."""
    posts: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def reply(self, code: int, body: dict[str, Any], content_type: str = "application/json") -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/api":
                self.reply(200, discovery("", [("pods", "pod", "Pod", ["po"])]), AGGREGATED)
            elif path == "/apis":
                self.reply(
                    200,
                    discovery(
                        "batch", [("jobs", "job", "Job", []), ("cronjobs", "cronjob", "CronJob", ["cj"])]
                    ),
                    AGGREGATED,
                )
            elif path == "/apis/batch/v1/namespaces/shop/cronjobs/self-heal-cpt":
                self.reply(200, CRONJOB)
            else:
                self.reply(
                    404,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "NotFound",
                        "code": 404,
                        "message": "not found",
                    },
                )

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            posts.append((self.path, self.headers.get("Content-Type", ""), body))
            job = decode_job(body)
            job["metadata"].update(uid="job-uid", creationTimestamp="2026-01-01T12:00:00Z")
            self.reply(201, job)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posts
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs the machine image's kubectl")
def test_live_kubectl_create_job_from_cronjob(
    cronjob_server: tuple[str, list[tuple[str, str, bytes]]], tmp_path: Path
) -> None:
    url, posts = cronjob_server
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
    result = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "--cache-dir",
            str(tmp_path / "cache"),
            "create",
            "job",
            "j1",
            "--from=cronjob/self-heal-cpt",
            "-n",
            "shop",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "job.batch/j1 created"
    [(path, content_type, body)] = posts
    assert path == "/apis/batch/v1/namespaces/shop/jobs?fieldManager=kubectl-create&fieldValidation=Strict"
    assert content_type == "application/vnd.kubernetes.protobuf"
    job = decode_job(body)
    assert job["metadata"]["name"] == "j1"
    assert job["metadata"]["namespace"] == "shop"
    assert job["metadata"]["annotations"] == {"cronjob.kubernetes.io/instantiate": "manual"}
    assert job["metadata"]["labels"] == {"app": "self-heal"}
    assert job["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "self-heal-cpt",
            "uid": "6d1c9a52-8f3e-4b7a-9c1d-2e5f7a9b0c3d",
            "controller": True,
        }
    ]
