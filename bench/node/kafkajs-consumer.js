// KafkaJS eachBatch consumer, as a NestJS/KafkaJS service would run it, doing nothing per message:
// counts until <count> messages were seen, then prints messages/s and exits.
//   node kafkajs-consumer.js <bootstrap> <topic> <group> <count>
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const [bootstrap, topic, group, countText] = process.argv.slice(2);
  const count = Number(countText);
  const kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let start = 0;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      if (seen === 0) start = process.hrtime.bigint();
      seen += batch.messages.length;
      if (seen >= count) done();
    },
  });
  await finished;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  console.log(`kafkajs: ${seen} messages in ${seconds.toFixed(2)} s = ${Math.round(seen / seconds)} msg/s`);
  await consumer.disconnect();
  process.exit(0);
}

main().catch((e) => { console.error(e); process.exit(1); });
