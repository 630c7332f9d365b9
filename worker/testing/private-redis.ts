/**
 * A redis-server of a test's own, on its own port and folder, for outage tests: killing and
 * restarting it touches nothing shared. Data does not survive a kill unless it is `persistent`:
 * then every write is on disk before it is answered (AOF, fsync always), so a kill loses nothing,
 * like a Redis with durable storage, and ACL users saved with `ACL SAVE` are loaded again on
 * `restart`, as an operator's restart of a configured Redis does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { redisAnswers } from "../../infrastructure/redis/redis-local.ts";
import { freePort } from "./process-pipeline.ts";

export async function startPrivateRedis(options: { persistent?: boolean } = {}) {
  const port = freePort();
  const dir = mkdtempSync(join(tmpdir(), "private-redis-"));
  const acl = join(dir, "users.acl");
  if (options.persistent) writeFileSync(acl, "");
  const persistence = options.persistent
    ? ["--appendonly", "yes", "--appendfsync", "always", "--aclfile", acl]
    : ["--appendonly", "no"];
  let proc: Subprocess | null = null;
  const up = async () => {
    proc = Bun.spawn(
      ["redis-server", "--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", ...persistence],
      { stdout: "ignore", stderr: "ignore" },
    );
    const started = proc;
    const until = Date.now() + 10_000;
    while (!(await redisAnswers("127.0.0.1", port))) {
      // Exited (the port was taken meanwhile) or never answered: nothing of it may outlive the throw.
      if (started.exitCode !== null || Date.now() > until) {
        started.kill("SIGKILL");
        await started.exited;
        proc = null;
        throw new Error(`private redis-server did not answer on port ${port}`);
      }
      await Bun.sleep(50);
    }
  };
  await up().catch((error) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    /** An outage: the server dies at once, as a crash or a network cut would look. */
    async kill() {
      proc?.kill("SIGKILL");
      await proc?.exited;
      proc = null;
    },
    /** A clean stop (SIGTERM), as an operator's restart begins. */
    async shutdown() {
      proc?.kill("SIGTERM");
      await proc?.exited;
      proc = null;
    },
    /** Back on the same port. */
    restart: up,
    async stop() {
      proc?.kill("SIGKILL");
      await proc?.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
export type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;
