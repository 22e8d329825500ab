#!/usr/bin/env bash
# Stamp the self-heal job's config annotations into the cpt-web Deployments, from the rendered manifests:
#   selfheal.dev/config-checksum  (pod template)  combined checksum of the ConfigMaps the template reads;
#                                                 a ConfigMap change changes the template, so the pods roll
#   selfheal.dev/config-hash      (Deployment)    config_hash of the rendered pod template; the job's
#                                                 config-drift detector compares the live template with it
# Both values are what `selfheal hash` prints for `kubectl kustomize <dir>` (name, hash, checksum).
#
#   deploy/stamp-config-hash.sh          rewrite the values in deploy/ (then commit them)
#   deploy/stamp-config-hash.sh --check  change nothing; exit 1 and show the diff when a value is stale (CI)
#
# Run it after every change that reaches a pod template or a ConfigMap: `kustomize edit set image`, a new
# resource limit, a ConfigMap value. Argo CD renders Git, so the values must be in Git, not added by CI.
# Order: the checksum first, then the hash of the template that carries it. (The hash ignores the
# checksum annotation, so one pass is a fixed point; the order keeps it one if that ever changes.)
# Kyverno requires config-hash on the Deployment and config-checksum on the template.
set -euo pipefail

SELFHEAL=${SELFHEAL:-selfheal}
KUBECTL=${KUBECTL:-kubectl}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# kustomization (under deploy/)   Deployment                  file that sets its annotations there
TARGETS=(
  "base                           dese-ea-plan-v5             base/deployment.yaml"
  "overlays/prod                  dese-ea-plan-v5             overlays/prod/stable-deployment-patch.yaml"
  "overlays/prod                  dese-ea-plan-v5-canary      overlays/prod/canary-deployment.yaml"
)

# lookup <deploy dir> <kustomization> <deployment>: sets HASH and CHECKSUM (- when the render lacks a
# ConfigMap the template reads) from `selfheal hash` of the rendered kustomization, rendered once per step
declare -A RENDERED=()
HASH="" CHECKSUM=""
lookup() {
  local line
  if [[ -z ${RENDERED[$2]:-} ]]; then
    RENDERED[$2]=$("$KUBECTL" kustomize "$1/$2" | "$SELFHEAL" hash /dev/stdin)
  fi
  line=$(awk -F '\t' -v d="$3" '$1 == d' <<< "${RENDERED[$2]}")
  if [[ -z $line ]]; then
    echo "stamp-config-hash: no Deployment $3 in deploy/$2" >&2
    return 1
  fi
  IFS=$'\t' read -r _ HASH CHECKSUM <<< "$line"
  CHECKSUM=${CHECKSUM:--}
}

# set_annotation <file> <key> <value>: every `<key>: "sha256:..."` line of the file gets the value
set_annotation() {
  if ! grep -Eq "^ +$2: \"sha256:[0-9a-f]*\"$" "$1"; then
    echo "stamp-config-hash: $1 has no '$2: \"sha256:...\"' line to stamp" >&2
    return 1
  fi
  sed -E -i "s|^( +$2: )\"sha256:[0-9a-f]*\"$|\\1\"$3\"|" "$1"
}

stamp() {
  local dir=$1 key target kustomization deployment file
  for key in selfheal.dev/config-checksum selfheal.dev/config-hash; do
    RENDERED=()  # render again after stamping the checksums
    for target in "${TARGETS[@]}"; do
      read -r kustomization deployment file <<< "$target"
      lookup "$dir" "$kustomization" "$deployment"
      if [[ $key == selfheal.dev/config-checksum ]]; then
        if [[ $CHECKSUM == - ]]; then
          echo "stamp-config-hash: deploy/$kustomization lacks a ConfigMap that $deployment reads" >&2
          return 1
        fi
        set_annotation "$dir/$file" "$key" "$CHECKSUM"
      else
        set_annotation "$dir/$file" "$key" "$HASH"
      fi
    done
  done
}

case "${1:-}" in
  "")
    stamp "$here"
    ;;
  --check)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cp -R "$here" "$work/deploy"
    stamp "$work/deploy"
    if ! diff -ru "$here" "$work/deploy"; then
      echo "stamp-config-hash: stale config annotations; run deploy/stamp-config-hash.sh and commit" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
