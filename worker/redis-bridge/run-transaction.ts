/**
 * MULTI … EXEC on a connection nobody else is using, written in one go so the whole
 * transaction costs one round trip. As on Upstash, a command that fails while executing leaves
 * the others applied (its entry is an error), while one Redis refuses to queue (unknown
 * command, wrong arity) discards the transaction.
 */
import { ProgrammerError } from "../../shared/errors.ts";
import { type Redis, RedisReplyError } from "../redis/redis-client.ts";
import type { Command } from "./rest-wire.ts";

export type TransactionOutcome = { executed: unknown[] } | { discarded: string };

/** Throws only when the connection failed, so the caller knows not to reuse it. */
export async function runTransaction(redis: Redis, commands: readonly Command[]): Promise<TransactionOutcome> {
  const sent = [
    redis.send("MULTI", []),
    ...commands.map(([name, ...args]) => redis.send(name, args)),
    redis.send("EXEC", []),
  ];
  const settled = await Promise.allSettled(sent);
  const failures = settled.flatMap((s) => (s.status === "rejected" ? [s.reason as unknown] : []));
  const broken = failures.find((reason) => !(reason instanceof RedisReplyError));
  if (broken !== undefined) throw broken;
  const [multi, ...rest] = settled;
  const exec = rest.pop();
  if (multi?.status !== "fulfilled") throw new ProgrammerError("MULTI was refused on a dedicated connection");
  if (exec?.status === "fulfilled" && Array.isArray(exec.value)) return { executed: exec.value };
  const execError = exec?.status === "rejected" ? (exec.reason as Error).message : "EXECABORT Transaction discarded";
  const refused = rest.find((s): s is PromiseRejectedResult => s.status === "rejected");
  return { discarded: refused ? `${execError} ${(refused.reason as Error).message}` : execError };
}
