#!/usr/bin/env bash
# `make demo`: start the bundled ea-plan-v5 sandbox, show the namespace through the real kubectl.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
selfheal sandbox serve --scenario ea-plan-v5 --kubeconfig "$work/kubeconfig" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "sandbox ready" "$work/serve.log" && break; sleep 0.1; done
grep "sandbox ready" "$work/serve.log" || { cat "$work/serve.log"; exit 1; }
k() { echo "\$ kubectl $*"; kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" "$@"; echo; }
k get deploy,hpa,pdb,cronjob
k get pods
