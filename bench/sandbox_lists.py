"""How fast the sandbox pages out a 20,000-pod namespace: it must not be what a client benchmark measures."""

from __future__ import annotations

import json
import time

import urllib3

from selfheal.sandbox.sandbox import ADMIN_TOKEN, Sandbox

from .fixtures import realistic_pod

PODS = 20_000


def run() -> dict[str, float]:
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}]
    import tempfile
    from pathlib import Path

    import yaml

    path = Path(tempfile.mkdtemp()) / "ns.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    with Sandbox.start(str(path)) as sb:
        from selfheal.sandbox.resources import BY_PLURAL
        pods = BY_PLURAL[("", "pods")]
        for i in range(PODS):
            sb.store.load(pods, realistic_pod(i))
        size = len(json.dumps(realistic_pod(0)))
        http = urllib3.PoolManager()
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": "application/json"}
        best = float("inf")
        total_bytes = 0
        for _ in range(3):
            t0 = time.perf_counter()
            token, count, total_bytes = "", 0, 0
            while True:
                url = f"{sb.url}/api/v1/namespaces/bench/pods?limit=500" + (f"&continue={token}" if token else "")
                resp = http.request("GET", url, headers=headers)
                total_bytes += len(resp.data)
                # find the continue token without decoding 3.5 MB of JSON: it sits in the list metadata
                head = resp.data[:600].decode()
                token = json.loads(head.split(',"items":[', 1)[0] + "}").get("metadata", {}).get("continue", "")
                count += resp.data.count(b'"kind":"Pod"')
                if not token:
                    break
            best = min(best, time.perf_counter() - t0)
        assert count == PODS
        return {"pods": PODS, "pod_json_bytes": size, "list_bytes": total_bytes,
                "seconds": best, "pods_per_second": PODS / best}


def report() -> list[str]:
    r = run()
    return [f"sandbox list: {r['pods']:.0f} pods of {r['pod_json_bytes']/1024:.1f} KB "
            f"({r['list_bytes']/2**20:.0f} MiB) paged at limit=500 in {r['seconds']:.2f} s "
            f"= {r['pods_per_second']:,.0f} pods/s (target: well over 20,000 pods/s)"]
