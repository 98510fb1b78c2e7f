#!/usr/bin/env bash
# Sluice end-to-end on a kind cluster (needs Docker, kind, kubectl and helm):
#
#   e2e/kind/run.sh [scenario ...]     create the cluster, build + load the image, install the
#                                      chart, deploy Kafka and NATS, run the shared scenarios
#                                      (e2e/scenarios), delete the cluster
#   e2e/kind/run.sh --render           print every manifest the run applies (no cluster needed;
#                                      scripts/check-packaging validates them with a server-side
#                                      dry-run against the local control plane)
#
# Environment:
#   KIND_CLUSTER=sluice-e2e   cluster name            KIND_NODE_IMAGE   e.g. kindest/node:v1.32.5
#   SLUICE_IMAGE=sluice:e2e   image to build and load SKIP_BUILD=1      use an already built image
#   KEEP_CLUSTER=1            keep the cluster afterwards (and reuse an existing one)
#   KIND, KUBECTL, HELM, DOCKER  the tools (default: from PATH)
#   SLUICE_E2E_TIME_SCALE     multiply every timeout (slow CI runners)
#
# The scenarios and their assertions are e2e/scenarios/lib.sh, shared with the local provider;
# this script only provides the cluster, the brokers and the e2e_produce hook (a Job per burst).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=e2e/scenarios/lib.sh
source "$repo/e2e/scenarios/lib.sh"

KIND_CLUSTER="${KIND_CLUSTER:-sluice-e2e}"
SLUICE_IMAGE="${SLUICE_IMAGE:-sluice:e2e}"
KIND="${KIND:-kind}"
HELM="${HELM:-helm}"
DOCKER="${DOCKER:-docker}"
RELEASE=sluice
RELEASE_NAMESPACE=sluice-system
INFRA_NAMESPACE=sluice-e2e-infra

# What the shared scenarios see (lib.sh): in-cluster addresses of the brokers.
export SLUICE_E2E_NAMESPACE=sluice-e2e
export KAFKA_BOOTSTRAP="kafka.$INFRA_NAMESPACE.svc.cluster.local:9092"
export NATS_URL="nats://nats.$INFRA_NAMESPACE.svc.cluster.local:4222"
export SLUICE_WORKER_IMAGE="$SLUICE_IMAGE"
export SLUICE_WORKER_PULL_POLICY=Never

# helm_args: the chart install, the same for --render (helm template) and the run (helm install).
helm_args() {
  local repo_part="${SLUICE_IMAGE%:*}" tag_part="${SLUICE_IMAGE##*:}"
  printf '%s\n' "$RELEASE" "$repo/charts/sluice" --namespace "$RELEASE_NAMESPACE" \
    --values "$here/values-e2e.yaml" --set "image.repository=$repo_part" --set "image.tag=$tag_part"
}

# load_job SOURCE COUNT RUN_ID: the producer Job manifest for one burst.
load_job() {
  sed -e "s/@COUNT@/$2/g" -e "s/@RUN_ID@/$3/g" "$here/manifests/produce-$1.job.yaml"
}

# render: every manifest this script applies, as one multi-document stream.
render() {
  local f line name source count peak args
  for f in "$here"/manifests/[0-9]*.yaml; do
    cat "$f"; echo "---"
  done
  mapfile -t args < <(helm_args)
  "$HELM" template "${args[@]}" --include-crds --kube-version "${SLUICE_RENDER_KUBE_VERSION:-1.32.0}"
  echo "---"
  while read -r line; do
    read -r name source count peak <<<"$line"
    sluice_render "$SLUICE_SCENARIOS_DIR/$name.yaml"; echo "---"
    load_job "$source" "$count" render; echo "---"
    : "$peak"
  done < <(sluice_scenarios)
}

need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || { e2e_error "needs '$c' on PATH"; exit 2; }
  done
}

KUBECTL="kubectl --context kind-$KIND_CLUSTER"
export KUBECTL

created_cluster=0
cleanup() {
  local rc=$?
  if [[ "${KEEP_CLUSTER:-0}" != 1 && $created_cluster == 1 ]]; then
    e2e_log "deleting kind cluster $KIND_CLUSTER"
    "$KIND" delete cluster --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}

