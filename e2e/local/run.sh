#!/usr/bin/env bash
# Sluice end-to-end on the local control plane (no Docker, no kubelet): the real kube-apiserver +
# kube-controller-manager, Kafka and NATS from scripts/dev-env on 127.0.0.1, the real
# sluice-operator, and e2e/local/kubelet.py running each worker Pod as a local sluice-worker.
#
#   e2e/local/run.sh [scenario ...]      run the shared scenarios (e2e/scenarios; default: all)
#   e2e/local/run.sh --harness-only      set everything up, start operator + harness, and wait
#                                        (Ctrl-C stops it): for poking with kubectl scale
#
# Environment:
#   SLUICE_E2E_STATE=/tmp/sluice-e2e-local  dev-env state of this run's services (its own, so another
#                                        engineer's `dev-env down` cannot pull them away mid-run);
#                                        services already running there are reused
#   SLUICE_E2E_REUSE_ENV=1               use $SLUICE_STATE (default /tmp/sluice-dev) instead
#   SLUICE_E2E_KEEP_ENV=1                leave the services it started running afterwards
#   SLUICE_BUILD_DIR=build-e2e           where sluice-operator and sluice-worker are (built with
#                                        ninja -j2 when missing; SLUICE_E2E_BUILD=1 forces a build)
#   SLUICE_OPERATOR, SLUICE_WORKER       explicit binaries (CTest passes them)
#   SLUICE_E2E_TIME_SCALE                multiply every timeout (slow machines)
#   SLUICE_E2E_VERBOSE=1                 operator and harness logs on stderr too
#   SLUICE_E2E_PROGRESS=1                every 2 s, one line per pipeline: replicas/desired, lag,
#                                        workers reporting (scripts/demo operator sets it)
#
# The scenarios and their assertions are e2e/scenarios/lib.sh, shared with the kind provider; this
# script only provides the services, the operator, the "kubelet" and the e2e_produce hook.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=e2e/scenarios/lib.sh
source "$repo/e2e/scenarios/lib.sh"

