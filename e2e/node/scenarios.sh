# shellcheck shell=bash
# Node scenarios (e2e/node/scenarios.txt): pipelines that deliver to the HTTP sink Pod
# (e2e/node/sink), which counts every message id, so "none lost" is checked message by message, not
# only from the lag. Sourced by e2e/node/run.sh after e2e/scenarios/lib.sh, whose waits and
# assertions they reuse. run.sh provides node_produce SOURCE TARGET COUNT (ids 1..COUNT),
# kafka_topic NAME PARTITIONS, nats_secure_tool, NS_NATS_URL, RELEASE_NAMESPACE and runs everything
# inside the node's network namespace.
# shellcheck disable=SC2154 # repo, NS_NATS_URL, RELEASE_NAMESPACE come from run.sh

NODE_SCENARIOS_FILE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scenarios.txt"
NODE_PIPELINES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pipelines"
# The node pipelines' placeholders, next to lib.sh's.
SLUICE_RENDER_VARS+=(E2E_PIPELINE E2E_TOPIC E2E_SINK_URL)

node_scenarios() { grep -v -E '^[[:space:]]*(#|$)' "$NODE_SCENARIOS_FILE"; }

node_scenario_known() {
  node_scenarios | awk '{print $1}' | grep -qxF "$1"
}

# sink_stats BUCKET EXPECT: the sink's JSON for BUCKET (ids 1..EXPECT), through the API server's
# service proxy (no port-forward, no address outside the namespace).
sink_stats() {
  _kubectl get --raw "/api/v1/namespaces/$SLUICE_E2E_NAMESPACE/services/sink:http/proxy/stats/$1?expect=$2"
}

# sink_field JSON FIELD: one integer field of sink_stats' answer.
sink_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$1" "$2"; }

worker_pods() {
  _kubectl -n "$SLUICE_E2E_NAMESPACE" get pods -l "app.kubernetes.io/name=sluice-worker,app.kubernetes.io/instance=$1" \
    --field-selector=status.phase=Running -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}'
}

# wait_mid_stream NAME COUNT: returns once the sink has some of this pipeline's messages but not
# all of them (so the disruption that follows hits workers mid-stream); fails if the burst was
# already delivered.
wait_mid_stream() {
  local name="$1" count="$2" deadline=$((SECONDS + $(_timeout 120))) stats unique=0
  while (( SECONDS < deadline )); do
    stats=$(sink_stats "$name" "$count" 2>/dev/null) || { sleep 1; continue; }
    unique=$(sink_field "$stats" unique)
    if (( unique >= count )); then
      e2e_error "$name: all $count messages were delivered before the disruption (raise the count or the sink delay)"
      return 1
    fi
    if (( unique > 0 )) && [[ -n "$(worker_pods "$name")" ]]; then
      e2e_log "$name: mid-stream: $unique of $count delivered"
      return 0
    fi
    sleep 0.5
  done
  e2e_error "$name: the sink got none of the messages in time"
  return 1
}

# pods_with_images NS SELECTOR: the Pods as `kubectl get pods -o wide` lists them, with the image
# each container runs and its image id (what the node's containerd resolved).
pods_with_images() {
  _kubectl -n "$1" get pods -l "$2" -o 'custom-columns=NAME:.metadata.name,STATUS:.status.phase,IP:.status.podIP,NODE:.spec.nodeName,IMAGE:.spec.containers[*].image,IMAGE-ID:.status.containerStatuses[*].imageID' 2>&1 || true
}


