#!/usr/bin/env bash
# Opt-in (not part of `dev-env up`): base images for building the Dockerfile without Docker.
#
#   scripts/dev-env image-base        (or: bash scripts/lib/image.sh)
#
# Installs buildah, podman and debootstrap from Debian, debootstraps a minimal bookworm rootfs
# from the Debian mirror apt is already configured with, and imports it with `podman import`
# as docker.io/library/debian:bookworm-slim and docker.io/library/debian:bookworm. The rootfs
# tarball is cached; a second run only checks that the images exist. Then:
#
#   buildah bud --isolation chroot --network host --pull=never -t sluice:dev .
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib/common.sh
source "$here/common.sh"

SUITE="${SLUICE_IMAGE_SUITE:-bookworm}"
NAMES=("docker.io/library/debian:$SUITE-slim" "docker.io/library/debian:$SUITE")
# Bump when the rootfs recipe below changes: keys the cached tarball and the images' label.
RECIPE=r2

# debian_mirror: the first Debian archive URI apt uses for the main archive (not security),
# from one-line sources.list files or deb822 *.sources files.
debian_mirror() {
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f" \
          | grep -v -- '-security' | head -n1 || true)
    [[ -n "$uri" ]] && { echo "$uri"; return 0; }
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri=$(awk 'tolower($1) == "uris:" { print $2 }' "$f" | grep -v -- '-security' | head -n1 || true)
    [[ -n "$uri" ]] && { echo "$uri"; return 0; }
  done
  return 1
}

images_present() {
  local n
  for n in "${NAMES[@]}"; do
    podman image exists "$n" || return 1
    [[ $(podman image inspect --format '{{index .Labels "dev.sluice.rootfs"}}' "$n") == "$SUITE-$RECIPE" ]] || return 1
  done
}

main() {
  apt_install buildah podman debootstrap uidmap fuse-overlayfs
  if images_present; then
    log "image-base: ${NAMES[*]} already present"
    return 0
  fi
  local dir="$SLUICE_CACHE/debian-$SUITE-minbase-$RECIPE"
  local tarball="$dir/rootfs.tar"
  if ! is_complete "$dir" || [[ ! -s "$tarball" ]]; then
    local mirror; mirror=$(debian_mirror) || die "no Debian mirror found in /etc/apt/sources.list*"
    log "image-base: debootstrap --variant=minbase $SUITE from $mirror"
    rm -rf "$dir"
    mkdir -p "$dir"
    local root="$dir/rootfs"
    debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 \
      || { tail -n 30 "$dir/debootstrap.log" >&2; die "debootstrap failed (log: $dir/debootstrap.log)"; }
    # Like the official -slim image: no docs, man pages, locales or apt lists.
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
           "$root"/usr/share/info/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log "$root"/tmp/*
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
    # The image's apt uses the same archives as this machine's (incl. -updates and -security,
    # like the official image) when the host runs the same suite; else the mirror we used.
    if grep -qs "Suites:.*\b$SUITE\b" /etc/apt/sources.list.d/debian.sources; then
      cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
      rm -f "$root/etc/apt/sources.list"
    else
      printf 'deb %s %s main\n' "$mirror" "$SUITE" >"$root/etc/apt/sources.list"
    fi
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
    atomic_mark_done "$dir"
  fi
  log "image-base: podman import as ${NAMES[*]}"
  podman import --change 'CMD ["bash"]' --change "LABEL dev.sluice.rootfs=$SUITE-$RECIPE" "$tarball" "${NAMES[0]}" >&2
  local n
  for n in "${NAMES[@]:1}"; do podman tag "${NAMES[0]}" "$n"; done
  images_present || die "podman import did not produce ${NAMES[*]}"
  podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep "debian:$SUITE" >&2
}

main "$@"
