/**
 * The Upstash REST wire format: command bodies in, `{result}` / `{error}` out. With the header
 * `Upstash-Encoding: base64`, every string in a result is base64 of its UTF-8 bytes except a
 * bare "OK" (as Upstash documents); numbers and nulls stay JSON. @upstash/redis asks for base64
 * by default and decodes exactly this.
 */
import { RedisReplyError } from "../redis/redis-client.ts";

export type Command = [string, ...string[]];
export type Entry = { result: unknown } | { error: string };

/** The command, or a message saying what is wrong with `body`. */
export function parseCommand(body: unknown): Command | string {
  if (!Array.isArray(body) || body.length === 0) return "ERR a command must be a non-empty JSON array";
  const [name, ...rest] = body;
  if (typeof name !== "string" || name === "") return "ERR the command name must be a non-empty string";
  const args: string[] = [];
  for (const arg of rest) {
    if (typeof arg === "string") args.push(arg);
    else if ((typeof arg === "number" && Number.isFinite(arg)) || typeof arg === "boolean") args.push(String(arg));
    else return "ERR command arguments must be strings, numbers or booleans";
  }
  return [name.toUpperCase(), ...args];
}

/** The commands of a /pipeline or /multi-exec body, or a message saying what is wrong. */
export function parseCommands(body: unknown): Command[] | string {
  if (!Array.isArray(body) || body.length === 0) return "ERR the body must be a non-empty JSON array of commands";
  const commands: Command[] = [];
  for (const [i, item] of body.entries()) {
    const parsed = parseCommand(item);
    if (typeof parsed === "string") return `${parsed} (command ${i + 1})`;
    commands.push(parsed);
  }
  return commands;
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

/** A reply as JSON; an error nested in an array (a Lua table) becomes its message text. */
export function encodeResult(reply: unknown, asBase64: boolean): unknown {
  if (typeof reply === "string") return asBase64 && reply !== "OK" ? base64(reply) : reply;
  if (reply === null || reply === undefined) return null;
  if (typeof reply === "number") return reply;
  if (Array.isArray(reply)) return reply.map((item) => encodeResult(item, asBase64));
  if (reply instanceof Error) return encodeResult(reply.message, asBase64);
  return encodeResult(String(reply), asBase64);
}

/** One entry of a /pipeline or /multi-exec answer; error text is never base64, as the client expects. */
export function encodeEntry(reply: unknown, asBase64: boolean): Entry {
  if (reply instanceof RedisReplyError) return { error: reply.message };
  return { result: encodeResult(reply, asBase64) };
}
