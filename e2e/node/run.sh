#!/usr/bin/env bash
# Sluice end-to-end on a real node (issue 16): the control plane, containerd + kubelet +
# kube-proxy + CoreDNS of `scripts/dev-env up node`, all inside the network namespace the node
# profile creates. The Sluice image (the Dockerfile, built with buildah) and the e2e HTTP sink image
# are imported into the node's containerd; Kafka and NATS run inside the namespace at the node's
# address behind Services (kafka.kafka.svc:9092, nats.nats.svc:4222, and the listeners that require
# credentials: kafka.kafka.svc:9093 SASL_SSL + SCRAM-SHA-512, tls://nats.nats.svc:4223 TLS + NKey,
# whose credentials the pipelines take from Secrets); `helm install charts/sluice`
# runs the operator as Pods; every pipeline gets real worker Pods. Like kind, without Docker.
#
#   e2e/node/run.sh [scenario ...]   the shared scenarios (e2e/scenarios) and the node scenarios
#                                    (e2e/node/scenarios.txt; default: all of both)
#   e2e/node/run.sh --images         only build and import the images
#
# Environment:
#   SLUICE_E2E_KEEP=1          leave the release, the brokers and the namespaces afterwards
#   SLUICE_E2E_TIME_SCALE      multiply every timeout (default 2: a 2-core machine shared with builds)
#   SLUICE_NODE_E2E_NO_UP=1    do not run `scripts/dev-env up node` (the caller did)
#   SLUICE_E2E_PROGRESS=1      worker Pods as `kubectl get pods -w` prints them, and a line per
#                              pipeline every 2 s (replicas/desired, lag, workers): scripts/demo node
#   CCACHE_DIR                 the compiler cache the image's C++ build reuses (as scripts/test's)
#
# Phases: on the host (it needs the package registries): install what the brokers and helm need,
# build + import the images; then this script runs itself inside the node's namespace
# (`scripts/dev-env exec --`) for everything that talks to the cluster or the brokers, so kubectl,
# helm, kcat and the brokers only ever use addresses inside that namespace.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$repo/scripts/lib/common.sh"
# shellcheck source=scripts/lib/node.sh
source "$repo/scripts/lib/node.sh"
# shellcheck source=e2e/scenarios/lib.sh
source "$repo/e2e/scenarios/lib.sh"
# shellcheck source=e2e/node/scenarios.sh
source "$here/scenarios.sh"

export SLUICE_E2E_TIME_SCALE="${SLUICE_E2E_TIME_SCALE:-2}"
RELEASE=sluice
RELEASE_NAMESPACE=sluice-system
SLUICE_IMAGE=sluice:node
SINK_IMAGE=sluice-e2e-sink:node
# The brokers' dev-env state: their own, so `down` of the node's other services leaves them alone.
BROKER_STATE="$SLUICE_STATE/node-e2e"
# The brokers' listeners that require credentials (scripts/lib/kafka.sh, scripts/lib/nats.sh), with
# certificates naming the Services Pods use.
export SLUICE_KAFKA_SASL_SSL=1 SLUICE_KAFKA_TLS_NAMES="kafka.kafka.svc kafka.kafka.svc.cluster.local"
export SLUICE_NATS_SECURE=1 SLUICE_NATS_TLS_NAMES="nats.nats.svc nats.nats.svc.cluster.local"
run_dir="$SLUICE_STATE/node-e2e-run"

# ---------------------------------------------------------------------------------------- host

