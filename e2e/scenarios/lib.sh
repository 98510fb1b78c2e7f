# shellcheck shell=bash
# Shared end-to-end scenarios and assertions for Sluice, sourced by every e2e provider: the local
# provider (a real control plane on loopback) and the kind provider (e2e/kind/run.sh). Scenarios
# are defined once here (scenarios.txt + <name>.yaml); the providers only differ in how they start
# services and how they produce messages.
#
# A provider sets, before calling sluice_run_scenarios:
#   SLUICE_E2E_NAMESPACE       namespace the pipelines go to (must exist)
#   KAFKA_BOOTSTRAP, NATS_URL  the brokers as the workers (and the operator) reach them
#   SLUICE_WORKER_IMAGE        worker image (kind: the locally built image; local: anything)
#   SLUICE_WORKER_PULL_POLICY  IfNotPresent | Never | Always
#   KUBECTL                    optional, default "kubectl" (e.g. "kubectl --context kind-sluice")
#   SLUICE_E2E_TIME_SCALE      optional integer multiplier for every timeout (slow CI machines)
# and defines the hook
#   e2e_produce SOURCE COUNT   produce COUNT messages: SOURCE kafka -> topic e2e-orders
#                              (8 partitions, keys spread); SOURCE nats -> subjects e2e.events.<n>
#                              in stream E2E_EVENTS. Returns when all are acknowledged.
# and optionally e2e_on_failure NAME (extra diagnostics, e.g. operator logs).
#
# Every wait polls the API with a deadline (kubectl wait, or a poll loop for ">=" comparisons,
# which kubectl wait cannot express); nothing sleeps a fixed time.

