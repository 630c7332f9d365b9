/** `bun infrastructure/kafka/kafka-cli.ts start|stop|status`: the local broker, idempotently. */
import { residentMiB } from "../process-tools.ts";
import {
  brokerAnswers,
  KAFKA_VERSION,
  kafkaPid,
  PLAINTEXT_BROKER,
  SASL_SSL_BROKER,
  startKafka,
  stopKafka,
} from "./kafka-local.ts";

const command = process.argv[2];
try {
  if (command === "start") {
    const r = await startKafka();
    const mem = r.pid > 0 ? residentMiB(r.pid) : null;
    console.log(
      r.alreadyRunning
        ? `kafka: already running (pid ${r.pid}) on ${PLAINTEXT_BROKER}`
        : `kafka: Apache Kafka ${KAFKA_VERSION} (KRaft) up on ${PLAINTEXT_BROKER} (SASL_SSL on ${SASL_SSL_BROKER}) in ${r.startedMs} ms, pid ${r.pid}${mem ? `, ${mem} MiB resident` : ""}`,
    );
  } else if (command === "stop") {
    console.log(`kafka: ${await stopKafka()}`);
  } else if (command === "status") {
    const pid = kafkaPid();
    const answers = await brokerAnswers();
    const mem = pid ? residentMiB(pid) : null;
    console.log(
      answers
        ? `kafka: running${pid ? ` (pid ${pid}${mem ? `, ${mem} MiB resident` : ""})` : ""}, answering on ${PLAINTEXT_BROKER}`
        : pid
          ? `kafka: process ${pid} is up but the broker does not answer on ${PLAINTEXT_BROKER}`
          : "kafka: stopped",
    );
    process.exitCode = answers ? 0 : 3;
  } else {
    console.error("usage: kafka-cli.ts start|stop|status");
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`kafka: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