# build_images: the Sluice image (the repository's Dockerfile; the C++ build inside reuses
# CCACHE_DIR when set) and the sink image (a static Go binary in FROM scratch), both imported into
# the node's containerd.
build_images() {
  local cache=() archive ctx
  if [[ -n "${CCACHE_DIR:-}" && -d "${CCACHE_DIR:-}" ]]; then cache=(--volume "$CCACHE_DIR:/ccache"); fi
  e2e_log "image $SLUICE_IMAGE: buildah bud of the Dockerfile (the C++ build inside: minutes when not cached)"
  archive=$(node_build_image "$SLUICE_IMAGE" "$repo" "$repo/Dockerfile" -- "${cache[@]}") || return 1
  node_import_image "$archive" >/dev/null || return 1
  # The archive's content hash, as a pod annotation of the operator: a new image rolls it.
  basename "$archive" .oci.tar >"$run_dir/sluice-image.hash"
  ctx="$run_dir/sink-context"
  rm -rf "$ctx"; mkdir -p "$ctx"
  e2e_log "image $SINK_IMAGE: go build of e2e/node/sink (static) into FROM scratch"
  (cd "$here/sink" && go_env local go build -trimpath -ldflags='-s -w' -o "$ctx/sluice-e2e-sink" .) \
    || { e2e_error "go build of e2e/node/sink failed"; return 1; }
  cp "$here/sink/Containerfile" "$ctx/Containerfile"
  archive=$(node_build_image "$SINK_IMAGE" "$ctx") || return 1
  node_import_image "$archive" >/dev/null || return 1
}

host_main() {
  mkdir -p "$run_dir"
  if [[ "${SLUICE_NODE_E2E_NO_UP:-0}" != 1 ]]; then
    e2e_log "scripts/dev-env up node"
    "$repo/scripts/dev-env" up node >"$run_dir/dev-env-up.log" 2>&1 \
      || { tail -n 30 "$run_dir/dev-env-up.log" >&2; e2e_error "scripts/dev-env up node failed"; return 1; }
  fi
  # What the inside phase runs, installed now: the namespace has no route to the package registries.
  apt_install kcat
  SLUICE_STATE="$BROKER_STATE" "$repo/scripts/dev-env" install kafka nats helm >"$run_dir/install.log" 2>&1 \
    || { tail -n 30 "$run_dir/install.log" >&2; e2e_error "scripts/dev-env install kafka nats helm failed"; return 1; }
  build_images
  [[ "${1:-}" == --images ]] && return 0
  e2e_log "into the node's network namespace: scripts/dev-env exec -- $0 --inside $*"
  "$repo/scripts/dev-env" exec -- env SLUICE_STATE="$SLUICE_STATE" SLUICE_CACHE="$SLUICE_CACHE" \
    SLUICE_E2E_TIME_SCALE="$SLUICE_E2E_TIME_SCALE" SLUICE_E2E_KEEP="${SLUICE_E2E_KEEP:-0}" \
    SLUICE_E2E_PROGRESS="${SLUICE_E2E_PROGRESS:-0}" \
    bash "$here/run.sh" --inside "$@"
}

# -------------------------------------------------------------------------------------- inside

NS_KAFKA_BOOTSTRAP="" NS_NATS_URL="" NS_NATS_SECURE_URL=""
bg_pids=()

cleanup() {
  local rc=$? cmd=$BASH_COMMAND pid
  trap - EXIT INT TERM
  # errexit stops silently: name the command it stopped at
  (( rc == 0 )) || e2e_log "exit $rc at: $cmd"
  # each background job is a subshell: its children (kubectl -w, the loop) first, then itself
  for pid in "${bg_pids[@]}"; do
    pkill -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ "${SLUICE_E2E_KEEP:-0}" != 1 ]]; then
    e2e_log "cleaning up: release $RELEASE, namespaces, brokers (SLUICE_E2E_KEEP=1 keeps them)"
    "$HELM" uninstall "$RELEASE" -n "$RELEASE_NAMESPACE" --wait --timeout 120s >/dev/null 2>&1 || true
    _kubectl delete namespace "$SLUICE_E2E_NAMESPACE" kafka nats "$RELEASE_NAMESPACE" --ignore-not-found \
      --wait=true --timeout=120s >/dev/null 2>&1 || true
    SLUICE_STATE="$BROKER_STATE" "$repo/scripts/dev-env" down kafka nats >/dev/null 2>&1 || true
  fi
  exit "$rc"
}

