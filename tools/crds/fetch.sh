#!/usr/bin/env bash
# Copies the CustomResourceDefinitions of the custom resources this repository ships (Kyverno Policy,
# PrometheusRule, ServiceMonitor, Argo CD Application) out of the projects' own Go modules, at pinned
# versions, into
#   .tools/crds/<CRD metadata.name>.yaml      e.g. .tools/crds/policies.kyverno.io.yaml
# and prints that directory on stdout (progress goes to stderr). The file names are the CRDs' own names and
# do not change with the versions: `kubectl apply -f .tools/crds/` installs them into an API server, and
# tests/deploy/support.py validates the manifests against their openAPIV3Schema.
#
# `go mod download` fetches each module once into the Go module cache (checked against go.sum's checksum
# database); each copied file is also checked against the sha256 pinned below. Idempotent: a no-op when
# .tools/crds/SOURCES already lists exactly the pins below. Needs `go` and the Go module proxy.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out="$repo/.tools/crds"

# CRD name                               module@version                                        file in the module                                                            sha256
pins="\
policies.kyverno.io                      github.com/kyverno/kyverno@v1.19.1                    config/crds/kyverno/kyverno.io_policies.yaml                                  fffdcf308c638c699b8e90eb31d130a19928709e6309319942f5fb4cd412122b
prometheusrules.monitoring.coreos.com    github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml 98fd16c9ab79fba8dcd6ef62c957c98cd6546ab74ce0a4ecf09ddf2fda03020e
servicemonitors.monitoring.coreos.com    github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml 1dae27b7189b5ce7b9ab764656c18b4c75a45cde1e6f3af6a5e84c4317628919
applications.argoproj.io                 github.com/argoproj/argo-cd/v3@v3.6.1                 manifests/crds/application-crd.yaml                                           9fd0da3e7097ad6d1af614fabd5c960bc7ddb00d768c3ef485a2fda6e9460df8
"

sources() { awk 'NF {print $1, $2, $3, $4}' <<<"$pins"; }

mkdir -p "$out"
# pytest -n 2 may ask from two workers at once: one copies, the other waits and finds the files there.
exec 9>>"$out/.lock"
flock 9
if [[ -f "$out/SOURCES" ]] && [[ "$(cat "$out/SOURCES")" == "$(sources)" ]] &&
  (cd "$out" && awk '{print $4 "  " $1 ".yaml"}' SOURCES | sha256sum --check --status); then
  echo "$out"
  exit 0
fi

command -v go >/dev/null || {
  echo "fetch.sh: go is not installed: install Go 1.21 or newer (https://go.dev/dl/) to fetch the CRDs from their Go modules" >&2
  exit 1
}

# Outside any go.mod/go.work of the checkout. argo-cd v3.6 declares `go 1.27.0`: GOTOOLCHAIN=auto lets
# an older go fetch a newer toolchain from the module proxy just for that check (the files are the same).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$out/SOURCES"
while read -r name modver path sum; do
  [[ -n "$name" ]] || continue
  echo "fetch.sh: $name from $modver/$path" >&2
  dir=$(cd "$work" && GOWORK=off GOTOOLCHAIN="${GOTOOLCHAIN_FOR_CRDS:-auto}" \
    go mod download -json "$modver" | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit("go mod download: " + d.get("Error", "no Dir")))')
  src="$dir/$path"
  [[ -f "$src" ]] || { echo "fetch.sh: $modver has no $path" >&2; exit 1; }
  got=$(sha256sum "$src" | cut -d' ' -f1)
  [[ "$got" == "$sum" ]] || { echo "fetch.sh: $modver/$path has sha256 $got, pinned $sum" >&2; exit 1; }
  install -m 0644 "$src" "$out/$name.yaml.tmp"
  mv -f "$out/$name.yaml.tmp" "$out/$name.yaml"
done <<<"$pins"
sources >"$out/SOURCES"
echo "$out"
