/**
 * `npx bun bench/partition-spread.ts [bursts]`: how a burst of 48 requests spreads over worker
 * instances when request records are placed by key hash (random generation ids, kafkajs's
 * murmur2) and round robin, through the gateway's own partition assigner. Each instance owns an
 * equal share of the 6 partitions; an instance works only its own, so the busiest one sets when
 * the burst is done. No broker: the assigner is given the topic's partitions.
 */
import { TOPIC_DEFINITIONS } from "../shared/topics.ts";
import { createPartitionAssigner } from "../worker/gateway/partition-assigner.ts";

const BURST = 48;
const bursts = Number(process.argv[2] ?? 2000);
if (!Number.isInteger(bursts) || bursts < 1) {
  console.error(`bursts must be a positive integer, not ${process.argv[2]}`);
  process.exit(2);
}
const topic = TOPIC_DEFINITIONS.requests.name;
const partitions = Array.from({ length: TOPIC_DEFINITIONS.requests.partitions }, (_, partitionId) => ({
  partitionId,
  leader: 1,
  replicas: [1],
  isr: [1],
  partitionErrorCode: 0,
  offlineReplicas: [],
}));

for (const instances of [2, 3]) {
  for (const placement of ["by-key", "round-robin"] as const) {
    const assigner = createPartitionAssigner({
      fetchPartitions: async () => partitions,
      maxAgeMs: Number.POSITIVE_INFINITY,
      roundRobin: placement === "round-robin" ? [topic] : [],
    });
    const busiest: number[] = [];
    for (let b = 0; b < bursts; b++) {
      const records = Array.from({ length: BURST }, () => ({ topic, key: crypto.randomUUID(), value: "" }));
      const perInstance = new Array<number>(instances).fill(0);
      for (const partition of await assigner.assign(records))
        perInstance[partition % instances] = (perInstance[partition % instances] ?? 0) + 1;
      busiest.push(Math.max(...perInstance));
    }
    const mean = busiest.reduce((a, b) => a + b, 0) / bursts;
    console.log(
      `${instances} instances, ${placement.padEnd(11)}: busiest instance gets ${mean.toFixed(1)} of ${BURST} on average (max ${Math.max(...busiest)}; an even share is ${BURST / instances})`,
    );
  }
}