node_ip() {
  _kubectl get nodes -o 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'
}

# brokers_up: Kafka and NATS inside this namespace at the node's address (scripts/dev-env with
# SLUICE_SERVICE_HOST), then the Services + Endpoints Pods use.
brokers_up() {
  local ip="$1"
  e2e_log "Kafka and NATS at $ip (state $BROKER_STATE)"
  SLUICE_STATE="$BROKER_STATE" SLUICE_SERVICE_HOST="$ip" "$repo/scripts/dev-env" up kafka nats helm \
      >"$run_dir/brokers-up.log" 2>&1 \
    || { tail -n 30 "$run_dir/brokers-up.log" >&2; e2e_error "brokers did not start"; return 1; }
  local env_file="$BROKER_STATE/env"
  NS_KAFKA_BOOTSTRAP=$(sed -n "s/^export KAFKA_BOOTSTRAP='\(.*\)'$/\1/p" "$env_file")
  NS_NATS_URL=$(sed -n "s/^export NATS_URL='\(.*\)'$/\1/p" "$env_file")
  NS_NATS_SECURE_URL=$(sed -n "s/^export NATS_SECURE_URL='\(.*\)'$/\1/p" "$env_file")
  HELM=$(sed -n "s/^export HELM='\(.*\)'$/\1/p" "$env_file")
  local v
  for v in HELM_CACHE_HOME HELM_CONFIG_HOME HELM_DATA_HOME KAFKA_SASL_SSL_BOOTSTRAP KAFKA_CA_FILE KAFKA_SCRAM_USER \
      KAFKA_SCRAM_PASSWORD_FILE NATS_SECURE_CA_FILE NATS_NKEY_SEED_FILE NATS_TOOLS_USER NATS_TOOLS_PASSWORD_FILE; do
    export "$v=$(sed -n "s/^export $v='\(.*\)'$/\1/p" "$env_file")"
  done
  local kport="${NS_KAFKA_BOOTSTRAP##*:}" nport="${NS_NATS_URL##*:}"
  local ksport="${KAFKA_SASL_SSL_BOOTSTRAP##*:}" nsport="${NS_NATS_SECURE_URL##*:}"
  [[ -n "$ksport" && -n "$nsport" ]] || { e2e_error "the brokers' credential listeners did not start"; return 1; }
  sed -e "s/@NODE_IP@/$ip/g" -e "s/@KAFKA_PORT@/$kport/g" -e "s/@NATS_PORT@/$nport/g" \
      -e "s/@KAFKA_SASL_SSL_PORT@/$ksport/g" -e "s/@NATS_SECURE_PORT@/$nsport/g" "$here/manifests/brokers.yaml" \
    | _kubectl apply -f - >/dev/null
  e2e_log "kafka.kafka.svc:9092 -> $NS_KAFKA_BOOTSTRAP, nats.nats.svc:4222 -> $NS_NATS_URL"
  e2e_log "kafka.kafka.svc:9093 -> $KAFKA_SASL_SSL_BOOTSTRAP (SASL_SSL, SCRAM-SHA-512), nats.nats.svc:4223 -> $NS_NATS_SECURE_URL (TLS + NKey)"
}

