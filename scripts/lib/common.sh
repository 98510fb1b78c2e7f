# shellcheck shell=bash
# Shared helpers for scripts/dev-env and the per-service libraries in scripts/lib/.
#
# Layout:
#   $SLUICE_CACHE/<tool>-<version>/   installed/built tools, reused across runs (never under the repo)
#   $SLUICE_STATE/<service>/          data, logs, pid files and ports of the running services
#   $SLUICE_STATE/env                 the env file tests, benchmarks and the demo source
#
# Every service is started in its own process group (setsid) so `down` can kill the
# whole tree it started and nothing else.

SLUICE_CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}"
SLUICE_STATE="${SLUICE_STATE:-/tmp/sluice-dev}"
export SLUICE_CACHE SLUICE_STATE

# Go build environment shared by every Go tool we build (kube, helm), so that the module
# and build caches are reused between them and survive `down`.
SLUICE_GOMODCACHE="${SLUICE_GOMODCACHE:-$SLUICE_CACHE/go/mod}"
SLUICE_GOCACHE="${SLUICE_GOCACHE:-$SLUICE_CACHE/go/build}"

log() { printf '[dev-env %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[dev-env] error: %s\n' "$*" >&2; exit 1; }

# go_bin: a go command new enough for GOTOOLCHAIN (>= 1.21). Prefers the go on PATH, then
# /usr/local/go; with only an older go (Debian bookworm's golang-go is 1.19) it downloads the
# golang.org/toolchain module through that go's module proxy and uses the go inside it.
SLUICE_BOOTSTRAP_GO="${SLUICE_BOOTSTRAP_GO:-go1.23.8}"
go_bin() {
  local c v old=""
  for c in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
    [[ -n "$c" && -x "$c" ]] || continue
    v=$("$c" env GOVERSION 2>/dev/null) || continue
    if [[ "$v" =~ ^go1\.([0-9]+) ]] && (( BASH_REMATCH[1] >= 21 )); then echo "$c"; return 0; fi
    [[ -z "$old" ]] && old="$c"
  done
  [[ -n "$old" ]] || apt_install golang-go
  [[ -n "$old" ]] || old=$(command -v go) || die "no go command found"
  local arch; arch=$("$old" env GOARCH)
  local mod="golang.org/toolchain@v0.0.1-$SLUICE_BOOTSTRAP_GO.linux-$arch"
  local gobin="$SLUICE_GOMODCACHE/$mod/bin/go"
  if [[ ! -x "$gobin" ]]; then
    log "go: $("$old" version) is too old for GOTOOLCHAIN; fetching $mod"
    (cd / && env GOMODCACHE="$SLUICE_GOMODCACHE" GOFLAGS=-mod=mod "$old" mod download "$mod") >&2 \
      || die "could not download $mod"
    chmod +x "$SLUICE_GOMODCACHE/$mod/bin/"* "$SLUICE_GOMODCACHE/$mod/pkg/tool/"*/* 2>/dev/null || true
  fi
  echo "$gobin"
}

# go_env TOOLCHAIN CMD...: run CMD (whose first word "go" is replaced by go_bin) with the sluice
# caches and the given toolchain ("local" for go_bin itself). Module downloads go through the
# client's configured proxy.
go_env() {
  local toolchain="$1"; shift
  local gotc=local
  [[ "$toolchain" != local ]] && gotc="$toolchain"
  local gocmd=("$@")
  [[ "${gocmd[0]}" == go ]] && gocmd[0]=$(go_bin)
  env GOMODCACHE="$SLUICE_GOMODCACHE" GOCACHE="$SLUICE_GOCACHE" GOTOOLCHAIN="$gotc" \
      GOFLAGS="-mod=mod" CGO_ENABLED=0 "${gocmd[@]}"
}

require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "missing command '$c'"
  done
}

# apt_install PKG...: installs missing Debian packages, waiting for a held dpkg lock.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=()
  [[ $(id -u) -ne 0 ]] && sudo=(sudo)
  log "installing Debian packages: ${missing[*]}"
  local deadline=$((SECONDS + 600))
  until "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=60 --no-install-recommends "${missing[@]}" >&2; do
    (( SECONDS < deadline )) || die "apt-get install ${missing[*]} failed"
    log "apt-get failed (lock held?); retrying"
    sleep 5
  done
}

# free_port: a TCP port nothing listens on at 127.0.0.1 right now and that no other start in
# this `up` has been handed (services start in parallel and bind their ports later). The
# ports handed out are kept in $SLUICE_STATE/.ports, which `up` empties first.
free_port() {
  local port taken="$SLUICE_STATE/.ports"
  mkdir -p "$SLUICE_STATE"
  (
    flock -w 30 7 || exit 1
    while :; do
      port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
      grep -qx "$port" "$taken" 2>/dev/null && continue
      echo "$port" >>"$taken"
      echo "$port"
      exit 0
    done
  ) 7>>"$SLUICE_STATE/.ports.lock"
}

# port_listening PORT [HOST]: true when something accepts TCP connections on HOST:PORT
# (default 127.0.0.1).
port_listening() {
  (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

# service_host: the address Kafka and NATS listen on and advertise: $SLUICE_SERVICE_HOST, default
# 127.0.0.1. Another address is only accepted inside a named network namespace (`ip netns
# identify`; the node profile runs the brokers in its namespace, at the node's address, where Pods
# reach them); in the host's own namespace the brokers stay on loopback.
service_host() {
  local host="${SLUICE_SERVICE_HOST:-127.0.0.1}"
  if [[ "$host" != 127.* && -z "$(ip netns identify "$BASHPID" 2>/dev/null)" ]]; then
    die "SLUICE_SERVICE_HOST=$host: only 127.x addresses in the host's network namespace (run inside the node's namespace: scripts/dev-env exec -- ...)"
  fi
  echo "$host"
}

# wait_until DESCRIPTION TIMEOUT_SECONDS PIDFILE CMD...: polls CMD until it succeeds; fails
# early (with the log tail) when the process behind PIDFILE has died.
wait_until() {
  local what="$1" timeout="$2" pidfile="$3"; shift 3
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [[ -n "$pidfile" ]] && ! pid_alive "$pidfile"; then
      local logf="${pidfile%.pid}.log"
      [[ -f "$logf" ]] && tail -n 40 "$logf" >&2
      die "$what: process exited before becoming ready (log: $logf)"
    fi
    if (( SECONDS >= deadline )); then
      local logf="${pidfile%.pid}.log"
      [[ -n "$pidfile" && -f "$logf" ]] && tail -n 40 "$logf" >&2
      die "$what: not ready after ${timeout}s"
    fi
    sleep 0.3
  done
}

# proc_starttime PID: the process's start time in clock ticks since boot (field 22 of
# /proc/PID/stat), to tell our process from an unrelated one that got the same pid later.
proc_starttime() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086 # split the remaining fields on purpose
  set -- $stat
  echo "${20}"
}

pid_alive() {
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 1
  pid=$(<"$pidfile")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ ! -f "$pidfile.start" ]] || [[ "$(proc_starttime "$pid")" == "$(<"$pidfile.start")" ]]
}

# start_bg NAME DIR CMD...: starts CMD in a new session (its own process group) with
# stdout/stderr in DIR/NAME.log and the pid (= pgid) in DIR/NAME.pid.
start_bg() {
  local name="$1" dir="$2"; shift 2
  mkdir -p "$dir"
  local logf="$dir/$name.log"
  : >"$logf"
  # fds 8/9 hold dev-env's flocks; a service must not inherit them, or it would keep them held.
  setsid "$@" </dev/null >>"$logf" 2>&1 8>&- 9>&- &
  echo $! >"$dir/$name.pid"
  proc_starttime $! >"$dir/$name.pid.start" || true
  echo "$dir/$name.pid"
}

# stop_pidfile PIDFILE: TERM the process group, wait up to 15 s, then KILL it.
stop_pidfile() {
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(<"$pidfile")
  if [[ -n "$pid" ]] && pid_alive "$pidfile"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 15))
    while kill -0 -- "-$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    # the group may outlive its leader (e.g. a forked child); make sure it is gone
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" "$pidfile.start"
  return 0
}

# state_set SERVICE KEY VALUE / state_get SERVICE KEY: small key=value store per service,
# used for ports and for `status`.
state_set() {
  local dir="$SLUICE_STATE/$1"
  mkdir -p "$dir"
  printf '%s\n' "$3" >"$dir/$2"
}
state_get() {
  local f="$SLUICE_STATE/$1/$2"
  [[ -f "$f" ]] && cat "$f"
}

# env_line KEY VALUE: one line of the env file, always `export KEY='VALUE'` so that both a
# shell (source) and a program (strip "export ", split at the first '=', drop the quotes)
# can read it. Values never contain a single quote.
env_line() {
  [[ "$2" != *"'"* ]] || die "env value for $1 contains a single quote: $2"
  printf "export %s='%s'\n" "$1" "$2"
}

# env_put SERVICE KEY VALUE: an export line this service contributes to $SLUICE_STATE/env.
env_put() {
  local dir="$SLUICE_STATE/$1"
  mkdir -p "$dir"
  env_line "$2" "$3" >>"$dir/env.part"
}
env_reset() { rm -f "$SLUICE_STATE/$1/env.part"; }

# tls_server_pki DIR CN SAN...: a throwaway CA (DIR/ca.crt) and a server certificate it signed
# (DIR/server.crt, DIR/server.key) for the brokers' TLS listeners in tests: ECDSA P-256, valid
# 7 days, subjectAltNames SAN... as OpenSSL spells them (DNS:kafka.kafka.svc IP:10.250.0.2).
# Made anew with every start (the state dir is fresh); nothing is cached.
tls_server_pki() {
  local dir="$1" cn="$2"; shift 2
  local sans; sans=$(IFS=,; echo "$*")
  mkdir -p "$dir"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
      -subj "/CN=sluice test CA for $cn" -keyout "$dir/ca.key" -out "$dir/ca.crt" &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$cn" \
      -keyout "$dir/server.key" -out "$dir/server.csr" &&
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$sans" >"$dir/server.ext" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 7 \
      -extfile "$dir/server.ext" -out "$dir/server.crt"
  } >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; die "openssl: cannot make the TLS certificates in $dir"; }
  chmod 600 "$dir/ca.key" "$dir/server.key"
}

# random_secret: 24 URL-safe characters for test credentials (SCRAM passwords, ...).
random_secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# download FILE CMD...: atomically produce FILE from a command writing to stdout.
atomic_mark_done() { touch "$1/.complete"; }
is_complete() { [[ -f "$1/.complete" ]]; }

# svc_status_line NAME PIDFILE PORT: one line of `dev-env status`.
svc_status_line() {
  local name="$1" pidfile="$2" port="$3" state=stopped pid=-
  if pid_alive "$pidfile"; then state=running; pid=$(<"$pidfile"); else port=; fi
  printf '%-26s %-8s pid=%-8s %s\n' "$name" "$state" "$pid" "${port:+127.0.0.1:$port}"
}