# node_disrupt_inspect NAME: no disruption; checks what only a real kubelet enforces on a running
# worker Pod: uid 65532, a read-only root filesystem, Ready (readiness probe) without restarts
# (liveness probe), and a heartbeat Lease named after the Pod whose owner is that Pod.
node_disrupt_inspect() {
  local ns="$SLUICE_E2E_NAMESPACE" pod uid out owner ready restarts
  pod=$(worker_pods "$1" | head -n1)
  [[ -n "$pod" ]] || { e2e_error "$1: no running worker Pod to inspect"; return 1; }
  _kubectl -n "$ns" wait "pod/$pod" --for=condition=Ready --timeout="$(_timeout 60)s" >/dev/null \
    || { e2e_error "$1: pod $pod not Ready (readiness probe /readyz)"; return 1; }
  out=$(_kubectl -n "$ns" exec "$pod" -c worker -- id -u 2>&1) || true
  [[ "$out" == 65532 ]] || { e2e_error "$1: $pod runs as uid '$out', not 65532"; return 1; }
  if out=$(_kubectl -n "$ns" exec "$pod" -c worker -- sh -c 'echo x > /e2e-write-probe' 2>&1); then
    e2e_error "$1: $pod could write to / (readOnlyRootFilesystem not enforced)"; return 1
  fi
  [[ "$out" == *"Read-only file system"* ]] || { e2e_error "$1: writing to / in $pod failed, but not read-only: $out"; return 1; }
  uid=$(_kubectl -n "$ns" get pod "$pod" -o 'jsonpath={.metadata.uid}')
  owner=$(_kubectl -n "$ns" get lease "$pod" -o 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].uid}' 2>&1) || true
  [[ "$owner" == "Pod/$pod/$uid" ]] || { e2e_error "$1: Lease $pod has owner '$owner', want Pod/$pod/$uid"; return 1; }
  restarts=$(_kubectl -n "$ns" get pod "$pod" -o 'jsonpath={.status.containerStatuses[0].restartCount}')
  ready=$(_kubectl -n "$ns" get pod "$pod" -o 'jsonpath={.status.containerStatuses[0].ready}')
  [[ "$restarts" == 0 && "$ready" == true ]] || { e2e_error "$1: $pod ready=$ready restarts=$restarts (probes)"; return 1; }
  e2e_log "$1: $pod: uid 65532, / read-only ($(head -n1 <<<"$out")), Ready, 0 restarts, Lease owned by the Pod"
}

node_disrupt_delete_pod() {
  local pod; pod=$(worker_pods "$1" | head -n1)
  [[ -n "$pod" ]] || { e2e_error "$1: no running worker Pod to delete"; return 1; }
  e2e_log "$1: kubectl delete pod $pod (graceful: preStop, drain, terminationGracePeriodSeconds)"
  _kubectl -n "$SLUICE_E2E_NAMESPACE" delete pod "$pod" --wait=false >/dev/null
}

node_disrupt_force_delete() {
  local pod; pod=$(worker_pods "$1" | head -n1)
  [[ -n "$pod" ]] || { e2e_error "$1: no running worker Pod to delete"; return 1; }
  e2e_log "$1: kubectl delete pod $pod --grace-period=0 --force"
  _kubectl -n "$SLUICE_E2E_NAMESPACE" delete pod "$pod" --grace-period=0 --force >/dev/null 2>&1
}

node_disrupt_roll() {
  local before after
  before=$(_kubectl -n "$SLUICE_E2E_NAMESPACE" get "deployment/$1-worker" -o 'jsonpath={.metadata.generation}')
  e2e_log "$1: spec change mid-stream (batch.maxWaitMs 200 -> 300): the worker Deployment rolls"
  _kubectl -n "$SLUICE_E2E_NAMESPACE" patch consumerpipeline "$1" --type merge -p '{"spec":{"batch":{"maxWaitMs":300}}}' >/dev/null
  local deadline=$((SECONDS + $(_timeout 60)))
  while (( SECONDS < deadline )); do
    after=$(_kubectl -n "$SLUICE_E2E_NAMESPACE" get "deployment/$1-worker" -o 'jsonpath={.metadata.generation}')
    if [[ "$after" != "$before" ]]; then
      e2e_log "$1: deployment/$1-worker generation $before -> $after"
      return 0
    fi
    sleep 0.5
  done
  e2e_error "$1: the worker Deployment did not change after the spec change"
  return 1
}

node_disrupt_operator() {
  local leader next deadline
  leader=$(_kubectl -n "$RELEASE_NAMESPACE" get lease sluice-operator-leader -o 'jsonpath={.spec.holderIdentity}')
  [[ -n "$leader" ]] || { e2e_error "no operator holds lease sluice-operator-leader"; return 1; }
  e2e_log "$1: deleting the leading operator Pod $leader"
  _kubectl -n "$RELEASE_NAMESPACE" delete pod "$leader" --wait=false >/dev/null
  deadline=$((SECONDS + $(_timeout 90)))
  while (( SECONDS < deadline )); do
    next=$(_kubectl -n "$RELEASE_NAMESPACE" get lease sluice-operator-leader -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null)
    if [[ -n "$next" && "$next" != "$leader" ]]; then
      e2e_log "$1: lease sluice-operator-leader taken by $next"
      return 0
    fi
    sleep 0.5
  done
  e2e_error "$1: no other operator took the Lease after $leader was deleted"
  return 1
}

