#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to. Idempotent: does nothing when all are present.
set -euo pipefail
need=()
command -v kubectl >/dev/null || { echo "kubectl (1.32) is expected on the machine image" >&2; exit 1; }
# The shellcheck package: actionlint (tests/deploy) checks the workflow's `run:` scripts with it.
for pair in "promtool:prometheus" "prometheus:prometheus" "prometheus-pushgateway:prometheus-pushgateway" \
            "shellcheck:shellcheck"; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null || [[ " ${need[*]} " == *" $pkg "* ]] || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "installing Debian packages: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