# create_secure_secrets: the Secrets the pipelines with credentials name (pipelines/*-secure-sink.yaml),
# from what the brokers' start made: the CAs alone (server TLS, no client certificate), the SCRAM
# user, the NKey seed. Applied, so a rerun with SLUICE_E2E_KEEP=1 updates them; labelled for the
# operator's lag probe.
create_secure_secrets() {
  local ns="$SLUICE_E2E_NAMESPACE"
  e2e_log "Secrets in $ns: kafka-tls (ca.crt), kafka-scram (username, password), nats-tls (ca.crt), nats-nkey (user.nk)"
  {
    _kubectl -n "$ns" create secret generic kafka-tls --from-file=ca.crt="$KAFKA_CA_FILE" --dry-run=client -o yaml
    echo ---
    _kubectl -n "$ns" create secret generic kafka-scram --from-literal=username="$KAFKA_SCRAM_USER" \
      --from-file=password="$KAFKA_SCRAM_PASSWORD_FILE" --dry-run=client -o yaml
    echo ---
    _kubectl -n "$ns" create secret generic nats-tls --from-file=ca.crt="$NATS_SECURE_CA_FILE" --dry-run=client -o yaml
    echo ---
    _kubectl -n "$ns" create secret generic nats-nkey --from-file=user.nk="$NATS_NKEY_SEED_FILE" --dry-run=client -o yaml
  } | _kubectl apply -f - >/dev/null
  # The operator's lag probe uses a Secret's credentials only with this label (docs/security.md).
  _kubectl -n "$ns" label --overwrite secret kafka-tls kafka-scram nats-tls nats-nkey sluice.dev/lag-probe=true >/dev/null
}

# nats_secure_tool ARGS...: nats_tool.py against the TLS + NKey server, as its tools user.
nats_secure_tool() {
  python3 "$repo/e2e/local/nats_tool.py" --url "$NS_NATS_SECURE_URL" --ca "$NATS_SECURE_CA_FILE" \
    --user "$NATS_TOOLS_USER" --password-file "$NATS_TOOLS_PASSWORD_FILE" "$@"
}

install_chart() {
  e2e_log "helm install $RELEASE charts/sluice (namespace $RELEASE_NAMESPACE, image $SLUICE_IMAGE)"
  "$HELM" upgrade --install "$RELEASE" "$repo/charts/sluice" --namespace "$RELEASE_NAMESPACE" --create-namespace \
      --values "$here/values-node.yaml" --set "image.repository=${SLUICE_IMAGE%:*}" --set "image.tag=${SLUICE_IMAGE##*:}" \
      --set-string "operator.podAnnotations.sluice\.dev/image-archive=$(cat "$run_dir/sluice-image.hash" 2>/dev/null || echo unknown)" \
      --wait --timeout "$(_timeout 180)s" >"$run_dir/helm.log" 2>&1 \
    || { cat "$run_dir/helm.log" >&2; e2e_on_failure; e2e_error "helm install failed"; return 1; }
  _kubectl -n "$RELEASE_NAMESPACE" rollout status "deployment/$RELEASE" --timeout="$(_timeout 120)s" >/dev/null
  local deadline=$((SECONDS + $(_timeout 60))) holder=""
  until [[ -n "$holder" ]]; do
    holder=$(_kubectl -n "$RELEASE_NAMESPACE" get leases -o 'jsonpath={.items[*].spec.holderIdentity}' 2>/dev/null || true)
    (( SECONDS < deadline )) || { e2e_error "no operator replica holds the leader Lease"; return 1; }
    [[ -n "$holder" ]] || sleep 1
  done
  e2e_log "operator running; leader: $holder"
}

deploy_sink() {
  e2e_log "HTTP sink Pod ($SINK_IMAGE) in $SLUICE_E2E_NAMESPACE"
  sed -e "s/@NAMESPACE@/$SLUICE_E2E_NAMESPACE/g" -e "s|@IMAGE@|$SINK_IMAGE|g" "$here/manifests/sink.yaml" \
    | _kubectl apply -f - >/dev/null
  _kubectl -n "$SLUICE_E2E_NAMESPACE" rollout status deployment/sink --timeout="$(_timeout 120)s" >/dev/null
}

# prepare_sources: the shared scenarios' topic e2e-orders (8 partitions) and stream E2E_EVENTS.
prepare_sources() {
  kafka_topic e2e-orders 8
  python3 "$repo/e2e/local/nats_tool.py" --url "$NS_NATS_URL" stream --recreate E2E_EVENTS 'e2e.events.>' >/dev/null
}

