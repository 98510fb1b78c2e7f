#!/usr/bin/env bash
# Checks that the services of a running dev-env are the real thing (shell-level smoke test;
# the C++ smoke tests live in tests/). Usage: scripts/lib/smoke.sh   (after scripts/dev-env up)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=/dev/null
source "${SLUICE_STATE:-/tmp/sluice-dev}/env"
up=" ${SLUICE_SERVICES_UP:-} "
fails=0 passes=0
ok() { echo "ok   - $*"; passes=$((passes + 1)); }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }

# poll CMD... up to 60 s
poll() { local d=$((SECONDS + 60)); until "$@" >/dev/null 2>&1; do ((SECONDS < d)) || return 1; sleep 0.5; done; }

if [[ "$up" == *" kube "* ]]; then
  k=(kubectl --kubeconfig "$KUBECONFIG")
  if v=$("${k[@]}" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') \
     && [[ "$v" == "$KUBE_VERSION" ]]; then ok "kube: server version $v"; else bad "kube: server version '${v:-}' != $KUBE_VERSION"; fi
  ns="smoke-$$"
  "${k[@]}" create namespace "$ns" >/dev/null
  "${k[@]}" apply -f - >/dev/null <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.smoke.sluice.dev}
spec:
  group: smoke.sluice.dev
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer, minimum: 1}}}
YAML
  poll "${k[@]}" wait --for=condition=Established crd/widgets.smoke.sluice.dev --timeout=5s
  poll "${k[@]}" -n "$ns" apply -f - <<'YAML'
apiVersion: smoke.sluice.dev/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
YAML
  if [[ $("${k[@]}" -n "$ns" get widget w1 -o jsonpath='{.spec.size}') == 3 ]]; then ok "kube: CRD object read back"; else bad "kube: CRD object"; fi
  if ! "${k[@]}" -n "$ns" apply -f - >/dev/null 2>&1 <<'YAML'
apiVersion: smoke.sluice.dev/v1
kind: Widget
metadata: {name: w2}
spec: {size: 0}
YAML
  then ok "kube: schema rejects spec.size=0"; else bad "kube: schema did not reject spec.size=0"; fi
  "${k[@]}" -n "$ns" create deployment web --image=example.invalid/web:1 --replicas=2 >/dev/null
  if poll bash -c "[[ \$(${k[*]} -n $ns get pods -l app=web -o name | wc -l) -eq 2 ]]"; then
    ok "kube: deployment -> $("${k[@]}" -n "$ns" get rs -o name | head -n1) -> 2 pods (Pending, no kubelet)"
  else bad "kube: deployment did not produce 2 pods"; fi
  "${k[@]}" -n "$ns" delete deployment web --wait=false >/dev/null
  if poll bash -c "[[ -z \$(${k[*]} -n $ns get rs,pods -o name) ]]"; then ok "kube: garbage collection removed ReplicaSet and Pods"
  else bad "kube: garbage collection"; fi
  if [[ $("${k[@]}" auth can-i create pods --as=system:serviceaccount:"$ns":default -n "$ns") == no ]]; then ok "kube: RBAC denies an unprivileged service account"
  else bad "kube: RBAC not enforced"; fi
  "${k[@]}" delete namespace "$ns" --wait=false >/dev/null
  "${k[@]}" delete crd widgets.smoke.sluice.dev --wait=false >/dev/null
fi

if [[ "$up" == *" kafka "* ]]; then
  t="smoke-$$"
  if "$here/kafka-cli.sh" topics --create --topic "$t" --partitions 8 --replication-factor 1 >/dev/null \
     && [[ $("$here/kafka-cli.sh" topics --describe --topic "$t" | grep -c 'Partition: ') -eq 8 ]]; then
    ok "kafka: topic with 8 partitions at $KAFKA_BOOTSTRAP"
  else bad "kafka: topic creation"; fi
  printf 'k1:v1\nk2:v2\n' | "$here/kafka-cli.sh" console-producer --topic "$t" --property parse.key=true --property key.separator=: >/dev/null
  got=$("$here/kafka-cli.sh" console-consumer --topic "$t" --group "g-$t" --from-beginning --max-messages 2 --timeout-ms 20000 2>/dev/null | sort | tr '\n' ' ')
  if [[ "$got" == "v1 v2 " ]]; then ok "kafka: produced and consumed through a consumer group"; else bad "kafka: consumed '$got'"; fi
  if "$here/kafka-cli.sh" topics --create --topic "$t" --partitions 1 >/dev/null 2>&1; then bad "kafka: duplicate topic accepted"; else ok "kafka: duplicate topic rejected"; fi
fi

if [[ "$up" == *" nats "* ]]; then
  if curl -fsS "$NATS_MONITOR_URL/jsz" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["config"]["max_memory"] > 0' ; then
    ok "nats: JetStream enabled at $NATS_URL"
  else bad "nats: /jsz"; fi
fi

if [[ "$up" == *" helm "* ]]; then
  if v=$("$HELM" version --short); then ok "helm: $v"; else bad "helm: $HELM does not run"; fi
fi

if listeners=$(ss -ltnH | awk '{print $4}' | grep -vE '^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]):' ); [[ -n "$listeners" ]]; then
  echo "note: non-loopback listeners on this machine (may not be ours): $(echo "$listeners" | tr '\n' ' ')"
fi
echo "smoke: $passes passed, $fails failed"
[[ $fails -eq 0 ]]
