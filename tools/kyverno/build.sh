#!/usr/bin/env bash
# Builds the Kyverno CLI from its Go module, at the version tools/kyverno/go.mod pins, into
#   .tools/kyverno/<version>/kyverno
# and prints that path on stdout (everything else goes to stderr). Idempotent: a no-op when the binary for
# the pinned version exists. Needs only `go` and the Go module proxy (no GitHub release downloads).
#
# Built as upstream's Makefile builds its CLI (CGO_ENABLED=0, -s -w, pkg/version.BuildVersion), plus
# -trimpath. The wrapper module exists because `go install ...@version` refuses kyverno's replace directive.
# Pin a new version: edit the require line (and the copied replace) in go.mod, then `go mod tidy` there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
module=github.com/kyverno/kyverno
version=$(awk -v m="$module" '$1 == m && $2 ~ /^v/ {print $2} $1 == "require" && $2 == m {print $3}' "$here/go.mod")
[[ -n "$version" ]] || { echo "build.sh: no 'require $module vX.Y.Z' line in $here/go.mod" >&2; exit 1; }

out_dir="$repo/.tools/kyverno/$version"
bin="$out_dir/kyverno"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || {
  echo "build.sh: go is not installed: install Go 1.26.6 or newer (https://go.dev/dl/) to build the Kyverno CLI $version" >&2
  exit 1
}

mkdir -p "$out_dir"
# pytest -n 2 may ask for the binary from two workers at once: one builds, the other waits for it.
exec 9>"$out_dir/.lock"
flock 9
if [[ ! -x "$bin" ]]; then
  echo "build.sh: building $module/cmd/cli/kubectl-kyverno $version (a cold build takes several minutes)" >&2
  tmp="$out_dir/.kyverno.$$"
  (
    cd "$here"
    CGO_ENABLED=0 go build -mod=readonly -trimpath \
      -ldflags "-s -w -X $module/pkg/version.BuildVersion=$version" \
      -o "$tmp" "$module/cmd/cli/kubectl-kyverno"
  ) >&2 || { rm -f "$tmp"; exit 1; }
  mv -f "$tmp" "$bin"
fi
echo "$bin"