# kafka_topics ARGS...: scripts/kafka-topics against the brokers' own env file (the node's address).
kafka_topics() {
  env -u KAFKA_BOOTSTRAP -u KAFKA_CLASSPATH SLUICE_STATE="$BROKER_STATE" "$repo/scripts/kafka-topics" "$@"
}

# kafka_configs ARGS...: kafka-configs (ConfigCommand) against the brokers' own env file.
kafka_configs() {
  env -u KAFKA_BOOTSTRAP -u KAFKA_CLASSPATH SLUICE_STATE="$BROKER_STATE" "$repo/scripts/lib/kafka-cli.sh" configs "$@"
}

# kafka_topic NAME PARTITIONS: a fresh topic.
kafka_topic() {
  kafka_topics --delete --if-exists --topic "$1" >/dev/null 2>&1 || true
  local deadline=$((SECONDS + $(_timeout 60))) out
  until out=$(kafka_topics --create --if-not-exists --topic "$1" --partitions "$2" --replication-factor 1 2>&1); do
    (( SECONDS < deadline )) || { echo "$out" | tail -n 5 >&2; e2e_error "cannot create topic $1"; return 1; }
    sleep 1
  done
}

# The hook lib.sh calls: COUNT messages with ids 1..COUNT (kcat / nats_tool.py against the brokers'
# address in the namespace; acknowledged before it returns). node_produce takes the target too.
e2e_produce() {
  case "$1" in
    kafka) node_produce kafka e2e-orders "$2" ;;
    nats) node_produce nats e2e.events "$2" ;;
    *) e2e_error "unknown source $1"; return 1 ;;
  esac
}

node_produce() {
  local source="$1" target="$2" count="$3"
  case "$source" in
    kafka|kafka-secure)
      # The same topic either way: the producer uses the plaintext listener, the pipeline's workers
      # and lag probe the SASL_SSL one. E2E_PAYLOAD_BYTES (default 32): the size of each message's padding
      local pad; pad=$(head -c "${E2E_PAYLOAD_BYTES:-32}" /dev/zero | tr '\0' x)  # (mawk's sprintf stops at 8 KiB)
      seq 1 "$count" | awk -v p="$pad" '{ printf "key-%d:{\"id\":%d,\"payload\":\"%s\"}\n", $1 % 97, $1, p }' \
        | kcat -P -b "$NS_KAFKA_BOOTSTRAP" -t "$target" -K: -X acks=all -X message.max.bytes=1000000 -q
      ;;
    nats) python3 "$repo/e2e/local/nats_tool.py" --url "$NS_NATS_URL" publish "$target" "$count" --first-id 1 >/dev/null ;;
    nats-secure) nats_secure_tool publish "$target" "$count" --first-id 1 >/dev/null ;;
    *) e2e_error "unknown source $source"; return 1 ;;
  esac
}

e2e_on_failure() {
  {
    echo "---- pods (all namespaces)"
    _kubectl get pods -A -o wide
    echo "---- operator logs"
    _kubectl -n "$RELEASE_NAMESPACE" logs "deployment/$RELEASE" --all-containers --tail=80
    echo "---- leases"
    _kubectl get leases -A -o 'custom-columns=NS:.metadata.namespace,NAME:.metadata.name,HOLDER:.spec.holderIdentity,RENEW:.spec.renewTime'
  } >&2 2>&1 || true
}