# node_disrupt_rotate_scram NAME: the SCRAM user's password is rotated mid-stream, the way an admin
# would: first on the broker (kafka-configs; connections already authenticated stay up, new ones
# need the new password), then in the Secret kafka-scram. The operator watches the Secrets its
# pipelines name: the pod template's secrets hash changes, the worker Deployment rolls, and the new
# Pods (and the lag probe) authenticate with the new password. Nothing may be lost on the way.
node_disrupt_rotate_scram() {
  local ns="$SLUICE_E2E_NAMESPACE" before after hash_before hash_after out
  before=$(_kubectl -n "$ns" get "deployment/$1-worker" -o 'jsonpath={.metadata.generation}')
  hash_before=$(_kubectl -n "$ns" get "deployment/$1-worker" -o 'jsonpath={.spec.template.metadata.annotations.sluice\.dev/secrets-hash}')
  random_secret >"$KAFKA_SCRAM_PASSWORD_FILE.new"
  e2e_log "$1: rotating the SCRAM password of $KAFKA_SCRAM_USER: kafka-configs on the broker, then Secret kafka-scram"
  out=$(kafka_configs --alter --entity-type users --entity-name "$KAFKA_SCRAM_USER" \
          --add-config "SCRAM-SHA-512=[password=$(<"$KAFKA_SCRAM_PASSWORD_FILE.new")]" 2>&1) \
    || { echo "$out" | tail -n 5 >&2; e2e_error "$1: kafka-configs could not change the SCRAM password"; return 1; }
  mv "$KAFKA_SCRAM_PASSWORD_FILE.new" "$KAFKA_SCRAM_PASSWORD_FILE"  # what the broker now holds
  _kubectl -n "$ns" create secret generic kafka-scram --from-literal=username="$KAFKA_SCRAM_USER" \
    --from-file=password="$KAFKA_SCRAM_PASSWORD_FILE" --dry-run=client -o yaml | _kubectl apply -f - >/dev/null
  _kubectl -n "$ns" label --overwrite secret kafka-scram sluice.dev/lag-probe=true >/dev/null  # as run.sh
  local deadline=$((SECONDS + $(_timeout 30)))
  while (( SECONDS < deadline )); do
    after=$(_kubectl -n "$ns" get "deployment/$1-worker" -o 'jsonpath={.metadata.generation}')
    hash_after=$(_kubectl -n "$ns" get "deployment/$1-worker" -o 'jsonpath={.spec.template.metadata.annotations.sluice\.dev/secrets-hash}')
    if [[ "$after" != "$before" && "$hash_after" != "$hash_before" ]]; then
      e2e_log "$1: Secret changed -> deployment/$1-worker rolls: generation $before -> $after, secrets hash $hash_before -> $hash_after"
      return 0
    fi
    sleep 0.5
  done
  e2e_error "$1: the worker Deployment did not roll within $(_timeout 30)s of the Secret change (secrets hash '$hash_before' -> '$hash_after')"
  return 1
}

# node_prepare_<disruption> NAME: changes to the pipeline before the burst (at 0 workers).
node_prepare_oom() {
  e2e_log "$1: memory limit 96Mi with a byte budget of 1 GiB (backpressure.maxInFlightBytes), 64 KiB messages"
  _kubectl -n "$SLUICE_E2E_NAMESPACE" patch consumerpipeline "$1" --type merge -p \
    '{"spec":{"backpressure":{"maxInFlightBytes":1073741824,"maxInFlightMessages":100000},"worker":{"resources":{"limits":{"memory":"96Mi"}}}}}' >/dev/null
}

