# shellcheck shell=bash
# A real node for Sluice's e2e tests (issue 16): images built with buildah and imported into the
# node's containerd. Source scripts/lib/common.sh first, then this file.
#
#   archive=$(node_build_image localhost/sluice-sink:dev e2e/sink [e2e/sink/Containerfile] [-- BUILDAH_ARGS...])
#   node_import_image "$archive"
#
# node_build_image builds with `buildah bud --isolation chroot --pull=never` (base images such as
# debian:bookworm(-slim) come from `scripts/dev-env image-base`, which it runs when the file has a
# FROM other than scratch) and writes an OCI archive to
#   $SLUICE_CACHE/images/<tag, / and : as _>/<hash>.oci.tar
# where <hash> covers the context's files (after .dockerignore/.containerignore), the Containerfile,
# the base images' ids, the tag and the extra buildah arguments: when none changed, nothing is built
# and the cached archive's path is printed (stdout, the only line; progress goes to stderr).
# A short TAG ("sluice:dev") is stored under its full name (docker.io/library/sluice:dev), the
# name a Pod's `image: sluice:dev` resolves to.
#
# node_import_image imports such an archive into the node's containerd (namespace k8s.io, the
# one the kubelet's CRI uses), so Pods with `imagePullPolicy: IfNotPresent` (or Never) run it
# without any registry. The node must be up (`scripts/dev-env up node`).

SLUICE_NODE_STATE="${SLUICE_NODE_STATE:-$SLUICE_STATE/node}"
SLUICE_NODE_CONTAINERD_SOCK="${SLUICE_NODE_CONTAINERD_SOCK:-$SLUICE_NODE_STATE/containerd/run/containerd.sock}"

