#!/usr/bin/env bash
# Smoke checks of a running node (`scripts/dev-env up node`): the node is Ready, a Pod from a locally
# imported image runs under the Sluice worker's securityContext, cluster DNS and the `kubernetes`
# Service work from a Pod, `kubectl logs`/`exec` reach the kubelet, and nothing the node runs
# listens in the host's network namespace. Ends with "node: N passed, N failed".
#
#   scripts/lib/node-smoke.sh               checks against the running node
#   scripts/lib/node-smoke.sh --after-down  checks that `dev-env down` left nothing behind
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
devenv="$here/../dev-env"
SLUICE_STATE="${SLUICE_STATE:-/tmp/sluice-dev}"
fails=0 passes=0
ok() { echo "ok   - $*"; passes=$((passes + 1)); }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
# expect ERE OK_MESSAGE: a line of $out matches ERE (whole line).
expect() {
  if grep -qxE "$1" <<<"$out"; then ok "$2"; else bad "$2: no line matching '$1' in the Pod's output"; fi
}
finish() { echo "node: $passes passed, $fails failed"; [[ $fails -eq 0 ]]; exit; }

# Our processes; none may listen outside loopback in the host's network namespace.
OURS='etcd|kube-apiserver|kube-controller|kube-scheduler|kubelet|kube-proxy|containerd|coredns|pause'

if [[ "${1:-}" == --after-down ]]; then
  ns="${SLUICE_NETNS:-sluice-node}"
  if ip netns list | grep -qw -- "$ns"; then bad "down: network namespace $ns still listed"; else ok "down: no network namespace $ns (ip netns list: $(ip netns list | tr '\n' ' ' | sed 's/ *$//'))"; fi
  if ip -o link | grep -qE ': (cni0|node0|node0-peer|veth[0-9a-f]+)[@:]'; then bad "down: host links left: $(ip -o link | grep -E ': (cni0|node0|veth)' | cut -d: -f2 | tr '\n' ' ')"
  else ok "down: no cni0/node0/veth link in the host (ip link: $(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ' | sed 's/ *$//'))"; fi
  if grep -qE "$SLUICE_STATE/node|/run/containerd|sluice-node-(run|log)" /proc/self/mountinfo; then bad "down: mounts left: $(grep -E "$SLUICE_STATE/node|/run/containerd" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' ')"
  else ok "down: no mounts of the node left"; fi
  left=$(pgrep -af "$SLUICE_STATE/node" || true)
  if [[ -n "$left" ]]; then bad "down: processes left: $left"; else ok "down: no node process left"; fi
  finish
fi

# shellcheck source=/dev/null
source "$SLUICE_STATE/env"
[[ -n "${NODE_KUBECONFIG:-}" ]] || { bad "the node is not up (no NODE_KUBECONFIG in $SLUICE_STATE/env)"; finish; }
x() { "$devenv" exec -- "$@"; }
k() { x kubectl "$@"; }

