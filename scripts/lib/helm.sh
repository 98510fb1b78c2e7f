# shellcheck shell=bash
# Helm 3, built from the Go module proxy with `go install` (no npm package ships a Helm
# release binary that we could find), cached per version. No process: `up helm` only puts
# the binary's path in the env file as HELM.

SLUICE_HELM_VERSION="${SLUICE_HELM_VERSION:-v3.18.6}"

helm_dir() { echo "$SLUICE_CACHE/helm-$SLUICE_HELM_VERSION"; }
helm_bin() { echo "$(helm_dir)/bin/helm"; }

helm_install() {
  local dir; dir=$(helm_dir)
  if is_complete "$dir" && [[ -x "$dir/bin/helm" ]]; then return 0; fi
  local gobin; gobin=$(go_bin)
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  local v="$SLUICE_HELM_VERSION" p=helm.sh/helm/v3/internal/version
  log "helm: building helm.sh/helm/v3/cmd/helm@$v"
  local t0=$SECONDS
  # GOFLAGS=-mod=mod does not apply outside a module; go install pkg@version resolves on its own.
  nice -n 10 env GOMODCACHE="$SLUICE_GOMODCACHE" GOCACHE="$SLUICE_GOCACHE" GOBIN="$dir/bin" \
    CGO_ENABLED=0 GOFLAGS= GOTOOLCHAIN=auto "$gobin" install -trimpath \
    -ldflags "-s -w -X $p.version=$v -X $p.gitTreeState=clean -X $p.metadata=" \
    "helm.sh/helm/v3/cmd/helm@$v" >&2 || die "go install helm.sh/helm/v3/cmd/helm@$v failed"
  log "helm: built in $((SECONDS - t0))s"
  "$dir/bin/helm" version --short >&2 || die "built helm does not run"
  atomic_mark_done "$dir"
}

helm_start() {
  env_reset helm
  env_put helm HELM "$(helm_bin)"
  # Keep Helm's own caches/config out of $HOME so runs do not leak into each other.
  env_put helm HELM_CACHE_HOME "$SLUICE_STATE/helm/cache"
  env_put helm HELM_CONFIG_HOME "$SLUICE_STATE/helm/config"
  env_put helm HELM_DATA_HOME "$SLUICE_STATE/helm/data"
  mkdir -p "$SLUICE_STATE/helm"
  touch "$SLUICE_STATE/helm/ready"
}

helm_stop() {
  rm -f "$SLUICE_STATE/helm/ready"
  env_reset helm
}

helm_running() { [[ -f "$SLUICE_STATE/helm/ready" ]]; }

helm_status() {
  local state=stopped
  helm_running && state=ready
  printf '%-26s %-8s %s\n' helm "$state" "$(helm_bin)"
}