create_cluster() {
  if "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    [[ "${KEEP_CLUSTER:-0}" == 1 ]] || { e2e_error "kind cluster $KIND_CLUSTER exists; delete it or set KEEP_CLUSTER=1"; exit 1; }
    e2e_log "reusing kind cluster $KIND_CLUSTER"
    return 0
  fi
  local args=(create cluster --name "$KIND_CLUSTER" --config "$here/kind-config.yaml" --wait 180s)
  [[ -n "${KIND_NODE_IMAGE:-}" ]] && args+=(--image "$KIND_NODE_IMAGE")
  e2e_log "creating kind cluster $KIND_CLUSTER"
  created_cluster=1
  "$KIND" "${args[@]}"
}

build_image() {
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    e2e_log "building $SLUICE_IMAGE (C++ build inside: a few minutes)"
    "$DOCKER" build -t "$SLUICE_IMAGE" \
      --build-arg "REVISION=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)" "$repo"
  fi
  "$DOCKER" run --rm "$SLUICE_IMAGE" sluice-operator --version
  "$DOCKER" run --rm "$SLUICE_IMAGE" sluice-worker --version
  e2e_log "loading $SLUICE_IMAGE into kind"
  "$KIND" load docker-image "$SLUICE_IMAGE" --name "$KIND_CLUSTER"
}

deploy_brokers() {
  e2e_log "deploying Kafka and NATS"
  _kubectl apply -f "$here/manifests/00-namespaces.yaml" -f "$here/manifests/10-kafka.yaml" \
    -f "$here/manifests/20-nats.yaml"
  _kubectl -n "$INFRA_NAMESPACE" rollout status deployment/kafka --timeout="$(_timeout 300)s"
  _kubectl -n "$INFRA_NAMESPACE" rollout status deployment/nats --timeout="$(_timeout 180)s"
  _kubectl apply -f "$here/manifests/30-setup-jobs.yaml"
  _kubectl -n "$INFRA_NAMESPACE" wait job/e2e-kafka-topics job/e2e-nats-stream --for=condition=Complete \
    --timeout="$(_timeout 300)s"
}

install_chart() {
  local args
  mapfile -t args < <(helm_args)
  e2e_log "installing the chart (release $RELEASE in $RELEASE_NAMESPACE)"
  "$HELM" upgrade --install "${args[@]}" --kube-context "kind-$KIND_CLUSTER" --create-namespace \
    --wait --timeout "$(_timeout 300)s"
  _kubectl get crd consumerpipelines.sluice.dev >/dev/null
  _kubectl -n "$RELEASE_NAMESPACE" rollout status "deployment/$RELEASE" --timeout="$(_timeout 180)s"
  # Leader election: exactly one replica holds the Lease.
  _kubectl -n "$RELEASE_NAMESPACE" get lease -o 'custom-columns=NAME:.metadata.name,HOLDER:.spec.holderIdentity' >&2
}

# The hook lib.sh calls: one producer Job per burst, waited for until Complete.
e2e_produce() {
  local source="$1" count="$2" id job
  id="$(date +%s)-$RANDOM"
  job=$(load_job "$source" "$count" "$id" | _kubectl create -f - -o name)
  _kubectl -n "$INFRA_NAMESPACE" wait "$job" --for=condition=Complete --timeout="$(_timeout 300)s" >/dev/null \
    || { _kubectl -n "$INFRA_NAMESPACE" logs "$job" --tail=30 >&2 || true; return 1; }
}

e2e_on_failure() {
  {
    echo "---- operator logs"
    _kubectl -n "$RELEASE_NAMESPACE" logs "deployment/$RELEASE" --all-containers --tail=100
    echo "---- operator leases"
    _kubectl -n "$RELEASE_NAMESPACE" get leases -o wide
  } >&2 2>&1 || true
}

main() {
  if [[ "${1:-}" == --render ]]; then
    render
    return 0
  fi
  need "$KIND" "$DOCKER" "$HELM" kubectl git
  trap cleanup EXIT
  create_cluster
  build_image
  deploy_brokers
  install_chart
  sluice_run_scenarios "$@"
}

main "$@"
