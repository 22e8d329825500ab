"""The sandbox's kubeconfig is read by the official client and by real kubectl as an admin and per-SA config."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import shutil
import ssl
import stat
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client, config

from kubesandbox.apiserver.rbac import token_for
from kubesandbox.serve.kubeconfig import context_name, write_kubeconfig

SERVER = "http://127.0.0.1:43127"
SECURE_SERVER = "https://127.0.0.1:43128"
ADMIN_TOKEN = "admin-token-for-tests"
ACCOUNTS = [("shop", "healer"), ("ops", "robot")]
KUBECTL = "/usr/bin/kubectl"
VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
    "gitTreeState": "clean",
    "buildDate": "2024-12-11T17:59:15Z",
    "goVersion": "go1.23.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}


# --- builders -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_pem: bytes
    chain_file: Path
    key_file: Path


def mint_pki(directory: Path) -> Pki:
    """A CA and a certificate for 127.0.0.1 signed by it, like any cluster's serving certificate."""

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test-ca"))
        .issuer_name(name("test-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("apiserver"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain_file, key_file = directory / "serving.crt", directory / "serving.key"
    chain_file.write_bytes(cert.public_bytes(pem) + ca.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Pki(ca.public_bytes(pem), chain_file, key_file)


@dataclass
class Recorder:
    """A stand-in apiserver that answers `GET /version` and remembers each Authorization header."""

    url: str
    seen: list[str | None] = field(default_factory=list)


class _VersionHandler(BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_GET(self) -> None:
        self.server.recorder.seen.append(self.headers.get("Authorization"))
        body = json.dumps(VERSION).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _RecordingServer(ThreadingHTTPServer):
    def __init__(self, tls: Pki | None) -> None:
        super().__init__(("127.0.0.1", 0), _VersionHandler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls.chain_file), str(tls.key_file))
            self.socket = context.wrap_socket(self.socket, server_side=True)
            scheme = "https"
        self.recorder = Recorder(f"{scheme}://127.0.0.1:{self.server_address[1]}")


class Apiservers:
    """Starts recording stand-in apiservers on 127.0.0.1 and stops them all at the end of a test."""

    def __init__(self) -> None:
        self._running: list[tuple[_RecordingServer, threading.Thread]] = []

    def start(self, tls: Pki | None = None) -> Recorder:
        server = _RecordingServer(tls)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self._running.append((server, thread))
        return server.recorder

    def stop_all(self) -> None:
        for server, thread in self._running:
            server.shutdown()
            server.server_close()
            thread.join()


@pytest.fixture
def apiservers() -> Iterator[Apiservers]:
    servers = Apiservers()
    yield servers
    servers.stop_all()


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, SERVER, "shop", ADMIN_TOKEN, ACCOUNTS)
    return path


def official_client_config(path: Path, context: str | None) -> client.Configuration:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(path), context=context, client_configuration=cfg)
    return cfg


def kubectl(kubeconfig: Path, *args: str) -> str:
    if not shutil.which(KUBECTL):
        pytest.skip("kubectl is not installed")
    cache = kubeconfig.parent / "kubectl-cache"
    done = subprocess.run(
        [KUBECTL, f"--kubeconfig={kubeconfig}", f"--cache-dir={cache}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- the official client ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "token", "namespace"),
    [
        pytest.param(None, ADMIN_TOKEN, "shop", id="current context is the admin"),
        pytest.param("admin", ADMIN_TOKEN, "shop", id="admin"),
        pytest.param("sa-shop-healer", "sandbox-sa.shop.healer", "shop", id="the healer"),
        pytest.param("sa-ops-robot", "sandbox-sa.ops.robot", "ops", id="an account elsewhere"),
    ],
)
def test_the_official_client_connects_as_each_context(
    tmp_path: Path, apiservers: Apiservers, context: str | None, token: str, namespace: str
) -> None:
    apiserver = apiservers.start()
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, apiserver.url, "shop", ADMIN_TOKEN, ACCOUNTS)

    cfg = official_client_config(path, context)
    assert cfg.host == apiserver.url
    assert client.VersionApi(client.ApiClient(cfg)).get_code().git_version == "v1.32.0"
    assert apiserver.seen == [f"Bearer {token}"]

    contexts, current = config.list_kube_config_contexts(config_file=str(path))
    chosen = current if context is None else next(c for c in contexts if c["name"] == context)
    assert chosen["context"]["namespace"] == namespace
    assert chosen["context"]["cluster"] == "sandbox"


def test_the_official_client_verifies_the_tls_port_with_the_inlined_ca(
    tmp_path: Path, apiservers: Apiservers
) -> None:
    pki = mint_pki(tmp_path)
    plain, secure = apiservers.start(), apiservers.start(pki)
    path = tmp_path / "kubeconfig"
    write_kubeconfig(
        path, plain.url, "shop", ADMIN_TOKEN, ACCOUNTS, secure_server=secure.url, ca_pem=pki.ca_pem
    )

    cfg = official_client_config(path, "sa-shop-healer")
    assert cfg.host == secure.url
    assert cfg.verify_ssl
    assert client.VersionApi(client.ApiClient(cfg)).get_code().git_version == "v1.32.0"
    assert secure.seen == ["Bearer sandbox-sa.shop.healer"]
    assert plain.seen == []


# --- the file ---------------------------------------------------------------------------------------


def test_the_file_is_private_and_nothing_is_left_behind(kubeconfig: Path) -> None:
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert sorted(p.name for p in kubeconfig.parent.iterdir()) == ["kubeconfig"]


def test_rewriting_replaces_the_old_file_in_one_step(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("stale: true\n")
    path.chmod(0o644)
    write_kubeconfig(path, "http://127.0.0.1:1", "other", "second-admin", [])
    doc = yaml.safe_load(path.read_text())
    assert doc["clusters"] == [{"name": "sandbox", "cluster": {"server": "http://127.0.0.1:1"}}]
    assert [u["name"] for u in doc["users"]] == ["admin"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("old: config\n")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_kubeconfig(path, SERVER, "shop", ADMIN_TOKEN, ACCOUNTS)
    assert path.read_text() == "old: config\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kubeconfig"]


def test_each_service_account_gets_one_user_and_context(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, SERVER, "shop", ADMIN_TOKEN, [*ACCOUNTS, ("shop", "healer")])
    doc = yaml.safe_load(path.read_text())
    assert doc["current-context"] == "admin"
    assert doc["users"] == [
        {"name": "admin", "user": {"token": ADMIN_TOKEN}},
        {"name": "sa-shop-healer", "user": {"token": token_for("shop", "healer")}},
        {"name": "sa-ops-robot", "user": {"token": token_for("ops", "robot")}},
    ]
    assert [(c["name"], c["context"]["user"], c["context"]["namespace"]) for c in doc["contexts"]] == [
        ("admin", "admin", "shop"),
        ("sa-shop-healer", "sa-shop-healer", "shop"),
        ("sa-ops-robot", "sa-ops-robot", "ops"),
    ]


def test_with_a_tls_port_the_accounts_use_it_and_the_admin_keeps_plain_http(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, SERVER, "shop", ADMIN_TOKEN, ACCOUNTS, secure_server=SECURE_SERVER, ca_pem=b"PEM")
    doc = yaml.safe_load(path.read_text())
    assert doc["clusters"] == [
        {"name": "sandbox", "cluster": {"server": SERVER}},
        {
            "name": "sandbox-tls",
            "cluster": {
                "server": SECURE_SERVER,
                "certificate-authority-data": base64.b64encode(b"PEM").decode(),
            },
        },
    ]
    assert {c["name"]: c["context"]["cluster"] for c in doc["contexts"]} == {
        "admin": "sandbox",
        "sa-shop-healer": "sandbox-tls",
        "sa-ops-robot": "sandbox-tls",
    }


def test_a_tls_port_without_its_ca_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CA"):
        write_kubeconfig(
            tmp_path / "kubeconfig", SERVER, "shop", ADMIN_TOKEN, ACCOUNTS, secure_server=SECURE_SERVER
        )


def test_accounts_that_would_share_a_context_name_are_refused(tmp_path: Path) -> None:
    assert context_name("a-b", "c") == context_name("a", "b-c")
    with pytest.raises(ValueError, match="sa-a-b-c"):
        write_kubeconfig(tmp_path / "kubeconfig", SERVER, "shop", ADMIN_TOKEN, [("a-b", "c"), ("a", "b-c")])
    assert not (tmp_path / "kubeconfig").exists()


# --- real kubectl -----------------------------------------------------------------------------------


@pytest.mark.kubectl
def test_kubectl_config_view_shows_the_cluster_and_both_kinds_of_context(kubeconfig: Path) -> None:
    view = json.loads(kubectl(kubeconfig, "config", "view", "-o", "json"))
    assert view["current-context"] == "admin"
    assert view["clusters"] == [{"name": "sandbox", "cluster": {"server": SERVER}}]
    assert {c["name"]: c["context"] for c in view["contexts"]} == {
        "admin": {"cluster": "sandbox", "user": "admin", "namespace": "shop"},
        "sa-shop-healer": {"cluster": "sandbox", "user": "sa-shop-healer", "namespace": "shop"},
        "sa-ops-robot": {"cluster": "sandbox", "user": "sa-ops-robot", "namespace": "ops"},
    }
    assert {u["user"]["token"] for u in view["users"]} == {"REDACTED"}, "kubectl hides tokens unless --raw"


@pytest.mark.kubectl
def test_kubectl_reads_back_the_service_account_token_of_its_context(kubeconfig: Path) -> None:
    token = kubectl(
        kubeconfig,
        "config",
        "view",
        "--raw",
        "--minify",
        "--context=sa-shop-healer",
        "-o",
        "jsonpath={.users[0].user.token}",
    )
    assert token == "sandbox-sa.shop.healer"


@pytest.mark.kubectl
def test_kubectl_lists_the_contexts_with_the_admin_current(kubeconfig: Path) -> None:
    lines = kubectl(kubeconfig, "config", "get-contexts").splitlines()
    assert lines[0].split() == ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
    rows = sorted(line.split() for line in lines[1:])
    assert rows == [
        ["*", "admin", "sandbox", "admin", "shop"],
        ["sa-ops-robot", "sandbox", "sa-ops-robot", "ops"],
        ["sa-shop-healer", "sandbox", "sa-shop-healer", "shop"],
    ]


@pytest.mark.kubectl
def test_kubectl_sends_no_token_over_plain_http(tmp_path: Path, apiservers: Apiservers) -> None:
    """Why the accounts need the TLS port: clientcmd attaches credentials only for https servers."""
    plain = apiservers.start()
    path = tmp_path / "kubeconfig"
    write_kubeconfig(path, plain.url, "shop", ADMIN_TOKEN, ACCOUNTS)
    kubectl(path, "--context=sa-shop-healer", "version", "-o", "json")
    assert plain.seen and set(plain.seen) == {None}


@pytest.mark.kubectl
def test_kubectl_sends_the_account_token_to_the_tls_port_it_trusts(
    tmp_path: Path, apiservers: Apiservers
) -> None:
    pki = mint_pki(tmp_path)
    plain, secure = apiservers.start(), apiservers.start(pki)
    path = tmp_path / "kubeconfig"
    write_kubeconfig(
        path, plain.url, "shop", ADMIN_TOKEN, ACCOUNTS, secure_server=secure.url, ca_pem=pki.ca_pem
    )

    version = json.loads(kubectl(path, "--context=sa-shop-healer", "version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == "v1.32.0"
    assert secure.seen and set(secure.seen) == {"Bearer sandbox-sa.shop.healer"}
    assert plain.seen == []

    rows = sorted(line.split() for line in kubectl(path, "config", "get-contexts").splitlines()[1:])
    assert rows == [
        ["*", "admin", "sandbox", "admin", "shop"],
        ["sa-ops-robot", "sandbox-tls", "sa-ops-robot", "ops"],
        ["sa-shop-healer", "sandbox-tls", "sa-shop-healer", "shop"],
    ]
