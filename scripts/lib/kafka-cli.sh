#!/usr/bin/env bash
# Kafka's admin tools against the dev-env broker, without a Kafka distribution: runs the tool
# classes from the jars dev-env fetched, with --bootstrap-server $KAFKA_BOOTSTRAP added.
#
#   scripts/lib/kafka-cli.sh topics --create --topic orders --partitions 8
#   scripts/lib/kafka-cli.sh topics --describe --topic orders
#   scripts/lib/kafka-cli.sh consumer-groups --describe --group g
#   scripts/lib/kafka-cli.sh console-producer --topic orders   (lines from stdin)
#   scripts/lib/kafka-cli.sh console-consumer --topic orders --from-beginning --max-messages 1
#   scripts/lib/kafka-cli.sh get-offsets --topic orders
#   scripts/lib/kafka-cli.sh configs --alter --entity-type users --entity-name u --add-config 'SCRAM-SHA-512=[password=p]'
#   scripts/lib/kafka-cli.sh run <main-class> [args...]        (no --bootstrap-server added)
#
# Reads KAFKA_BOOTSTRAP / KAFKA_CLASSPATH from the environment, else from $SLUICE_STATE/env.
set -euo pipefail

if [[ -z "${KAFKA_BOOTSTRAP:-}" || -z "${KAFKA_CLASSPATH:-}" ]]; then
  envfile="${SLUICE_STATE:-/tmp/sluice-dev}/env"
  [[ -f "$envfile" ]] || { echo "kafka-cli: no $envfile; run scripts/dev-env up kafka" >&2; exit 1; }
  # shellcheck source=/dev/null
  source "$envfile"
fi
[[ -n "${KAFKA_BOOTSTRAP:-}" ]] || { echo "kafka-cli: kafka is not up (scripts/dev-env up kafka)" >&2; exit 1; }

[[ $# -ge 1 ]] || { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
tool="$1"; shift

# Class names as used by the kafka-*.sh scripts of Kafka 3.9.
case "$tool" in
  topics) main=org.apache.kafka.tools.TopicCommand ;;
  consumer-groups) main=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  console-consumer) main=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  console-producer) main=kafka.tools.ConsoleProducer ;;
  get-offsets) main=org.apache.kafka.tools.GetOffsetShell ;;
  configs) main=kafka.admin.ConfigCommand ;;
  run) main="$1"; shift ;;
  *) echo "kafka-cli: unknown tool '$tool'" >&2; exit 2 ;;
esac

boot=()
[[ "$tool" != run ]] && boot=(--bootstrap-server "$KAFKA_BOOTSTRAP")
log4j=()
[[ -n "${KAFKA_TOOLS_LOG4J:-}" && -f "${KAFKA_TOOLS_LOG4J}" ]] && log4j=(-Dlog4j.configuration="file:$KAFKA_TOOLS_LOG4J")

# Short-lived JVM: small heap, C1 only, for a fast start.
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true "${log4j[@]}" \
  -cp "$KAFKA_CLASSPATH" "$main" "${boot[@]}" "$@"
