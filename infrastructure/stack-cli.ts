/** `npm run stack:up|stack:down|stack:status`: the local broker and Redis. */
import { ensureEnvFile } from "./env-file.ts";
import { brokerAnswers, kafkaPid, stopKafka } from "./kafka/kafka-local.ts";
import { stackUp } from "./local-stack.ts";
import { stopPostgres } from "./postgres/postgres-local.ts";
import { redisPid, stopRedis } from "./redis/redis-local.ts";

const command = process.argv[2];
try {
  if (command === "up") {
    for (const line of ensureEnvFile()) console.log(`env: ${line}`);
    await stackUp(process.env, { topics: true });
  } else if (command === "down") {
    console.log(`kafka: ${await stopKafka()}`);
    console.log(`redis: ${await stopRedis()}`);
    console.log(`postgres: ${await stopPostgres()}`);
  } else if (command === "status") {
    const kafka = await brokerAnswers();
    console.log(`kafka: ${kafka ? `running (pid ${kafkaPid() ?? "external"})` : "stopped"}`);
    console.log(`redis: ${redisPid() ? `running (pid ${redisPid()})` : "not started by this project"}`);
    process.exitCode = kafka ? 0 : 3;
  } else {
    console.error("usage: stack-cli.ts up|down|status");
    process.exitCode = 2;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
