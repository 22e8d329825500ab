#!/usr/bin/env bash
# `make demo`: one healing pass against the bundled ea-plan-v5 sandbox, then a second pass that has
# nothing left to do. Leaves aiops/risk-prediction.json and logs/rollback-history.log in the repo,
# so the user's guide's `cat aiops/risk-prediction.json | jq .` and `tail -20 logs/rollback-history.log` work.
# With Debian's prometheus and promtool on the PATH (`make system-tools`), a Prometheus on a free port
# serves the last hour of the demo world's series (tools/demo_series.py: a memory leak in the stable
# cpt-web, a latency creep in cpt-reporting) and the passes forecast from it; without them the forecasts are
# unknown, and the demo says so.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
work=$(mktemp -d)
pid=""
prom_pid=""
stop() { [[ -n "$1" ]] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; return 0; }
cleanup() { stop "$pid"; stop "$prom_pid"; rm -rf "$work"; }
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

prom_args=()
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  say "Starting Prometheus with the last hour of the demo world's series (backfilled with promtool)"
  python3 tools/demo_series.py "$work/demo.om"
  promtool tsdb create-blocks-from openmetrics "$work/demo.om" "$work/tsdb" >"$work/promtool.log" 2>&1 \
    || { cat "$work/promtool.log"; exit 1; }
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'global: {scrape_interval: 15s}\nscrape_configs: []\n' >"$work/prometheus.yml"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$port" --storage.tsdb.retention.time=3650d >"$work/prometheus.log" 2>&1 &
  prom_pid=$!
  ready() { python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/-/ready', timeout=1)" 2>/dev/null; }
  for _ in $(seq 1 100); do ready && break; sleep 0.1; done
  ready || { tail -20 "$work/prometheus.log"; exit 1; }
  echo "Prometheus ready on http://127.0.0.1:$port; the passes run with --prometheus-url http://127.0.0.1:$port"
  prom_args=(--prometheus-url "http://127.0.0.1:$port")
else
  say "No Prometheus: the forecasts are unknown"
  echo "prometheus and promtool are not installed (make system-tools installs Debian's), so there is nothing to"
  echo "forecast from: every forecast is unknown, and the risk report's confidence says partial."
fi

# One pass: JSON logs to logs/selfheal-pass-N.log, the human summary to the terminal.
heal() {
  local n=$1 rc=0
  selfheal run --kubeconfig "$work/kubeconfig" --summary ${prom_args[@]+"${prom_args[@]}"} >"$work/pass$n.out" || rc=$?
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
  jq '{risk_score, level, factors: [.factors[] | {name, value, weight, contribution}
        + if .time_to_breach_seconds then {time_to_breach_seconds} else {} end]}' aiops/risk-prediction.json
else
  python3 -m json.tool aiops/risk-prediction.json | head -40
fi

say "What Prometheus forecasts (aiops/risk-prediction.json: .forecasts, .confidence)"
python3 - <<'PY'
import json
risk = json.load(open("aiops/risk-prediction.json"))
label = {"oom": "time to OOM", "error_budget": "time to an availability breach", "latency": "time to P99 > SLO",
         "capacity": "time to HPA saturation", "restart_trend": "time to a crash loop"}
timed = sorted((f for f in risk["forecasts"] if f.get("time_to_breach_seconds") is not None),
               key=lambda f: f["time_to_breach_seconds"])
for f in timed:
    who = f["workload"] + (f" ({f['subject']})" if f.get("subject") else "")
    print(f'{label[f["kind"]]} {f["time_to_breach_seconds"] / 60:.0f} min: {who}\n    {f["detail"]}')
if not timed:
    print(f"no breach forecast (Prometheus: {risk['sources'].get('prometheus', 'not configured')})")
print(f'confidence: {risk["confidence"]["level"]}' + "".join(f"\n    {m}" for m in risk["confidence"]["missing"][:8])
      + (f'\n    ... and {len(risk["confidence"]["missing"]) - 8} more' if len(risk["confidence"]["missing"]) > 8 else ""))
PY

say "tail -20 logs/rollback-history.log (one JSON line per decided action; patches shortened here)"
python3 - <<'PY'
import json
for line in open("logs/rollback-history.log").read().splitlines()[-20:]:
    e = json.loads(line)
    print(f'{e["ts"][:19]}  {e["result"]:8} {e["action"]:17} {e["kind"]}/{e["name"]}  ({e["reason"]})')
PY
