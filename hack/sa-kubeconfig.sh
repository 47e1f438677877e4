#!/usr/bin/env bash
# Print a kubeconfig that authenticates as a ServiceAccount only: the API
# server and CA of the current kubeconfig, and a short-lived token from the
# TokenRequest API (`kubectl create token`). No client certificate, no admin
# rights: what the operator can do with it is exactly what its RBAC grants.
#
# Usage: hack/sa-kubeconfig.sh NAMESPACE SERVICEACCOUNT [DURATION] > sa.kubeconfig
#   e.g. hack/sa-kubeconfig.sh conveyor-system conveyor 8h
# KUBECTL overrides the kubectl command (default: the local control plane's
# bundled kubectl when it is built, else kubectl from PATH).
set -euo pipefail
namespace=${1:?usage: $0 NAMESPACE SERVICEACCOUNT [DURATION]}
name=${2:?usage: $0 NAMESPACE SERVICEACCOUNT [DURATION]}
duration=${3:-1h}
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${KUBECTL:-}" ]]; then
  if [[ -x "$root/e2e/bin/conveyor-cluster" ]]; then
    KUBECTL="$root/e2e/bin/conveyor-cluster kubectl"
  else
    KUBECTL=kubectl
  fi
fi
kc() { $KUBECTL "$@"; }

token=$(kc create token "$name" -n "$namespace" --duration="$duration")
server=$(kc config view --raw --minify --flatten -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kc config view --raw --minify --flatten -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
cat <<CONFIG
apiVersion: v1
kind: Config
clusters:
  - name: cluster
    cluster:
      server: $server
      certificate-authority-data: $ca
users:
  - name: $namespace-$name
    user:
      token: $token
contexts:
  - name: $namespace-$name
    context: {cluster: cluster, user: $namespace-$name, namespace: $namespace}
current-context: $namespace-$name
CONFIG
