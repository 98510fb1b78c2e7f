#!/usr/bin/env bash
# Kafka consumer benchmark on the local broker (scripts/dev-env up kafka): one topic, one run, four
# consumers reading it from the beginning in turn, each in its own consumer group:
#   sluice-worker (discard sink), kcat -C -e -q (to /dev/null), a KafkaJS eachBatch consumer,
#   and a minimal raw librdkafka batch loop.
# Then sluice-worker with an HTTP sink taking ~1 ms per request: batches of 500 vs 1 message per
# request. Prints a table (messages/s, peak RSS, CPU seconds used). Figures go to bench/README.md
# by hand. sluice-worker runs with the spec's default backpressure budget (10 000 messages, 64 MiB).
#
#   bench/run-kafka.sh [messages] [value-bytes]        defaults: 1000000 100
#
# Environment: SLUICE_BUILD_DIR (default build/), SLUICE_STATE (dev-env state dir), ROUNDS (default 5:
# the four consumers in turn this many times, for a shared machine whose load varies).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${1:-1000000}"
BYTES="${2:-100}"
BUILD="${SLUICE_BUILD_DIR:-$ROOT/build}"
HTTP_N="${HTTP_N:-20000}"   # messages measured in the HTTP comparison, one message per request
# ... and in batches of 500: ~1.5M msg/s with 4 lanes, so 20 000 would be over in ~13 ms
HTTP_BATCHED_N="${HTTP_BATCHED_N:-$(( N < 500000 ? N : 500000 ))}"
ROUNDS="${ROUNDS:-5}"       # the four consumers run in turn, this many times; medians compared

cmake -S "$ROOT" -B "$BUILD" -G Ninja >/dev/null
ninja -C "$BUILD" -j2 sluice-worker sluice-kafka-tool bench-raw-librdkafka bench-slow-http-sink | tail -1
[[ -d "$ROOT/bench/node/node_modules/kafkajs" ]] || (cd "$ROOT/bench/node" && npm ci --no-audit --no-fund >/dev/null)
"$ROOT/scripts/dev-env" up kafka >/dev/null
# shellcheck source=/dev/null
source "$("$ROOT/scripts/dev-env" env)"

TOOL="$BUILD/bench/kafka/sluice-kafka-tool"
TOPIC="bench-$(date +%s)"
WORK="$(mktemp -d /tmp/sluice-bench.XXXXXX)"
"$TOOL" create "$KAFKA_BOOTSTRAP" "$TOPIC" 8
"$TOOL" produce "$KAFKA_BOOTSTRAP" "$TOPIC" "$N" "$BYTES" 1000

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
RESULTS=()
row() {  # label msg/s rss-MiB cpu-seconds
  RESULTS+=("$(printf '%-44s %12s %12s %10s' "$1" "$2" "$3" "$4")")
  echo "  $1: $2 msg/s, peak RSS $3 MiB, CPU $4 s"
}
cpu_of() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$1/stat"; }  # utime+stime of a live process

