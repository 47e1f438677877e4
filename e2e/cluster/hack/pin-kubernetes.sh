#!/usr/bin/env bash
# Pin the control plane to a Kubernetes release.
#
# k8s.io/kubernetes points every staging module (k8s.io/api, client-go, ...)
# at v0.0.0 with `replace => ./staging/...`. Replace directives only apply in
# the main module, so this module needs its own replace line per staging
# module. They are generated from the release's go.mod, never typed by hand.
#
# Usage: hack/pin-kubernetes.sh v1.36.3 v0.8.0   (Kubernetes, kwok)
set -euo pipefail
kube=${1:?kubernetes version, e.g. v1.36.3}
kwok=${2:?kwok version built on the same minor, e.g. v0.8.0}
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

staging=v0.${kube#v1.}   # v1.36.3 -> v0.36.3
gomod=$(go mod download -json "k8s.io/kubernetes@${kube}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')

# Drop the previous pins, then add one replace per staging module.
for old in $(go mod edit -json | python3 -c 'import json,sys; print(" ".join(r["Old"]["Path"] for r in json.load(sys.stdin).get("Replace") or []))'); do
  go mod edit -dropreplace="$old"
done
for mod in $(sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$gomod"); do
  go mod edit -replace="${mod}=${mod}@${staging}"
done
go mod edit -require="k8s.io/kubernetes@${kube}" -require="sigs.k8s.io/kwok@${kwok}"
echo "$kube" > KUBE_VERSION
go mod tidy
echo "pinned Kubernetes ${kube} (staging ${staging}) and kwok ${kwok}"