SLUICE_SCENARIOS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The ${VARS} a scenario manifest may use; anything else left in a manifest is an error.
SLUICE_RENDER_VARS=(SLUICE_E2E_NAMESPACE KAFKA_BOOTSTRAP NATS_URL SLUICE_WORKER_IMAGE SLUICE_WORKER_PULL_POLICY)

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
e2e_error() { printf '[e2e %s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

_kubectl() {
  local -a kc
  read -r -a kc <<<"${KUBECTL:-kubectl}"
  "${kc[@]}" "$@"
}

# _timeout SECONDS: SECONDS times SLUICE_E2E_TIME_SCALE.
_timeout() { echo $(( $1 * ${SLUICE_E2E_TIME_SCALE:-1} )); }

# sluice_render FILE: the manifest with ${VAR} replaced by the provider's values; fails on an
# unset variable or a placeholder that is not in SLUICE_RENDER_VARS.
sluice_render() {
  local file="$1" text v
  text=$(<"$file") || return 1
  for v in "${SLUICE_RENDER_VARS[@]}"; do
    [[ "$text" == *"\${$v}"* ]] || continue
    if [[ -z "${!v:-}" ]]; then
      e2e_error "sluice_render $file: \$$v is not set"
      return 1
    fi
    text=${text//"\${$v}"/"${!v}"}
  done
  if [[ "$text" =~ \$\{[A-Za-z_][A-Za-z0-9_]*\} ]]; then
    e2e_error "sluice_render $file: unknown placeholder ${BASH_REMATCH[0]} (known: ${SLUICE_RENDER_VARS[*]})"
    return 1
  fi
  printf '%s\n' "$text"
}

# sluice_get NS NAME JSONPATH: one field of a ConsumerPipeline ('' when absent).
sluice_get() {
  _kubectl -n "$1" get consumerpipeline "$2" -o "jsonpath={$3}" 2>/dev/null
}

# sluice_wait_condition NS NAME CONDITION TIMEOUT: the condition becomes True.
sluice_wait_condition() {
  local ns="$1" name="$2" cond="$3" timeout; timeout=$(_timeout "$4")
  e2e_log "$ns/$name: waiting up to ${timeout}s for condition $cond=True"
  _kubectl -n "$ns" wait "consumerpipeline/$name" --for="condition=$cond" --timeout="${timeout}s" >/dev/null \
    || { e2e_error "$ns/$name: condition $cond not True after ${timeout}s"; return 1; }
}

# sluice_wait_field NS NAME JSONPATH VALUE TIMEOUT: the status field equals VALUE (kubectl wait).
sluice_wait_field() {
  local ns="$1" name="$2" path="$3" value="$4" timeout; timeout=$(_timeout "$5")
  e2e_log "$ns/$name: waiting up to ${timeout}s for $path == $value"
  _kubectl -n "$ns" wait "consumerpipeline/$name" --for="jsonpath={$path}=$value" --timeout="${timeout}s" >/dev/null \
    || { e2e_error "$ns/$name: $path is '$(sluice_get "$ns" "$name" "$path")', not $value after ${timeout}s"; return 1; }
}

# sluice_wait_at_least NS NAME JSONPATH MIN TIMEOUT: the integer field reaches MIN or more.
sluice_wait_at_least() {
  local ns="$1" name="$2" path="$3" min="$4" timeout; timeout=$(_timeout "$5")
  local deadline=$((SECONDS + timeout)) value=''
  e2e_log "$ns/$name: waiting up to ${timeout}s for $path >= $min"
  while (( SECONDS < deadline )); do
    value=$(sluice_get "$ns" "$name" "$path")
    if [[ "$value" =~ ^[0-9]+$ ]] && (( value >= min )); then
      e2e_log "$ns/$name: $path = $value"
      return 0
    fi
    sleep 1
  done
  e2e_error "$ns/$name: $path is '$value', not >= $min after ${timeout}s"
  return 1
}

# sluice_wait_workers NS NAME COUNT TIMEOUT: the worker Deployment <name>-worker has COUNT
# replicas in its spec (the operator's decision reached the cluster).
sluice_wait_workers() {
  local ns="$1" name="$2" count="$3" timeout; timeout=$(_timeout "$4")
  e2e_log "$ns/$name: waiting up to ${timeout}s for deployment/$name-worker spec.replicas == $count"
  _kubectl -n "$ns" wait "deployment/$name-worker" --for="jsonpath={.spec.replicas}=$count" \
      --timeout="${timeout}s" >/dev/null \
    || { e2e_error "$ns/$name: deployment/$name-worker has $(_kubectl -n "$ns" get "deployment/$name-worker" \
           -o 'jsonpath={.spec.replicas}' 2>/dev/null || echo '?') replicas, not $count"; return 1; }
}

# sluice_assert_scale_up NS NAME MIN TIMEOUT: desired and actual replicas reach MIN, and
# status.lastScale records an increase with a reason.
sluice_assert_scale_up() {
  local ns="$1" name="$2" min="$3" timeout="$4"
  sluice_wait_at_least "$ns" "$name" .status.desiredReplicas "$min" "$timeout" || return 1
  sluice_wait_at_least "$ns" "$name" .status.replicas "$min" "$timeout" || return 1
  local from to reason
  from=$(sluice_get "$ns" "$name" .status.lastScale.from)
  to=$(sluice_get "$ns" "$name" .status.lastScale.to)
  reason=$(sluice_get "$ns" "$name" .status.lastScale.reason)
  if ! [[ "$from" =~ ^[0-9]+$ && "$to" =~ ^[0-9]+$ ]] || (( to <= from )) || [[ -z "$reason" ]]; then
    e2e_error "$ns/$name: status.lastScale should record the scale-up (from=$from to=$to reason='$reason')"
    return 1
  fi
  e2e_log "$ns/$name: scaled up $from -> $to ($reason)"
}

# sluice_assert_drained NS NAME TIMEOUT: the backlog reaches 0 (status.lag.total == 0).
sluice_assert_drained() {
  sluice_wait_field "$1" "$2" .status.lag.total 0 "$3"
}

# sluice_assert_scale_down NS NAME COUNT TIMEOUT: desired and actual replicas come back to COUNT
# and the worker Deployment follows.
sluice_assert_scale_down() {
  local ns="$1" name="$2" count="$3" timeout="$4"
  sluice_wait_field "$ns" "$name" .status.desiredReplicas "$count" "$timeout" || return 1
  sluice_wait_workers "$ns" "$name" "$count" "$timeout" || return 1
  sluice_wait_field "$ns" "$name" .status.replicas "$count" "$timeout" || return 1
}

# sluice_dump NS NAME: what a failed scenario needs for diagnosis.
sluice_dump() {
  local ns="$1" name="$2"
  {
    echo "---- consumerpipeline $ns/$name"
    _kubectl -n "$ns" get consumerpipeline "$name" -o yaml
    echo "---- objects"
    _kubectl -n "$ns" get deployments,replicasets,pods,configmaps,serviceaccounts,roles,rolebindings,leases -o wide
    echo "---- events"
    _kubectl -n "$ns" get events --sort-by=.lastTimestamp | tail -n 40
    echo "---- worker logs"
    _kubectl -n "$ns" logs "deployment/$name-worker" --all-containers --tail=60
  } >&2 2>&1 || true
  if declare -F e2e_on_failure >/dev/null; then e2e_on_failure "$name" || true; fi
}

# sluice_run_scenario NAME SOURCE COUNT PEAK: the whole life of one pipeline:
#   apply -> Ready at 0 workers -> burst of COUNT messages -> scale-up to >= PEAK -> drain ->
#   scale-down to 0 -> delete, and the worker Deployment is garbage-collected.
sluice_run_scenario() {
  local name="$1" source="$2" count="$3" peak="$4" ns="$SLUICE_E2E_NAMESPACE"
  local file="$SLUICE_SCENARIOS_DIR/$name.yaml" manifest
  e2e_log "scenario $name: $source, $count messages, expect >= $peak workers"
  manifest=$(sluice_render "$file") || return 1
  _kubectl apply -f - <<<"$manifest" >/dev/null || { e2e_error "$name: kubectl apply failed"; return 1; }
  sluice_wait_condition "$ns" "$name" Ready 120 || return 1
  sluice_wait_field "$ns" "$name" .status.desiredReplicas 0 60 || return 1
  e2e_log "scenario $name: producing $count messages"
  e2e_produce "$source" "$count" || { e2e_error "$name: producing $count messages to $source failed"; return 1; }
  sluice_wait_at_least "$ns" "$name" .status.lag.total 1 60 || return 1
  sluice_assert_scale_up "$ns" "$name" "$peak" 180 || return 1
  sluice_assert_drained "$ns" "$name" 300 || return 1
  sluice_assert_scale_down "$ns" "$name" 0 180 || return 1
  _kubectl -n "$ns" delete consumerpipeline "$name" --wait=true --timeout="$(_timeout 60)s" >/dev/null || return 1
  e2e_log "scenario $name: waiting for the worker Deployment to be garbage-collected"
  _kubectl -n "$ns" wait "deployment/$name-worker" --for=delete --timeout="$(_timeout 60)s" >/dev/null 2>&1 \
    || { e2e_error "$name: deployment/$name-worker still exists after its pipeline was deleted"; return 1; }
  e2e_log "scenario $name: passed"
}

# sluice_scenarios: "name source count peak" lines of scenarios.txt.
sluice_scenarios() {
  grep -v -E '^[[:space:]]*(#|$)' "$SLUICE_SCENARIOS_DIR/scenarios.txt"
}

# sluice_run_scenarios [NAME...]: runs the named scenarios (default: all), dumps diagnostics for
# each failure, prints "N passed, N failed" and returns non-zero when any failed.
sluice_run_scenarios() {
  local passed=0 failed=0 name source count peak failures=() lines line
  # Read the list first: the hooks and kubectl in the loop must not see it on their stdin.
  mapfile -t lines < <(sluice_scenarios)
  for line in "${lines[@]}"; do
    read -r name source count peak <<<"$line"
    if [[ $# -gt 0 && " $* " != *" $name "* ]]; then continue; fi
    if sluice_run_scenario "$name" "$source" "$count" "$peak"; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      failures+=("$name")
      sluice_dump "$SLUICE_E2E_NAMESPACE" "$name"
      _kubectl -n "$SLUICE_E2E_NAMESPACE" delete consumerpipeline "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    fi
  done
  echo "e2e: $passed passed, $failed failed${failures[*]:+ (${failures[*]})}"
  (( failed == 0 ))
}