build_dir="${SLUICE_BUILD_DIR:-$repo/build-e2e}"
[[ "$build_dir" = /* ]] || build_dir="$repo/$build_dir"
if [[ "${SLUICE_E2E_REUSE_ENV:-0}" == 1 ]]; then
  export SLUICE_STATE="${SLUICE_STATE:-/tmp/sluice-dev}"
else
  export SLUICE_STATE="${SLUICE_E2E_STATE:-/tmp/sluice-e2e-local}"
fi
run_dir="$SLUICE_STATE/e2e-local"
SERVICES=(kube kafka nats)

pids=()
started_services=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  # Harness first (it SIGTERMs its workers and waits for them), then the operator.
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ ${#started_services[@]} -gt 0 && "${SLUICE_E2E_KEEP_ENV:-0}" != 1 ]]; then
    e2e_log "stopping the services this run started: ${started_services[*]}"
    "$repo/scripts/dev-env" down "${started_services[@]}" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}

services_up() {
  local s before=""
  [[ -f "$SLUICE_STATE/env" ]] && before=$(sed -n "s/^export SLUICE_SERVICES_UP='\(.*\)'$/\1/p" "$SLUICE_STATE/env")
  for s in "${SERVICES[@]}"; do
    [[ " $before " == *" $s "* ]] || started_services+=("$s")
  done
  e2e_log "services: ${SERVICES[*]} (state $SLUICE_STATE; starting: ${started_services[*]:-none})"
  "$repo/scripts/dev-env" up "${SERVICES[@]}" >"$run_dir/dev-env.log" 2>&1 \
    || { tail -n 30 "$run_dir/dev-env.log" >&2; e2e_error "scripts/dev-env up ${SERVICES[*]} failed"; return 1; }
  # shellcheck disable=SC1091
  source "$SLUICE_STATE/env"
}

binaries() {
  if [[ -n "${SLUICE_OPERATOR:-}" || -n "${SLUICE_WORKER:-}" ]]; then
    [[ -x "${SLUICE_OPERATOR:-}" && -x "${SLUICE_WORKER:-}" ]] \
      || { e2e_error "SLUICE_OPERATOR ('${SLUICE_OPERATOR:-}') and SLUICE_WORKER ('${SLUICE_WORKER:-}') must both be executables"; return 1; }
    return 0
  fi
  SLUICE_OPERATOR="${SLUICE_OPERATOR:-$build_dir/operator/sluice-operator}"
  SLUICE_WORKER="${SLUICE_WORKER:-$build_dir/worker/sluice-worker}"
  if [[ "${SLUICE_E2E_BUILD:-0}" == 1 || ! -x "$SLUICE_OPERATOR" || ! -x "$SLUICE_WORKER" ]]; then
    e2e_log "building sluice-operator and sluice-worker in $build_dir (ninja -j2)"
    [[ -f "$build_dir/build.ninja" ]] || cmake -S "$repo" -B "$build_dir" -G Ninja >/dev/null
    ninja -C "$build_dir" -j2 sluice-operator sluice-worker >&2
  fi
}

prepare_cluster() {
  e2e_log "CRD, namespace $SLUICE_E2E_NAMESPACE, topic e2e-orders (8 partitions), stream E2E_EVENTS"
  _kubectl apply --server-side --force-conflicts -f "$repo/crds/consumerpipelines.sluice.dev.yaml" >/dev/null
  _kubectl wait crd/consumerpipelines.sluice.dev --for=condition=Established --timeout="$(_timeout 60)s" >/dev/null
  _kubectl create namespace "$SLUICE_E2E_NAMESPACE" --dry-run=client -o yaml | _kubectl apply -f - >/dev/null
  # Leftovers of an earlier run in a reused env would skew lag: start the sources from empty.
  _kubectl -n "$SLUICE_E2E_NAMESPACE" delete consumerpipelines --all --wait=true >/dev/null 2>&1 || true
  "$repo/scripts/kafka-topics" --delete --if-exists --topic e2e-orders >/dev/null 2>&1 || true
  local deadline=$((SECONDS + $(_timeout 60)))
  until "$repo/scripts/kafka-topics" --create --if-not-exists --topic e2e-orders --partitions 8 \
      --replication-factor 1 >/dev/null 2>&1; do
    (( SECONDS < deadline )) || { e2e_error "cannot create topic e2e-orders"; return 1; }
    sleep 1
  done
  python3 "$here/nats_tool.py" --url "$NATS_URL" stream --recreate E2E_EVENTS 'e2e.events.>' >/dev/null
}

# follow LOG: with SLUICE_E2E_VERBOSE=1, copy LOG to stderr as it grows (stopped by cleanup).
follow() {
  if [[ "${SLUICE_E2E_VERBOSE:-0}" == 1 ]]; then
    tail -n +1 -f "$1" >&2 &
    pids+=("$!")
  fi
}

# progress: with SLUICE_E2E_PROGRESS=1, a line per pipeline every 2 s (stopped by cleanup).
progress() {
  [[ "${SLUICE_E2E_PROGRESS:-0}" == 1 ]] || return 0
  local cols='{range .items[*]}{.metadata.name}{" replicas="}{.status.replicas}{"/desired="}{.status.desiredReplicas}'
  cols+='{" lag="}{.status.lag.total}{" workers="}{.status.workers.ready}{"/"}{.status.workers.total}{"\n"}{end}'
  while sleep 2; do
    _kubectl -n "$SLUICE_E2E_NAMESPACE" get consumerpipelines -o "jsonpath=$cols" 2>/dev/null \
      | while read -r line; do [[ -n "$line" ]] && printf '[progress %s] %s\n' "$(date +%H:%M:%S)" "$line" >&2; done
  done &
  pids+=("$!")
}

# wait_for_file FILE TIMEOUT WHAT
wait_for_file() {
  local deadline=$((SECONDS + $(_timeout "$2")))
  until [[ -e "$1" ]]; do
    (( SECONDS < deadline )) || { e2e_error "$3 not ready after $2s"; return 1; }
    sleep 0.2
  done
}

start_operator() {
  local log="$run_dir/operator.log"
  e2e_log "sluice-operator (log $log)"
  # POD_NAMESPACE/POD_NAME belong to the workers; the operator gets its leader settings explicitly.
  env -u POD_NAMESPACE -u POD_NAME "$SLUICE_OPERATOR" --kubeconfig "$KUBECONFIG" \
    --metrics-address 127.0.0.1:0 --health-address 127.0.0.1:0 --identity e2e-local \
    --leader-election-namespace default --worker-image "$SLUICE_WORKER_IMAGE" --log-level debug >"$log" 2>&1 &
  pids=("$!" "${pids[@]}")
  local deadline=$((SECONDS + $(_timeout 30)))
  until grep -q "health on port\|health.*port" "$log" 2>/dev/null; do
    kill -0 "${pids[0]}" 2>/dev/null || { tail -n 30 "$log" >&2; e2e_error "sluice-operator exited"; return 1; }
    (( SECONDS < deadline )) || break
    sleep 0.2
  done
  follow "$log"
}

start_harness() {
  local log="$run_dir/kubelet.log" ready="$run_dir/kubelet.ready"
  rm -f "$ready"
  e2e_log "kubelet stand-in e2e/local/kubelet.py (log $log; worker logs under $run_dir/pods)"
  python3 "$here/kubelet.py" --worker "$SLUICE_WORKER" --kubeconfig "$KUBECONFIG" --workdir "$run_dir/pods" \
    --interval 0.5 --heartbeat-seconds 2 --ready-file "$ready" >"$log" 2>&1 &
  pids=("$!" "${pids[@]}")
  wait_for_file "$ready" 30 "the kubelet stand-in" || { tail -n 30 "$log" >&2; return 1; }
  follow "$log"
}

# The hook lib.sh calls: COUNT messages to the scenario's source, returning once all are acked.
e2e_produce() {
  local source="$1" count="$2"
  case "$source" in
    kafka)
      # key:value lines, keys spread over the 8 partitions; kcat waits for every delivery report.
      seq 1 "$count" | awk '{printf "key-%d:{\"id\":%d,\"payload\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n", $1 % 97, $1}' \
        | kcat -P -b "$KAFKA_BOOTSTRAP" -t e2e-orders -K: -X acks=all -q
      ;;
    nats) python3 "$here/nats_tool.py" --url "$NATS_URL" publish e2e.events "$count" >/dev/null ;;
    *) e2e_error "unknown source $source"; return 1 ;;
  esac
}

e2e_on_failure() {
  {
    echo "---- operator log (last 60 lines)"
    tail -n 60 "$run_dir/operator.log"
    echo "---- kubelet stand-in log (last 40 lines)"
    tail -n 40 "$run_dir/kubelet.log"
    echo "---- heartbeat leases"
    _kubectl -n "$SLUICE_E2E_NAMESPACE" get leases -l sluice.dev/pipeline="$1" \
      -o 'custom-columns=NAME:.metadata.name,RENEW:.spec.renewTime,REPORT:.metadata.annotations.sluice\.dev/report'
    local f
    for f in "$run_dir"/pods/"$SLUICE_E2E_NAMESPACE"/"$1"-*/worker.log; do
      [[ -f "$f" ]] || continue
      echo "---- $f (last 15 lines)"
      tail -n 15 "$f"
    done
  } >&2 2>&1 || true
}

main() {
  local harness_only=0
  if [[ "${1:-}" == --harness-only ]]; then harness_only=1; shift; fi
  command -v kubectl >/dev/null || { e2e_error "needs kubectl on PATH"; exit 2; }
  command -v kcat >/dev/null || { e2e_error "needs kcat on PATH (apt-get install kcat)"; exit 2; }
  mkdir -p "$run_dir"
  rm -rf "$run_dir/pods"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  services_up
  binaries

  export SLUICE_E2E_NAMESPACE=sluice-e2e
  export SLUICE_WORKER_IMAGE=sluice:local  # never pulled: the harness runs the local binary
  export SLUICE_WORKER_PULL_POLICY=Never
  export KUBECTL="kubectl --kubeconfig $KUBECONFIG"
  export KAFKA_BOOTSTRAP NATS_URL

  prepare_cluster
  start_operator
  start_harness
  progress
  if (( harness_only )); then
    e2e_log "operator and harness running; KUBECONFIG=$KUBECONFIG; Ctrl-C stops"
    wait "${pids[@]}"
    return 0
  fi
  sluice_run_scenarios "$@"
}

main "$@"