# sluice-worker <label> <sink-yaml> <maxMessages> <count>: runs until <count> delivered.
run_worker() {
  local label="$1" sink="$2" max="$3" count="$4" group="g-$RANDOM-$RANDOM" port
  port="$(free_port)"
  cat > "$WORK/p.yaml" <<YAML
apiVersion: sluice.dev/v1alpha1
kind: ConsumerPipeline
metadata: {name: bench, namespace: bench}
spec:
  source:
    kafka: {bootstrapServers: "$KAFKA_BOOTSTRAP", topics: ["$TOPIC"], groupId: "$group", startFrom: earliest}
  batch: {maxMessages: $max, maxBytes: 1048576, maxWaitMs: 100}
  processing: {ordering: partition, concurrency: 4}
  sink:
    $sink
YAML
  "$BUILD/worker/sluice-worker" --config "$WORK/p.yaml" --metrics-address "127.0.0.1:$port" \
    --health-address "127.0.0.1:0" --log-level warn > "$WORK/worker.log" 2>&1 &
  # The rate counts what was delivered between the first scrape that saw deliveries and the first
  # that saw all of them, scraped every 5 ms (bench/kafka/delivery_rate.py says why).
  local pid=$! measured
  measured="$(python3 "$ROOT/bench/kafka/delivery_rate.py" "http://127.0.0.1:$port/metrics" "$count" "$pid")" \
    || { cat "$WORK/worker.log"; return 1; }
  local rss cpu
  rss=$(awk '/VmHWM/{printf "%.0f", $2/1024}' "/proc/$pid/status")
  cpu=$(cpu_of "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  LAST_RATE="${measured##*rate=}"
  row "$label" "$LAST_RATE" "$rss" "$cpu"
}

# timed <label> <command...>: wall time and max RSS of a command that exits at the end.
timed() {
  local label="$1"; shift
  local start end
  start=$(now)
  /usr/bin/time -f '%M %U %S' -o "$WORK/rss" "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out"; return 1; }
  end=$(now)
  local rate
  rate=$(grep -oE '= [0-9]+ msg/s' "$WORK/out" | grep -oE '[0-9]+' || true)
  [[ -n "$rate" ]] || rate=$(awk -v n="$N" -v a="$start" -v b="$end" 'BEGIN{printf "%.0f", n/(b-a)}')
  LAST_RATE="$rate"
  row "$label" "$rate" "$(awk '{printf "%.0f", $1/1024}' "$WORK/rss")" "$(awk '{printf "%.2f", $2+$3}' "$WORK/rss")"
}

echo "== $N messages of $BYTES bytes, 8 partitions, topic $TOPIC, $ROUNDS round(s)"
SLUICE=(); KCAT=(); KAFKAJS=(); RAW=()
for ((round = 1; round <= ROUNDS; round++)); do
  r=""; (( ROUNDS > 1 )) && r=" [round $round]"
  run_worker "sluice-worker (discard sink)$r" "discard: {}" 500 "$N"; SLUICE+=("$LAST_RATE")
  timed "kcat -C -e -q > /dev/null (wall, incl. start)$r" kcat -C -b "$KAFKA_BOOTSTRAP" -t "$TOPIC" -o beginning -e -q
  KCAT+=("$LAST_RATE")
  timed "KafkaJS eachBatch (node $(node --version))$r" node "$ROOT/bench/node/kafkajs-consumer.js" "$KAFKA_BOOTSTRAP" "$TOPIC" "g-js-$RANDOM" "$N"
  KAFKAJS+=("$LAST_RATE")
  timed "raw librdkafka batch loop$r" "$BUILD/bench/kafka/bench-raw-librdkafka" "$KAFKA_BOOTSTRAP" "$TOPIC" "g-raw-$RANDOM" "$N"
  RAW+=("$LAST_RATE")
done

SINK_PORT="$(free_port)"
"$BUILD/bench/kafka/bench-slow-http-sink" "$SINK_PORT" 1 & SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true' EXIT
sleep 0.5
echo "== HTTP sink taking 1 ms per request, 4 lanes: $HTTP_BATCHED_N messages in batches of 500, $HTTP_N one per request"
run_worker "sluice-worker HTTP, batches of 500" "http: {url: \"http://127.0.0.1:$SINK_PORT/\", format: json}" 500 "$HTTP_BATCHED_N"
run_worker "sluice-worker HTTP, 1 message per request" "http: {url: \"http://127.0.0.1:$SINK_PORT/\", format: json}" 1 "$HTTP_N"

echo
printf '%-44s %12s %12s %10s\n' "consumer" "msg/s" "peak RSS MiB" "CPU s"
printf '%s\n' "${RESULTS[@]}"

# Over the rounds: each consumer's median rate, sluice-worker's ratio to the raw loop per round
# (the two ran a few seconds apart) and the ratio of the medians. On a shared VM one round's rates
# move by up to 1.5-2x; the median of several rounds is the figure to compare.
median() {  # FORMAT (default %.0f) for the printed value
  printf '%s\n' "$@" | sort -g | awk -v f="${FORMAT:-%.0f}" '{v[NR]=$1} END{printf f, NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
echo
echo "== over $ROUNDS round(s): median msg/s"
printf '  %-30s %12s\n' "sluice-worker (discard sink)" "$(median "${SLUICE[@]}")" "kcat" "$(median "${KCAT[@]}")" \
  "KafkaJS eachBatch" "$(median "${KAFKAJS[@]}")" "raw librdkafka batch loop" "$(median "${RAW[@]}")"
per_round=()
for ((i = 0; i < ROUNDS; i++)); do per_round+=("$(ratio "${SLUICE[i]}" "${RAW[i]}")"); done
echo "  sluice-worker / raw loop, per round: ${per_round[*]}; median of those $(FORMAT=%.2f median "${per_round[@]}")"
echo "  sluice-worker / raw loop, ratio of the medians: $(ratio "$(median "${SLUICE[@]}")" "$(median "${RAW[@]}")") (goal >= 0.8)"
echo "  sluice-worker / KafkaJS, ratio of the medians: $(ratio "$(median "${SLUICE[@]}")" "$(median "${KAFKAJS[@]}")") (goal >= 2)"