# progress: with SLUICE_E2E_PROGRESS=1 (scripts/demo node), the worker Pods as `kubectl get pods -w`
# shows them, and every 2 s one line per pipeline: replicas/desired, lag, workers reporting.
progress() {
  [[ "${SLUICE_E2E_PROGRESS:-0}" == 1 ]] || return 0
  ( _kubectl -n "$SLUICE_E2E_NAMESPACE" get pods -l app.kubernetes.io/name=sluice-worker -o wide -w 2>/dev/null \
      | while IFS= read -r line; do printf '[pods %s] %s\n' "$(date +%H:%M:%S)" "$line" >&2; done ) &
  bg_pids+=("$!")
  local cols='{range .items[*]}{.metadata.name}{" replicas="}{.status.replicas}{"/desired="}{.status.desiredReplicas}'
  cols+='{" lag="}{.status.lag.total}{" workers="}{.status.workers.ready}{"/"}{.status.workers.total}{"\n"}{end}'
  while sleep 2; do
    _kubectl -n "$SLUICE_E2E_NAMESPACE" get consumerpipelines -o "jsonpath=$cols" 2>/dev/null \
      | while read -r line; do [[ -n "$line" ]] && printf '[progress %s] %s\n' "$(date +%H:%M:%S)" "$line" >&2; done
  done &
  bg_pids+=("$!")
}

inside_main() {
  # scripts/dev-env exec set KUBECONFIG to the node's cluster.
  [[ -n "${KUBECONFIG:-}" ]] || { e2e_error "KUBECONFIG unset: run through 'scripts/dev-env exec --'"; return 2; }
  command -v kubectl >/dev/null || { e2e_error "needs kubectl"; return 2; }
  export KUBECTL="kubectl"
  export SLUICE_E2E_NAMESPACE=sluice-e2e
  # What the pipelines name: the brokers' Services, resolved by cluster DNS in the Pods.
  export KAFKA_BOOTSTRAP="kafka.kafka.svc:9092"
  export NATS_URL="nats://nats.nats.svc:4222"
  export SLUICE_WORKER_IMAGE="$SLUICE_IMAGE"
  export SLUICE_WORKER_PULL_POLICY=IfNotPresent
  mkdir -p "$run_dir"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local ip; ip=$(node_ip)
  [[ -n "$ip" ]] || { e2e_error "the node has no InternalIP (is 'scripts/dev-env up node' done?)"; return 1; }
  brokers_up "$ip"
  _kubectl create namespace "$SLUICE_E2E_NAMESPACE" --dry-run=client -o yaml | _kubectl apply -f - >/dev/null
  _kubectl -n "$SLUICE_E2E_NAMESPACE" delete consumerpipelines --all --wait=true >/dev/null 2>&1 || true
  create_secure_secrets
  prepare_sources
  deploy_sink
  install_chart
  progress
  local shared=() node=() name
  for name in "$@"; do
    if node_scenario_known "$name"; then node+=("$name"); else shared+=("$name"); fi
  done
  local rc=0 out p=0 f=0
  if [[ $# -eq 0 || ${#shared[@]} -gt 0 ]]; then
    out=$(sluice_run_scenarios "${shared[@]}") || rc=1
    echo "shared $out"
    [[ "$out" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]] && { p=$((p + BASH_REMATCH[1])); f=$((f + BASH_REMATCH[2])); }
  fi
  if [[ $# -eq 0 || ${#node[@]} -gt 0 ]]; then
    out=$(node_run_scenarios "${node[@]}") || rc=1
    echo "$out"
    [[ "$out" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]] && { p=$((p + BASH_REMATCH[1])); f=$((f + BASH_REMATCH[2])); }
  fi
  e2e_log "pods as the node runs them (kubectl get pods -A -o wide, then their images):"
  _kubectl get pods -A -o wide >&2 || true
  _kubectl get pods -A -o 'custom-columns=NAMESPACE:.metadata.namespace,NAME:.metadata.name,IMAGE:.spec.containers[*].image,IMAGE-ID:.status.containerStatuses[*].imageID' >&2 || true
  echo "e2e: $p passed, $f failed"
  return "$rc"
}

if [[ "${1:-}" == --inside ]]; then
  shift
  inside_main "$@"
else
  host_main "$@"
fi