if [[ $(k get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]; then
  ok "node $NODE_NAME Ready, kubelet $(k get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.kubeletVersion}'), $(k get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.containerRuntimeVersion}'), InternalIP $(k get node "$NODE_NAME" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')"
else bad "node $NODE_NAME not Ready"; fi

# CoreDNS lists Services with its ServiceAccount token through the kubernetes Service: Ready means
# in-cluster config (token, kube-root-ca.crt, KUBERNETES_SERVICE_HOST) works in a Pod.
if [[ $(k -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}') == 1 ]] \
   && k -n default get configmap kube-root-ca.crt >/dev/null 2>&1; then
  ok "CoreDNS Ready on in-cluster config; kube-root-ca.crt published"
else bad "CoreDNS not ready or kube-root-ca.crt missing"; fi

ns="node-smoke-$$"
k create namespace "$ns" >/dev/null
# The worker's securityContext (charts/sluice): uid 65532, read-only root, no capabilities, seccomp.
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: check}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: check
    image: $NODE_BUSYBOX_IMAGE
    imagePullPolicy: Never
    command: [/bin/sh, -c]
    args:
    - |
      echo "uid=\$(id -u)"
      if touch /probe 2>/dev/null; then echo root-is-writable; else echo root-is-read-only; fi
      grep -E '^(CapEff|Seccomp):' /proc/self/status
      # the C library's resolver (search path, ndots:5), as the worker's getaddrinfo: ping prints
      # the address it resolved before it fails for want of a raw socket
      ping -c 1 -W 1 kubernetes.default.svc 2>&1 | sed -n 's/^PING [^ ]* (\([0-9.]*\)).*/dns kubernetes.default.svc=\1/p'
      nslookup kube-dns.kube-system.svc.cluster.local 2>&1 | sed -n 's/^Address: *\([0-9.]*\)$/dns kube-dns=\1/p' | head -n1
      # plain HTTP to the apiserver's TLS port through the Service: its answer proves the path
      printf 'GET /version HTTP/1.0\r\n\r\n' | nc -w 5 kubernetes.default.svc 443 2>&1 \
        | grep -q 'HTTP request to an HTTPS server' && echo api-via-service=ok || echo api-via-service=failed
      echo "sa-namespace=\$(cat /var/run/secrets/kubernetes.io/serviceaccount/namespace)"
      echo "nofile=\$(ulimit -n)"
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
    resources: {limits: {cpu: 200m, memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 65532, runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: sleeper
    image: $NODE_BUSYBOX_IMAGE
    imagePullPolicy: Never
    command: [/bin/sleep, "3600"]
    securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
YAML
if k -n "$ns" wait --for=jsonpath='{.status.phase}'=Succeeded pod/check --timeout=120s >/dev/null; then
  out=$(k -n "$ns" logs check)
  while IFS= read -r line; do echo "     | $line"; done <<<"$out"
  ok "Pod from the imported image $NODE_BUSYBOX_IMAGE ran to Succeeded (kubectl logs through the apiserver and kubelet)"
  expect 'uid=65532' "runs as uid 65532"
  expect 'root-is-read-only' "read-only root filesystem enforced"
  expect 'CapEff:[[:space:]]+0+' "no effective capabilities (drop ALL)"
  expect 'Seccomp:[[:space:]]+2' "seccomp filter active (RuntimeDefault)"
  svc_ip=$(k -n default get svc kubernetes -o jsonpath='{.spec.clusterIP}')
  expect "dns kubernetes.default.svc=$svc_ip" "DNS from a Pod: kubernetes.default.svc -> $svc_ip"
  expect "dns kube-dns=$NODE_DNS_IP" "DNS from a Pod: kube-dns.kube-system.svc.cluster.local -> $NODE_DNS_IP"
  expect 'api-via-service=ok' "Pod -> kubernetes.default.svc:443 -> the apiserver at the node IP (Service IP through kube-proxy)"
  expect "sa-namespace=$ns" "service-account volume mounted in the Pod"
else
  bad "Pod check did not succeed: $(k -n "$ns" get pod check -o jsonpath='{.status.phase} {.status.containerStatuses[0].state}')"
  k -n "$ns" describe pod check | tail -n 15
fi
if k -n "$ns" wait --for=condition=Ready pod/sleeper --timeout=60s >/dev/null && [[ $(k -n "$ns" exec sleeper -- id -u) == 65532 ]]; then
  ok "kubectl exec into a running Pod"
else bad "kubectl exec into pod/sleeper"; fi
k delete namespace "$ns" --wait=false >/dev/null

# The host's network namespace: no process of the node listens there (other dev-envs' services on
# 127.0.0.1 may), nothing of the project listens on a non-loopback address; ip_forward untouched.
node_pids=" $(cat "$SLUICE_STATE"/node/*.pid 2>/dev/null | tr '\n' ' ') "
node_listeners="" nonloop=""
while read -r _ _ _ addr _ users; do
  pid=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' <<<"$users")
  [[ -n "$pid" && "$node_pids" == *" $pid "* ]] && node_listeners+="$addr($users) "
  if [[ "$users" =~ \"($OURS|nats-server|java|sluice-)  && ! "$addr" =~ ^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]|\[::1\]): ]]; then
    nonloop+="$addr($users) "
  fi
done < <(ss -ltnpH 2>/dev/null)
if [[ -z "$node_listeners" ]]; then ok "host network namespace: no listener of the node's processes"
else bad "host network namespace: the node listens on $node_listeners"; fi
if [[ -z "$nonloop" ]]; then ok "host network namespace: project listeners on loopback only (ss -ltn: $(ss -ltnH | awk '{print $4}' | tr '\n' ' ' | sed 's/ *$//'))"
else bad "host network namespace: project processes listen on $nonloop"; fi
if [[ "$(cat /proc/sys/net/ipv4/ip_forward)" == "$(cat "$SLUICE_STATE/node/host_ip_forward" 2>/dev/null)" ]]; then
  ok "host ip_forward unchanged ($(cat /proc/sys/net/ipv4/ip_forward)); inside $NODE_NETNS: $(x cat /proc/sys/net/ipv4/ip_forward)"
else bad "host ip_forward changed to $(cat /proc/sys/net/ipv4/ip_forward)"; fi
finish