# node_disrupt_oom NAME: a worker whose budget is above its memory limit is OOM-killed by the
# kernel (the container's last state says OOMKilled); then the budget goes back to 8 MiB, the
# Deployment rolls, and the workers drain within the limit. Nothing may be lost on the way.
node_disrupt_oom() {
  local deadline=$((SECONDS + $(_timeout 180))) reasons=""
  while (( SECONDS < deadline )); do
    reasons=$(_kubectl -n "$SLUICE_E2E_NAMESPACE" get pods -l "app.kubernetes.io/instance=$1" \
      -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{.status.containerStatuses[0].lastState.terminated.reason}{" "}{.status.containerStatuses[0].restartCount}{"\n"}{end}' 2>/dev/null)
    if grep -q ' OOMKilled ' <<<"$reasons"; then
      e2e_log "$1: OOM-killed by the kernel (pod, last termination, restarts):"
      grep ' OOMKilled ' <<<"$reasons" | sed 's/^/    /' >&2
      e2e_log "$1: budget back to 8 MiB (backpressure.maxInFlightBytes): the Deployment rolls"
      _kubectl -n "$SLUICE_E2E_NAMESPACE" patch consumerpipeline "$1" --type merge -p \
        '{"spec":{"backpressure":{"maxInFlightBytes":8388608,"maxInFlightMessages":2000}}}' >/dev/null
      return 0
    fi
    sleep 1
  done
  e2e_error "$1: no worker was OOM-killed with a 1 GiB budget under a 96Mi limit: $reasons"
  return 1
}

# wait_delivered NAME COUNT TIMEOUT: the sink has every id 1..COUNT of NAME (for pipelines that are
# not autoscaled, whose lag the operator cannot see).
wait_delivered() {
  local name="$1" count="$2" deadline=$((SECONDS + $(_timeout "$3"))) stats unique=0
  e2e_log "$name: waiting up to $(_timeout "$3")s for all $count messages at the sink"
  while (( SECONDS < deadline )); do
    stats=$(sink_stats "$name" "$count" 2>/dev/null) && unique=$(sink_field "$stats" unique)
    (( unique >= count )) && return 0
    sleep 1
  done
  e2e_error "$name: the sink has $unique of $count messages"
  return 1
}

# assert_probe_credentials_unusable NAME: the Scaling condition says the lag probe cannot use the
# source's credentials (a NATS NKey seed): the pipeline is held at minReplicas, on purpose.
assert_probe_credentials_unusable() {
  local reason message
  reason=$(sluice_get "$SLUICE_E2E_NAMESPACE" "$1" '.status.conditions[?(@.type=="Scaling")].reason')
  message=$(sluice_get "$SLUICE_E2E_NAMESPACE" "$1" '.status.conditions[?(@.type=="Scaling")].message')
  [[ "$reason" == ProbeCredentialsUnusable ]] \
    || { e2e_error "$1: Scaling reason '$reason' ($message), want ProbeCredentialsUnusable"; return 1; }
  e2e_log "$1: not autoscaled, as documented: Scaling=False $reason: $message"
}

# node_run_scenario NAME SOURCE COUNT PEAK DELAY_MS DISRUPTION: fresh topic/stream, apply the
# pipeline (sink bucket NAME), burst of COUNT -> scale-up >= PEAK -> disruption -> drain -> back to
# 0 -> every id 1..COUNT at the sink -> delete. PEAK "-": the pipeline is not autoscaled (its lag
# probe cannot use the credentials): its minReplicas workers consume the burst instead. Appends
# "NAME produced delivered duplicates ..." to $NODE_RESULTS.
node_run_scenario() {
  local name="$1" source="$2" count="$3" peak="$4" delay="$5" disruption="$6" ns="$SLUICE_E2E_NAMESPACE"
  local target manifest
  e2e_log "scenario $name: $source, $count messages, >= $peak workers, sink delay ${delay}ms, disruption: $disruption"
  export E2E_PIPELINE="$name" E2E_SINK_URL="http://sink.$ns.svc:8080/ingest/$name"
  (( delay > 0 )) && E2E_SINK_URL+="?delayMs=$delay"
  case "$source" in
    kafka|kafka-secure) E2E_TOPIC="e2e-$name"; target="$E2E_TOPIC"; kafka_topic "$E2E_TOPIC" 8 || return 1 ;;
    nats)
      E2E_TOPIC=$(tr 'a-z-' 'A-Z_' <<<"$name"); target="${name//-/.}"
      python3 "$repo/e2e/local/nats_tool.py" --url "$NS_NATS_URL" stream --recreate "$E2E_TOPIC" "$target.>" >/dev/null || return 1
      ;;
    nats-secure)
      E2E_TOPIC=$(tr 'a-z-' 'A-Z_' <<<"$name"); target="${name//-/.}"
      nats_secure_tool stream --recreate "$E2E_TOPIC" "$target.>" >/dev/null || return 1
      ;;
    *) e2e_error "$name: unknown source $source"; return 1 ;;
  esac
  export E2E_TOPIC
  _kubectl delete --raw "/api/v1/namespaces/$ns/services/sink:http/proxy/stats/$name" >/dev/null 2>&1 || true
  manifest=$(sluice_render "$NODE_PIPELINES_DIR/$source-sink.yaml") || return 1
  _kubectl apply -f - <<<"$manifest" >/dev/null || { e2e_error "$name: kubectl apply failed"; return 1; }
  sluice_wait_condition "$ns" "$name" Ready 120 || return 1
  if [[ "$peak" == - ]]; then
    assert_probe_credentials_unusable "$name" || return 1
  else
    sluice_wait_field "$ns" "$name" .status.desiredReplicas 0 60 || return 1
  fi
  local payload=32
  if declare -F "node_prepare_${disruption//-/_}" >/dev/null; then
    "node_prepare_${disruption//-/_}" "$name" || return 1
    [[ "$disruption" == oom ]] && payload=65536
  fi
  e2e_log "scenario $name: producing $count messages (ids 1..$count, $payload-byte payloads)"
  E2E_PAYLOAD_BYTES=$payload node_produce "$source" "$target" "$count" \
    || { e2e_error "$name: producing $count messages failed"; return 1; }
  if [[ "$peak" == - ]]; then
    pods_with_images "$ns" "app.kubernetes.io/instance=$name" >&2
    wait_delivered "$name" "$count" 180 || return 1
  else
    sluice_wait_at_least "$ns" "$name" .status.lag.total 1 60 || return 1
    sluice_assert_scale_up "$ns" "$name" "$peak" 180 || return 1
    pods_with_images "$ns" "app.kubernetes.io/instance=$name" >&2
  fi
  case "$disruption" in
    none) ;;
    oom) node_disrupt_oom "$name" || return 1 ;;
    *)
      wait_mid_stream "$name" "$count" || return 1
      "node_disrupt_${disruption//-/_}" "$name" || return 1
      ;;
  esac
  if [[ "$peak" != - ]]; then
    sluice_assert_drained "$ns" "$name" 300 || return 1
    sluice_assert_scale_down "$ns" "$name" 0 180 || return 1
  fi
  local stats received unique dups missing order bad unexpected aborted
  stats=$(sink_stats "$name" "$count") || { e2e_error "$name: cannot read the sink's counts"; return 1; }
  received=$(sink_field "$stats" received); unique=$(sink_field "$stats" unique)
  dups=$(sink_field "$stats" duplicates); missing=$(sink_field "$stats" missing)
  order=$(sink_field "$stats" orderViolations); bad=$(sink_field "$stats" badRequests)
  unexpected=$(sink_field "$stats" unexpected); aborted=$(sink_field "$stats" aborted)
  printf '%s produced=%s delivered=%s received=%s duplicates=%s missing=%s order-violations=%s aborted-posts=%s\n' \
    "$name" "$count" "$unique" "$received" "$dups" "$missing" "$order" "$aborted" >>"$NODE_RESULTS"
  e2e_log "scenario $name: produced $count, delivered $unique distinct ($received received), duplicates $dups, missing $missing, per-key order violations $order, posts cut short by a killed worker $aborted"
  if (( missing > 0 || bad > 0 || unexpected > 0 )); then
    e2e_error "$name: $missing of $count lost (first: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("firstMissing"))' "$stats")), $bad bad requests, $unexpected unexpected ids"
    return 1
  fi
  _kubectl -n "$ns" delete consumerpipeline "$name" --wait=true --timeout="$(_timeout 60)s" >/dev/null || return 1
  _kubectl -n "$ns" wait "deployment/$name-worker" --for=delete --timeout="$(_timeout 60)s" >/dev/null 2>&1 \
    || { e2e_error "$name: deployment/$name-worker still exists after its pipeline was deleted"; return 1; }
  e2e_log "scenario $name: passed"
}

# node_run_scenarios [NAME...]: the node scenarios (default: all); prints each one's counts and
# "node e2e: N passed, N failed".
node_run_scenarios() {
  local passed=0 failed=0 failures=() lines line name source count peak delay disruption
  NODE_RESULTS="${NODE_RESULTS:-$(mktemp)}"
  mapfile -t lines < <(node_scenarios)
  for line in "${lines[@]}"; do
    read -r name source count peak delay disruption <<<"$line"
    if [[ $# -gt 0 && " $* " != *" $name "* ]]; then continue; fi
    if node_run_scenario "$name" "$source" "$count" "$peak" "$delay" "$disruption"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      failures+=("$name")
      sluice_dump "$SLUICE_E2E_NAMESPACE" "$name"
      _kubectl -n "$SLUICE_E2E_NAMESPACE" delete consumerpipeline "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    fi
  done
  echo "---- counts at the HTTP sink"
  cat "$NODE_RESULTS"
  echo "node e2e: $passed passed, $failed failed${failures[*]:+ (${failures[*]})}"
  (( failed == 0 ))
}
