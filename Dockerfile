# syntax=docker/dockerfile:1
# Sluice image: sluice-operator and sluice-worker in one image (the operator's default
# --worker-image is this image). Two stages:
#   build   - debian:bookworm with the -dev packages of cmake/Dependencies.cmake; builds only the
#             two binaries and works out which Debian packages they need at runtime.
#   runtime - debian:bookworm-slim with only those runtime libraries and ca-certificates; runs as
#             the non-root user 65532. The entrypoint is exec-form: no shell is involved at runtime.
#
#   docker build -t sluice:dev .
#   buildah bud --isolation chroot --network host --pull=never -t sluice:dev .   (no Docker engine;
#       the base images come from `scripts/dev-env image-base`)
#   docker run --rm sluice:dev sluice-operator --version

ARG DEBIAN_SUITE=bookworm

FROM debian:${DEBIAN_SUITE} AS build
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      g++ cmake ninja-build pkg-config ccache \
      libssl-dev libcpprest-dev libboost-system-dev librdkafka-dev libnats-dev libyaml-cpp-dev \
      libspdlog-dev prometheus-cpp-dev nlohmann-json3-dev libgtest-dev libgmock-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
# ccache: when the builder mounts a compiler cache at /ccache (scripts/check-packaging passes the
# host's, `buildah bud -v <dir>:/ccache`), objects the CI build already compiled are reused. For that
# the flags and the relative paths match scripts/test's build: RelWithDebInfo (install -s strips the
# debug info), -Werror (bookworm's g++ 12 is the compiler CI uses; pass --build-arg SLUICE_WERROR=OFF
# for another suite), the build folder inside the source tree. Without a mount it caches into the
# throwaway build stage.
ARG SLUICE_WERROR=ON
# ccache hashes the locale variables too: scripts/test builds with exactly LANG=C.UTF-8 as well.
ENV CCACHE_DIR=/ccache CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1 LANG=C.UTF-8
RUN cmake -S . -B /src/build -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache \
      -DSLUICE_UNIT_TESTS_ONLY=OFF \
      -DSLUICE_WERROR=${SLUICE_WERROR} \
 && cmake --build /src/build --target sluice-operator sluice-worker -j "$(nproc)" \
 && (ccache --show-stats 2>/dev/null | grep -Ei "hits|misses" || true) \
 && mkdir -p /out/bin \
 && install -m 0755 -s /src/build/operator/sluice-operator /src/build/worker/sluice-worker /out/bin/ \
 && /out/bin/sluice-operator --version && /out/bin/sluice-worker --version

# The Debian packages that own every shared library the binaries load, derived from the binaries
# so that a new dependency needs no Dockerfile edit. (bash -c rather than SHELL: buildah ignores
# SHELL in its default OCI format.)
RUN bash -euo pipefail -c ' \
      for bin in /out/bin/*; do ldd "$bin"; done | grep -o "=> /[^ ]*" | cut -c4- | sort -u \
      | while read -r lib; do \
          real=$(realpath "$lib"); \
          pkg=$( { dpkg -S "$lib" || dpkg -S "$real" || dpkg -S "${real#/usr}" || dpkg -S "/usr$lib"; } 2>/dev/null \
                 | head -n1 | cut -d: -f1); \
          [[ -n "$pkg" ]] || { echo "no Debian package owns $lib" >&2; exit 1; }; \
          echo "$pkg"; \
        done | sort -u >/out/runtime-packages; \
      echo "runtime packages: $(tr "\n" " " </out/runtime-packages)"'

FROM debian:${DEBIAN_SUITE}-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -q \
 && xargs -a /tmp/runtime-packages apt-get install -y -q --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /tmp/runtime-packages \
 && mkdir -p /etc/sluice \
 && echo 'sluice:x:65532:65532:sluice:/nonexistent:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'sluice:x:65532:' >> /etc/group
COPY --from=build /out/bin/sluice-operator /out/bin/sluice-worker /usr/local/bin/

LABEL org.opencontainers.image.title="sluice" \
      org.opencontainers.image.description="Sluice: a Kubernetes operator that runs and autoscales batched, at-least-once message-consumer pipelines (Kafka, NATS JetStream); sluice-operator and sluice-worker" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/sluice-dev/sluice" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="sluice.dev" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"

ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 65532:65532
WORKDIR /
# operator: metrics :9090, health :8081; worker: metrics :9400, health :8081
EXPOSE 9090 9400 8081
# No ENTRYPOINT: the image holds two programs. `docker run IMAGE sluice-worker --config ...` runs
# the worker; Kubernetes manifests set `command:` explicitly (the chart and the operator's worker
# Deployment both do).
CMD ["/usr/local/bin/sluice-operator"]