# node_image_ref TAG: the fully qualified name containerd and the kubelet use for TAG.
node_image_ref() {
  local ref="$1" first rest
  [[ "${ref##*/}" == *:* || "$ref" == *@* ]] || ref="$ref:latest"
  first="${ref%%/*}"
  if [[ "$ref" != */* ]]; then
    ref="docker.io/library/$ref"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then
    rest="$ref"; ref="docker.io/$rest"
  fi
  echo "$ref"
}

# _node_context_hash CONTEXT CONTAINERFILE: sha256 over the files the build sees (names, modes,
# symlink targets, contents; paths matched by .containerignore/.dockerignore left out, with
# Docker's pattern rules: * and ? stop at /, ** spans directories, !pattern re-includes) and the
# Containerfile itself.
_node_context_hash() {
  python3 - "$1" "$2" <<'PY'
import hashlib, os, re, stat, sys
ctx, cfile = sys.argv[1], sys.argv[2]
pats = []
for name in (".containerignore", ".dockerignore"):
    p = os.path.join(ctx, name)
    if os.path.isfile(p):
        for line in open(p, encoding="utf-8"):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            neg = line.startswith("!")
            line = os.path.normpath(line[1:] if neg else line).lstrip("/")
            rx, i = "", 0
            while i < len(line):
                c = line[i]
                if line.startswith("**/", i):
                    rx += "(.*/)?"; i += 3
                    continue
                if line.startswith("**", i):
                    rx += ".*"; i += 2
                    continue
                rx += {"*": "[^/]*", "?": "[^/]"}.get(c, re.escape(c)); i += 1
            pats.append((neg, re.compile(rx + "$")))
        break

def excluded(rel):
    parts = rel.split("/")
    out = False
    for neg, rx in pats:
        # a pattern matches a path or any of its parent directories
        if any(rx.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            out = not neg
    return out

h = hashlib.sha256()
h.update(b"containerfile\0" + open(cfile, "rb").read() + b"\0")
for root, dirs, files in os.walk(ctx):
    dirs.sort()
    for f in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
        full = os.path.join(root, f)
        rel = os.path.relpath(full, ctx)
        if excluded(rel):
            continue
        st = os.lstat(full)
        h.update(rel.encode() + b"\0" + oct(stat.S_IMODE(st.st_mode)).encode() + b"\0")
        if stat.S_ISLNK(st.st_mode):
            h.update(b"link\0" + os.readlink(full).encode() + b"\0")
        elif stat.S_ISREG(st.st_mode):
            with open(full, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            h.update(b"\0")
    dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    if not any(neg for neg, _ in pats):  # with a !pattern an excluded dir may hold included files
        dirs[:] = [d for d in dirs if not excluded(os.path.relpath(os.path.join(root, d), ctx))]
print(h.hexdigest())
PY
}

# _node_base_images CONTAINERFILE: the FROM images that are neither scratch nor an earlier stage,
# with ${ARG} defaults of the file substituted.
_node_base_images() {
  python3 - "$1" <<'PY'
import re, sys
args, stages, out = {}, set(), []
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", line, re.I)
    if m and m.group(2) is not None:
        args.setdefault(m.group(1), m.group(2).strip('"'))
    m = re.match(r"\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
    if m:
        ref = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda v: args.get(v.group(1), ""), m.group(1))
        if ref != "scratch" and ref not in stages and ref not in out:
            out.append(ref)
        if m.group(2):
            stages.add(m.group(2))
for ref in out:
    print(ref)
PY
}

# node_build_image TAG CONTEXT_DIR [CONTAINERFILE] [-- BUILDAH_BUD_ARGS...]: prints the archive path.
node_build_image() {
  local tag="$1" ctx="$2"; shift 2
  local cfile=""
  if [[ $# -gt 0 && "$1" != "--" ]]; then cfile="$1"; shift; fi
  [[ "${1:-}" == "--" ]] && shift
  local extra=("$@")
  [[ -d "$ctx" ]] || die "node_build_image: context '$ctx' is not a directory"
  ctx=$(cd "$ctx" && pwd)
  if [[ -z "$cfile" ]]; then
    for cfile in "$ctx/Containerfile" "$ctx/Dockerfile"; do [[ -f "$cfile" ]] && break; done
  fi
  [[ -f "$cfile" ]] || die "node_build_image: no Containerfile/Dockerfile for $tag (pass it as the third argument)"
  apt_install buildah
  local ref; ref=$(node_image_ref "$tag")
  local bases b ids=""
  bases=$(_node_base_images "$cfile")
  if [[ -n "$bases" ]]; then
    bash "$(dirname "${BASH_SOURCE[0]}")/image.sh" >&2 || die "node_build_image: scripts/dev-env image-base failed"
    for b in $bases; do
      local id; id=$(buildah images --no-trunc --noheading --format '{{.ID}}' "$b" 2>/dev/null || true)
      ids+="$b=${id%%$'\n'*} "
      [[ "$ids" == *"$b= "* ]] && die "node_build_image: base image $b of $cfile is not in buildah's storage (scripts/dev-env image-base makes debian:bookworm and :bookworm-slim)"
    done
  fi
  local hash
  hash=$( { _node_context_hash "$ctx" "$cfile"; echo "$ref"; echo "$ids"; printf '%s\0' "${extra[@]}"; } | sha256sum | cut -c1-20)
  local dir="$SLUICE_CACHE/images/${ref//[\/:@]/_}"
  local archive="$dir/$hash.oci.tar"
  if [[ -s "$archive" ]]; then
    log "image: $ref unchanged ($archive)"
    echo "$archive"
    return 0
  fi
  mkdir -p "$dir"
  log "image: buildah bud $ref from $ctx ($(basename "$cfile"))"
  local t0=$SECONDS blog="$dir/$hash.build.log"
  nice -n 10 buildah bud --isolation chroot --network host --pull=never --layers \
      "${extra[@]}" -f "$cfile" -t "$ref" "$ctx" >"$blog" 2>&1 \
    || { tail -n 40 "$blog" >&2; die "node_build_image: buildah bud of $ref failed (log: $blog)"; }
  local tmp="$archive.tmp.$$"
  rm -f "$tmp"
  buildah push --quiet "$ref" "oci-archive:$tmp:$ref" >>"$blog" 2>&1 \
    || { rm -f "$tmp"; tail -n 20 "$blog" >&2; die "node_build_image: buildah push of $ref to oci-archive failed (log: $blog)"; }
  mv "$tmp" "$archive"
  # older archives of this tag are stale now
  find "$dir" -maxdepth 1 -name '*.oci.tar' ! -name "$hash.oci.tar" -delete
  find "$dir" -maxdepth 1 -name '*.build.log' ! -name "$hash.build.log" -delete
  log "image: $ref built in $((SECONDS - t0))s -> $archive"
  echo "$archive"
}

# node_ctr ARGS...: ctr against the node's containerd, namespace k8s.io.
node_ctr() {
  ctr --address "$SLUICE_NODE_CONTAINERD_SOCK" --namespace k8s.io "$@"
}

# node_import_image ARCHIVE: imports an archive from node_build_image into the node's containerd
# under the name it was built with; prints that name.
node_import_image() {
  local archive="$1"
  [[ -s "$archive" ]] || die "node_import_image: no archive at '$archive'"
  [[ -S "$SLUICE_NODE_CONTAINERD_SOCK" ]] \
    || die "node_import_image: the node's containerd is not running ($SLUICE_NODE_CONTAINERD_SOCK missing; run 'scripts/dev-env up node')"
  local ref
  ref=$(tar -xOf "$archive" index.json | python3 -c '
import json, sys
for m in json.load(sys.stdin).get("manifests", []):
    a = m.get("annotations", {})
    n = a.get("io.containerd.image.name") or a.get("org.opencontainers.image.ref.name")
    if n: print(n); break') || die "node_import_image: $archive has no index.json"
  [[ -n "$ref" ]] || die "node_import_image: $archive names no image (build it with node_build_image)"
  # --base-name keeps a full reference in the archive as it is (without it ctr drops names that
  # do not start with import-<date>); --no-unpack=false: unpack for the overlayfs snapshotter now
  # so the first Pod starts at once.
  node_ctr images import --base-name "${ref%:*}" --snapshotter overlayfs "$archive" >&2 \
    || die "node_import_image: ctr images import $archive failed"
  # (the listing is read whole: `ctr ... | grep -q` fails under pipefail when grep exits first)
  local listed; listed=$(node_ctr images ls -q) || die "node_import_image: ctr images ls failed"
  grep -qxF "$ref" <<<"$listed" || die "node_import_image: $ref not listed after import"
  echo "$ref"
}

# ---------------------------------------------------------------------------------------------
# The node profile (`scripts/dev-env up node`): a local cluster like kind's, inside one network
# namespace and one mount namespace that this script creates, so nothing binds an address in the
# host's network namespace and nothing the node mounts shows in the host's mount table.
#
#   network namespace $SLUICE_NETNS (default sluice-node): lo, node0 (one end of a veth pair kept
#     inside, the other end down) with the node IP ($SLUICE_NODE_IP/24, default 10.250.0.2; default
#     route on it, so Service IPs route and nothing leaves), the pod bridge cni0 (10.244.0.0/24, CNI bridge + host-local + portmap),
#     ip_forward and bridge-nf-call-iptables set in the namespace only; Services 10.96.0.0/16
#     (kubernetes 10.96.0.1, cluster DNS 10.96.0.10), kube-proxy's iptables rules.
#   mount namespace $SLUICE_NODE_STATE/ns/mnt (slave of the host's): tmpfs on /run/containerd
#     (containerd's shim sockets and runc state) and /var/log (pod logs), /etc/hosts (node name ->
#     node IP) and /etc/resolv.conf (the cluster DNS, never the host's nameserver), the kubelet's volumes,
#     the containers' rootfs mounts and the pods' network namespace files.
#   processes (each entered into both namespaces with nsenter, own process group, logs and pids in
#     $SLUICE_NODE_STATE): etcd, kube-apiserver (node IP :6443), kube-controller-manager,
#     kube-scheduler, containerd (own root/state/socket), kubelet, kube-proxy; CoreDNS as a Pod.
#   cgroups (v1, cgroupfs driver): the kubelet's cgroupRoot is <this shell's memory cgroup>/sluice-<netns>.
#
# `down` kills the tasks, the processes and everything left in those cgroups, unmounts the mount
# namespace, deletes the network namespace (and with it the bridge, veths and iptables rules) and
# the cgroups it made.

SLUICE_NETNS="${SLUICE_NETNS:-sluice-node}"
SLUICE_NODE_IP="${SLUICE_NODE_IP:-10.250.0.2}"
SLUICE_COREDNS_VERSION="${SLUICE_COREDNS_VERSION:-v1.15.0}"
NODE_POD_CIDR=10.244.0.0/24
NODE_SVC_CIDR=10.96.0.0/16
NODE_SVC_IP=10.96.0.1
NODE_DNS_IP=10.96.0.10
NODE_PAUSE_IMAGE=localhost/sluice-pause:3.10
NODE_COREDNS_IMAGE="localhost/sluice-coredns:$SLUICE_COREDNS_VERSION"
NODE_BUSYBOX_IMAGE=localhost/sluice-busybox:1.35

_node_here() { cd "$(dirname "${BASH_SOURCE[0]}")" && pwd; }

# The namespaces of a running node are recorded in its state (`down` may run with another env).
_node_netns() { state_get node netns 2>/dev/null || echo "$SLUICE_NETNS"; }
_node_mntns() { echo "$SLUICE_NODE_STATE/ns/mnt"; }

# NODE_EXEC: the command prefix that enters the node's namespaces.
_node_exec_prefix() {
  NODE_EXEC=(nsenter "--mount=$(_node_mntns)" "--net=/run/netns/$(_node_netns)" --)
}

# ---- install ----------------------------------------------------------------------------------

# _node_scratch_image DIR TAG LINE...: DIR holds the files of a FROM-scratch image (built here), prints the
# archive node_build_image made (cached by content).
_node_scratch_image() {
  local dir="$1" tag="$2"; shift 2
  { echo "FROM scratch"; printf '%s\n' "$@"; } >"$dir/Containerfile"
  node_build_image "$tag" "$dir"
}

# The sandbox ("pause") image: scripts/lib/node/pause.c, static, FROM scratch.
_node_pause_archive() {
  local src; src="$(_node_here)/node/pause.c"
  local dir; dir="$SLUICE_CACHE/node-images/pause-$(sha256sum "$src" | cut -c1-12)"
  if [[ ! -x "$dir/pause" ]]; then
    mkdir -p "$dir"
    gcc -Os -s -static -Wall -Werror -o "$dir/pause.tmp" "$src" >&2 || die "gcc -static of $src failed (libc6-dev installed?)"
    mv "$dir/pause.tmp" "$dir/pause"
  fi
  _node_scratch_image "$dir" "$NODE_PAUSE_IMAGE" 'COPY pause /pause' 'USER 65535:65535' 'ENTRYPOINT ["/pause"]'
}

# Debian's static busybox as a FROM-scratch image, every applet linked in /bin (sh, id, nslookup,
# wget with TLS, nc, ...): for smoke Pods and small helpers (image $NODE_BUSYBOX_IMAGE).
_node_busybox_archive() {
  apt_install busybox-static
  local dir="$SLUICE_CACHE/node-images/busybox"
  local ver; ver=$(dpkg-query -W -f='${Version}' busybox-static)
  if [[ "$(cat "$dir/.version" 2>/dev/null)" != "$ver" ]]; then
    rm -rf "$dir"; mkdir -p "$dir/root/bin" "$dir/root/tmp"
    cp /bin/busybox "$dir/root/bin/busybox"
    local a
    for a in $(/bin/busybox --list); do [[ "$a" == busybox ]] || ln -s busybox "$dir/root/bin/$a"; done
    echo "$ver" >"$dir/.version"
  fi
  _node_scratch_image "$dir" "$NODE_BUSYBOX_IMAGE" 'COPY root/ /' 'ENV PATH=/bin' 'USER 65532:65532' 'ENTRYPOINT ["/bin/sh"]'
}

# CoreDNS: scripts/lib/node/coredns/main.go (upstream coremain + the plugins the Corefile uses),
# static, cached by version and main.go.
_node_coredns_bin() {
  local main; main="$(_node_here)/node/coredns/main.go"
  local dir; dir="$SLUICE_CACHE/coredns-$SLUICE_COREDNS_VERSION-$(sha256sum "$main" | cut -c1-12)"
  if ! is_complete "$dir" || [[ ! -x "$dir/image/coredns" ]]; then
    rm -rf "$dir"; mkdir -p "$dir/src" "$dir/image"
    cp "$main" "$dir/src/main.go"
    printf 'module sluice.dev/coredns-build\n\ngo 1.26.0\n' >"$dir/src/go.mod"
    log "coredns: building $SLUICE_COREDNS_VERSION (module proxy; cold: a few minutes)"
    local t0=$SECONDS
    (cd "$dir/src" && go_env auto go get "github.com/coredns/coredns@$SLUICE_COREDNS_VERSION") >&2 \
      || die "go get github.com/coredns/coredns@$SLUICE_COREDNS_VERSION failed"
    (cd "$dir/src" && nice -n 10 env GOFLAGS=-mod=mod GOMODCACHE="$SLUICE_GOMODCACHE" GOCACHE="$SLUICE_GOCACHE" \
        GOTOOLCHAIN=auto CGO_ENABLED=0 "$(go_bin)" build -trimpath -ldflags "-s -w" -o "$dir/image/coredns" .) >&2 \
      || die "go build of coredns $SLUICE_COREDNS_VERSION failed"
    log "coredns: built in $((SECONDS - t0))s"
    atomic_mark_done "$dir"
  fi
  echo "$dir/image"
}

_node_coredns_archive() {
  local dir; dir=$(_node_coredns_bin)
  _node_scratch_image "$dir" "$NODE_COREDNS_IMAGE" 'COPY coredns /coredns' 'USER 65532:65532' 'ENTRYPOINT ["/coredns"]'
}

# node_install: Debian packages, the kube binaries (kube_install builds kubelet, kube-scheduler and
# kube-proxy in the apiserver's go build), CoreDNS and the node's images.
node_install() {
  apt_install containerd runc containernetworking-plugins iptables conntrack buildah busybox-static \
    etcd-server openssl util-linux iproute2 libc6-dev gcc
  kube_install
  _node_pause_archive >/dev/null
  _node_busybox_archive >/dev/null
  _node_coredns_archive >/dev/null
}

# ---- namespaces and cgroups -------------------------------------------------------------------

_node_netns_up() {
  local ns; ns=$(_node_netns)
  ip netns add "$ns" || die "ip netns add $ns failed (another node with this name? SLUICE_NETNS picks another)"
  local n=(ip -n "$ns")
  "${n[@]}" link set lo up
  # The node IP sits on one end of a veth pair whose both ends stay in the namespace and whose
  # other end is never up (no dummy driver here): the address is local, and whatever is sent out
  # of node0 is dropped. The default route on it lets the namespace's own processes reach Service
  # IPs (kube-proxy DNATs them before they would leave); nothing leaves the namespace.
  "${n[@]}" link add node0 type veth peer name node0-peer
  "${n[@]}" addr add "$SLUICE_NODE_IP/24" dev node0
  "${n[@]}" link set node0 up
  "${n[@]}" route add default dev node0
  # In the namespace only (net.* sysctls are per network namespace; the host's stay as they are).
  nsenter --net="/run/netns/$ns" sysctl -q -w net.ipv4.ip_forward=1 \
    || die "sysctl net.ipv4.ip_forward=1 inside $ns failed"
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
    nsenter --net="/run/netns/$ns" sysctl -q -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1 \
      || die "sysctl net.bridge.bridge-nf-call-iptables=1 inside $ns failed"
  else
    log "node: no br_netfilter (net.bridge.* sysctls missing): a Pod reaching a Service backed by a Pod on the same bridge may fail"
  fi
}

# _node_mntns_up: a persistent mount namespace (bind-mounted at $SLUICE_NODE_STATE/ns/mnt) whose
# mounts never show in the host's: tmpfs on /run/containerd and /var/log.
_node_mntns_up() {
  local d="$SLUICE_NODE_STATE/ns"
  mkdir -p "$d"
  { mount --bind "$d" "$d" && mount --make-private "$d"; } || die "could not make $d a private mount"
  : >"$d/mnt"
  # /run/containerd must exist as a mount point; made (empty) if missing and left in place: removing
  # it while another node's mount namespace has its tmpfs there would detach that mount.
  mkdir -p /run/containerd
  # Name resolution inside: the node's name is the node IP, and the resolver is the cluster DNS
  # (reached through kube-proxy's rules once CoreDNS runs), never the host's nameserver.
  mkdir -p "$SLUICE_NODE_STATE/etc"
  printf '127.0.0.1 localhost\n%s %s\n' "$SLUICE_NODE_IP" "$(_node_netns)" >"$SLUICE_NODE_STATE/etc/hosts"
  printf 'nameserver %s\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:2\n' \
    "$NODE_DNS_IP" >"$SLUICE_NODE_STATE/etc/resolv.conf"
  unshare --mount="$d/mnt" --propagation slave sh -c "
    mount -t tmpfs -o mode=0711 sluice-node-run /run/containerd &&
    mount -t tmpfs -o mode=0755 sluice-node-log /var/log &&
    mount --bind '$SLUICE_NODE_STATE/etc/hosts' /etc/hosts &&
    mount --bind '$SLUICE_NODE_STATE/etc/resolv.conf' /etc/resolv.conf" \
    || die "unshare --mount=$d/mnt failed"
}

# _node_cgroup_root: <the memory cgroup this shell is in>/sluice-<netns>, so Pods stay inside the
# memory accounting of whoever started the node.
_node_cgroup_root() {
  local base
  base=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
  [[ -z "$base" || "$base" == / ]] && base=""
  echo "$base/$(_node_netns)"
}

# _node_cgroups_up ROOT: ROOT in every mounted v1 hierarchy (the kubelet insists that it exists),
# cpuset's cpus/mems copied down; every directory made is listed in cgroups.made for down.
_node_cgroups_up() {
  local root="$1" h made="$SLUICE_NODE_STATE/cgroups.made"
  : >"$made"
  for h in /sys/fs/cgroup/*/; do
    h=${h%/}
    [[ "$(basename "$h")" == unified ]] && continue
    [[ -f "$h/cgroup.procs" ]] || continue
    local p="$h" part
    IFS=/ read -r -a parts <<<"${root#/}"
    for part in "${parts[@]}"; do
      local parent="$p"; p="$p/$part"
      if [[ ! -d "$p" ]]; then
        mkdir "$p" || die "mkdir $p failed"
        echo "$p" >>"$made"
        if [[ -f "$p/cpuset.cpus" ]]; then
          cat "$parent/cpuset.cpus" >"$p/cpuset.cpus"; cat "$parent/cpuset.mems" >"$p/cpuset.mems"
        fi
      fi
    done
  done
}

# _node_cgroups_kill ROOT: SIGKILL whatever still runs in ROOT's subtree (containers whose shim died).
_node_cgroups_kill() {
  local root="$1" f pid
  [[ -n "$root" ]] || return 0
  while read -r f; do
    while read -r pid; do [[ -z "$pid" ]] || kill -KILL "$pid" 2>/dev/null || true; done <"$f"
  done < <(find "/sys/fs/cgroup/pids$root" "/sys/fs/cgroup/memory$root" -name cgroup.procs 2>/dev/null)
  return 0
}

# _node_cgroups_down: removes the kubelet's cgroups under ROOT and the directories _node_cgroups_up made.
_node_cgroups_down() {
  local root="$1" h made="$SLUICE_NODE_STATE/cgroups.made"
  [[ -n "$root" ]] || return 0
  for h in /sys/fs/cgroup/*/; do
    [[ -d "$h${root#/}" ]] || continue
    # depth first; a cgroup with a dying task may need a moment
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      find "$h${root#/}" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null || true
      [[ -z "$(find "$h${root#/}" -mindepth 1 -type d 2>/dev/null | head -n1)" ]] && break
      sleep 0.5
    done
  done
  if [[ -f "$made" ]]; then
    tac "$made" | while read -r d; do
      [[ ! -d "$d" ]] || rmdir "$d" 2>/dev/null || log "node: could not remove cgroup $d"
    done
    rm -f "$made"
  fi
}

# ---- configs ----------------------------------------------------------------------------------

_node_containerd_config() {
  local st="$SLUICE_NODE_STATE" c="$SLUICE_NODE_STATE/containerd"
  mkdir -p "$c/root" "$c/state" "$c/run" "$c/opt"
  cat >"$c/config.toml" <<TOML
# Generated by scripts/lib/node.sh
version = 2
root = "$c/root"
state = "$c/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$SLUICE_NODE_CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$NODE_PAUSE_IMAGE"
  # This sandbox lacks CAP_SYS_RESOURCE: without this, runc fails to set the pause container's
  # oom_score_adj (-998) and every sandbox dies ("can't get final child's PID from pipe").
  restrict_oom_score_adj = true
  # the pods' network namespaces live under the state dir, not /run/netns (ip netns list)
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$st/cni/net.d"
    max_conf_num = 1
TOML
  mkdir -p "$st/cni/net.d" "$st/cni/ipam"
  cat >"$st/cni/net.d/10-sluice.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "sluice-pods",
  "plugins": [
    {
      "type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$st/cni/ipam",
        "ranges": [[{"subnet": "$NODE_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
}

_node_kubelet_config() {
  local st="$SLUICE_NODE_STATE" cgroot="$1"
  mkdir -p "$st/kubelet"
  cat >"$st/kubelet-config.yaml" <<YAML
# Generated by scripts/lib/node.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $SLUICE_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $st/pki/kubelet-serving.crt
tlsPrivateKeyFile: $st/pki/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $st/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$SLUICE_NODE_CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: $cgroot
failCgroupV1: false
failSwapOn: false
# lowering oom_score_adj needs CAP_SYS_RESOURCE, which this sandbox lacks
oomScoreAdj: 0
clusterDomain: cluster.local
clusterDNS: [$NODE_DNS_IP]
# no host resolv.conf: Pods know only the cluster DNS (nothing outside the namespace is asked)
resolvConf: ""
maxPods: 60
serializeImagePulls: false
# images are imported, never pulled: never garbage-collect them, evict only when really short
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%, nodefs.inodesFree: 2%}
nodeStatusReportFrequency: 10s
syncFrequency: 10s
fileCheckFrequency: 0s
shutdownGracePeriod: 0s
YAML
}

_node_proxy_config() {
  local st="$SLUICE_NODE_STATE"
  cat >"$st/kube-proxy-config.yaml" <<YAML
# Generated by scripts/lib/node.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $st/kubeconfig}
hostnameOverride: $(_node_netns)
clusterCIDR: $NODE_POD_CIDR
bindAddress: $SLUICE_NODE_IP
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
nodePortAddresses: [$SLUICE_NODE_IP/32]
oomScoreAdj: 0
# leave every conntrack sysctl alone
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false, masqueradeAll: false}
YAML
}

_node_coredns_manifest() {
  cat <<YAML
apiVersion: v1
kind: ServiceAccount
metadata: {name: coredns, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:coredns"}
rules:
- apiGroups: [""]
  resources: [endpoints, services, pods, namespaces]
  verbs: [list, watch]
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:coredns"}
subjects: [{kind: ServiceAccount, name: coredns, namespace: kube-system}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: coredns, namespace: kube-system}
data:
  # Cluster names only: no forward plugin, nothing outside the namespace is ever asked.
  Corefile: |
    .:1053 {
        errors
        health :8080
        ready :8181
        kubernetes cluster.local in-addr.arpa ip6.arpa {
            pods insecure
            fallthrough in-addr.arpa ip6.arpa
            ttl 30
        }
        cache 30
        loadbalance
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  replicas: 1
  selector: {matchLabels: {k8s-app: kube-dns}}
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec:
      serviceAccountName: coredns
      priorityClassName: system-cluster-critical
      dnsPolicy: Default
      securityContext:
        runAsUser: 65532
        runAsGroup: 65532
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: coredns
        image: $NODE_COREDNS_IMAGE
        imagePullPolicy: Never
        args: [-conf, /etc/coredns/Corefile]
        ports:
        - {name: dns, containerPort: 1053, protocol: UDP}
        - {name: dns-tcp, containerPort: 1053, protocol: TCP}
        readinessProbe:
          httpGet: {path: /ready, port: 8181}
          periodSeconds: 2
        livenessProbe:
          httpGet: {path: /health, port: 8080}
          periodSeconds: 10
        resources:
          requests: {cpu: 50m, memory: 32Mi}
          limits: {memory: 128Mi}
        securityContext:
          readOnlyRootFilesystem: true
          allowPrivilegeEscalation: false
          capabilities: {drop: [ALL]}
        volumeMounts:
        - {name: config, mountPath: /etc/coredns, readOnly: true}
      volumes:
      - name: config
        configMap: {name: coredns}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $NODE_DNS_IP
  selector: {k8s-app: kube-dns}
  ports:
  - {name: dns, port: 53, targetPort: 1053, protocol: UDP}
  - {name: dns-tcp, port: 53, targetPort: 1053, protocol: TCP}
YAML
}

# ---- start / stop -------------------------------------------------------------------------------

_node_kubectl() { "${NODE_EXEC[@]}" kubectl --kubeconfig "$SLUICE_NODE_STATE/kubeconfig" "$@"; }

node_running() { pid_alive "$SLUICE_NODE_STATE/kubelet.pid"; }

NODE_PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)

node_start() {
  local st="$SLUICE_NODE_STATE" p all=1
  for p in "${NODE_PROCS[@]}"; do pid_alive "$st/$p.pid" || all=0; done
  if (( all )); then
    log "node: already running ($(_node_netns), $SLUICE_NODE_IP)"
    return 0
  fi
  node_stop
  rm -rf "$st"
  mkdir -p "$st"
  require_cmd ip nsenter unshare containerd runc ctr iptables conntrack etcd kubectl curl openssl python3
  local t0=$SECONDS ns="$SLUICE_NETNS" name="$SLUICE_NETNS" bin; bin="$(kube_dir)/bin"
  # the archives first (cached; they only build after a cache wipe), then the namespaces
  local pause_a busybox_a coredns_a
  pause_a=$(_node_pause_archive); busybox_a=$(_node_busybox_archive); coredns_a=$(_node_coredns_archive)

  state_set node netns "$ns"
  state_set node host_ip_forward "$(cat /proc/sys/net/ipv4/ip_forward)"
  _node_netns_up
  _node_mntns_up
  _node_exec_prefix
  local cgroot; cgroot=$(_node_cgroup_root)
  state_set node cgroup_root "$cgroot"
  _node_cgroups_up "$cgroot"

  # PKI: the apiserver cert names the node IP and the `kubernetes` Service IP; the kubelet gets a
  # node identity (Node authorizer) and a serving cert for the node IP (logs/exec from the apiserver).
  local pki="$st/pki" server="https://$SLUICE_NODE_IP:6443"
  kube_pki "$pki" "IP:$SLUICE_NODE_IP,IP:$NODE_SVC_IP"
  kube_cert "$pki" kubelet "/O=system:nodes/CN=system:node:$name" clientAuth
  kube_cert "$pki" kubelet-serving "/CN=$name" serverAuth "IP:$SLUICE_NODE_IP,DNS:$name"
  kube_kubeconfig "$pki" "$server" "$st/kubeconfig"
  kube_kubeconfig "$pki" "$server" "$st/kubelet.kubeconfig" kubelet

  # shellcheck disable=SC2034 # read by kube_control_plane (kube.sh)
  KUBE_EXEC=("${NODE_EXEC[@]}")
  kube_control_plane "$st" "$SLUICE_NODE_IP" "$NODE_SVC_CIDR" 2379 2380 6443 10257 lease
  local pf
  pf=$(start_bg kube-scheduler "$st" "${NODE_EXEC[@]}" "$bin/kube-scheduler" \
    --kubeconfig="$st/kubeconfig" \
    --authentication-kubeconfig="$st/kubeconfig" --authorization-kubeconfig="$st/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port=10259 --leader-elect=false --v=1)
  wait_until "kube-scheduler" 60 "$pf" \
    bash -c "${NODE_EXEC[*]} curl -fsSk --max-time 2 https://127.0.0.1:10259/healthz | grep -qx ok"

  _node_containerd_config
  pf=$(start_bg containerd "$st" "${NODE_EXEC[@]}" containerd --config "$st/containerd/config.toml")
  wait_until "containerd" 60 "$pf" node_ctr version
  local a
  for a in "$pause_a" "$busybox_a" "$coredns_a"; do node_import_image "$a" >/dev/null; done

  _node_kubelet_config "$cgroot"
  pf=$(start_bg kubelet "$st" "${NODE_EXEC[@]}" "$bin/kubelet" \
    --config="$st/kubelet-config.yaml" --kubeconfig="$st/kubelet.kubeconfig" \
    --node-ip="$SLUICE_NODE_IP" --hostname-override="$name" \
    --root-dir="$st/kubelet" --cert-dir="$st/kubelet/pki" --v=1)
  wait_until "node $name Ready" 120 "$pf" _node_kubectl wait --for=condition=Ready "node/$name" --timeout=3s

  _node_proxy_config
  pf=$(start_bg kube-proxy "$st" "${NODE_EXEC[@]}" "$bin/kube-proxy" --config="$st/kube-proxy-config.yaml" --v=1)
  wait_until "kube-proxy" 60 "$pf" "${NODE_EXEC[@]}" curl -fsS --max-time 2 http://127.0.0.1:10256/healthz

  _node_coredns_manifest | _node_kubectl apply -f - >/dev/null || die "applying CoreDNS failed"
  wait_until "CoreDNS Pod ready" 120 "$st/kubelet.pid" \
    _node_kubectl -n kube-system rollout status deploy/coredns --timeout=3s
  wait_until "cluster DNS answers kubernetes.default.svc.cluster.local" 60 "$st/kube-proxy.pid" \
    bash -c "${NODE_EXEC[*]} python3 $(_node_here)/node/dnsq.py $NODE_DNS_IP kubernetes.default.svc.cluster.local | grep -qx $NODE_SVC_IP"

  env_reset node
  env_put node NODE_KUBECONFIG "$st/kubeconfig"
  env_put node NODE_APISERVER "$server"
  env_put node NODE_NETNS "$ns"
  env_put node NODE_IP "$SLUICE_NODE_IP"
  env_put node NODE_NAME "$name"
  env_put node NODE_DNS_IP "$NODE_DNS_IP"
  env_put node NODE_POD_CIDR "$NODE_POD_CIDR"
  env_put node NODE_SERVICE_CIDR "$NODE_SVC_CIDR"
  env_put node NODE_CONTAINERD_SOCK "$SLUICE_NODE_CONTAINERD_SOCK"
  env_put node NODE_PAUSE_IMAGE "$NODE_PAUSE_IMAGE"
  env_put node NODE_BUSYBOX_IMAGE "$NODE_BUSYBOX_IMAGE"
  env_put node NODE_EXEC "${NODE_EXEC[*]}"
  log "node: $name Ready at $SLUICE_NODE_IP in netns $ns ($((SECONDS - t0))s); apiserver $server; use 'scripts/dev-env exec -- kubectl get pods -A'"
}

# _node_ns_pids: pids of processes in the node's mount or network namespace (shims, leftovers).
_node_ns_pids() {
  local mnt="" net="" p
  [[ -e "$(_node_mntns)" ]] && mnt=$(stat -L -c %i "$(_node_mntns)" 2>/dev/null || true)
  [[ -e "/run/netns/$(_node_netns)" ]] && net=$(stat -L -c %i "/run/netns/$(_node_netns)" 2>/dev/null || true)
  [[ -n "$mnt$net" ]] || return 0
  for p in /proc/[0-9]*; do
    [[ "${p#/proc/}" == "$$" || "${p#/proc/}" == "$BASHPID" ]] && continue
    if [[ -n "$mnt" && "$(readlink "$p/ns/mnt" 2>/dev/null)" == "mnt:[$mnt]" ]] \
       || [[ -n "$net" && "$(readlink "$p/ns/net" 2>/dev/null)" == "net:[$net]" ]]; then
      echo "${p#/proc/}"
    fi
  done
}

node_stop() {
  # best effort to the end: a process that exits between being listed and killed must not stop
  # the teardown (errexit stays on for the caller: `local -` restores it on return)
  local -
  set +e
  local st="$SLUICE_NODE_STATE"
  env_reset node
  [[ -d "$st" ]] || return 0
  local ns cgroot pids
  ns=$(_node_netns); cgroot=$(state_get node cgroup_root || true)
  # the kubelet first (it would restart containers), then the containers (cgroup members), then
  # containerd (its shims exit with their tasks), then the control plane
  stop_pidfile "$st/kube-proxy.pid"
  stop_pidfile "$st/kubelet.pid"
  _node_cgroups_kill "$cgroot"
  stop_pidfile "$st/containerd.pid"
  stop_pidfile "$st/kube-scheduler.pid"
  kube_stop_plane "$st"
  # whatever still runs in the namespaces (shims of tasks that were mid-start, exec sessions)
  for _ in 1 2 3 4 5; do
    _node_cgroups_kill "$cgroot"
    pids=$(_node_ns_pids)
    [[ -z "$pids" ]] && break
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.3
  done
  [[ -z "$(_node_ns_pids)" ]] || log "node: processes left in the node's namespaces: $(_node_ns_pids | tr '\n' ' ')"
  if mountpoint -q "$st/ns/mnt" 2>/dev/null; then umount "$st/ns/mnt" || umount -l "$st/ns/mnt"; fi
  if mountpoint -q "$st/ns" 2>/dev/null; then umount "$st/ns" || umount -l "$st/ns"; fi
  if [[ -e "/run/netns/$ns" ]]; then ip netns del "$ns" || log "node: ip netns del $ns failed"; fi
  _node_cgroups_down "$cgroot"
  # the big parts (snapshots, volumes, etcd); logs and configs stay for a look after the fact
  rm -rf "$st/containerd/root" "$st/containerd/state" "$st/kubelet" "$st/etcd-data"
}

node_status() {
  local st="$SLUICE_NODE_STATE" p
  for p in "${NODE_PROCS[@]}"; do
    svc_status_line "node/$p" "$st/$p.pid" ""
  done
  if node_running; then
    echo "node netns $(_node_netns), node IP $SLUICE_NODE_IP, apiserver https://$SLUICE_NODE_IP:6443 (scripts/dev-env exec -- kubectl ...)"
  fi
}

# node_exec CMD...: CMD inside the node's namespaces with the env file loaded and KUBECONFIG
# pointing at the node's cluster.
node_exec() {
  node_running || die "the node is not running (scripts/dev-env up node)"
  [[ $# -gt 0 ]] || die "usage: scripts/dev-env exec -- CMD [ARGS...]"
  if [[ -f "$SLUICE_STATE/env" ]]; then
    # shellcheck source=/dev/null
    source "$SLUICE_STATE/env"
  fi
  export KUBECONFIG="$SLUICE_NODE_STATE/kubeconfig"
  _node_exec_prefix
  exec nsenter "--mount=$(_node_mntns)" "--net=/run/netns/$(_node_netns)" "--wd=$PWD" -- "$@"
}
