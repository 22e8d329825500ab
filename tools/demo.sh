#!/usr/bin/env bash
# `make demo`: one healing pass against the bundled ea-plan-v5 sandbox, then a second pass that has
# nothing left to do. Leaves aiops/risk-prediction.json and logs/rollback-history.log in the repo,
# so the user's guide's `cat aiops/risk-prediction.json | jq .` and `tail -20 logs/rollback-history.log` work.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
work=$(mktemp -d)
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
k() { echo "\$ kubectl $*"; kubectl --kubeconfig "$work/kubeconfig" --cache-dir "$work/cache" "$@"; }

mkdir -p aiops logs
rm -f aiops/risk-prediction.json logs/rollback-history.log logs/selfheal-pass-*.log  # a fresh world, a fresh record

say "Starting the sandbox cluster (scenario ea-plan-v5)"
kubesandbox serve --scenario ea-plan-v5 --kubeconfig "$work/kubeconfig" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q "sandbox ready" "$work/serve.log" && break; sleep 0.1; done
grep "sandbox ready" "$work/serve.log" || { cat "$work/serve.log"; exit 1; }
k get deploy,pods

# One pass: JSON logs to logs/selfheal-pass-N.log, the human summary to the terminal.
heal() {
  local n=$1 rc=0
  selfheal run --kubeconfig "$work/kubeconfig" --summary >"$work/pass$n.out" || rc=$?
  grep '^{' "$work/pass$n.out" >"logs/selfheal-pass-$n.log" || true
  grep -v '^{' "$work/pass$n.out"
  echo "exit code: $rc"
}

say "Pass 1: selfheal run (JSON logs in logs/selfheal-pass-1.log)"
heal 1

say "Waiting for the healed Deployments to roll out"
for d in cpt-optimizer cpt-worker cpt-api cpt-reporting; do
  k rollout status "deployment/$d" --timeout=90s
done
k get deploy,pods

say "Pass 2: nothing left to do (JSON logs in logs/selfheal-pass-2.log)"
heal 2

say "cat aiops/risk-prediction.json | jq '{risk_score, level, factors}'"
if command -v jq >/dev/null; then
  jq '{risk_score, level, factors: [.factors[] | {name, value, weight, contribution}]}' aiops/risk-prediction.json
else
  python3 -m json.tool aiops/risk-prediction.json | head -40
fi

say "tail -20 logs/rollback-history.log (one JSON line per decided action; patches shortened here)"
python3 - <<'PY'
import json
for line in open("logs/rollback-history.log").read().splitlines()[-20:]:
    e = json.loads(line)
    print(f'{e["ts"][:19]}  {e["result"]:8} {e["action"]:17} {e["kind"]}/{e["name"]}  ({e["reason"]})')
PY
