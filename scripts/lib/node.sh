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
      ids+="$b=$(buildah images --no-trunc --noheading --format '{{.ID}}' "$b" 2>/dev/null | head -n1) "
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
  rm -f "$archive.tmp"
  buildah push --quiet "$ref" "oci-archive:$archive.tmp:$ref" >>"$blog" 2>&1 \
    || { tail -n 20 "$blog" >&2; die "node_build_image: buildah push of $ref to oci-archive failed (log: $blog)"; }
  mv "$archive.tmp" "$archive"
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
  node_ctr images ls -q | grep -qxF "$ref" || die "node_import_image: $ref not listed after import"
  echo "$ref"
}
