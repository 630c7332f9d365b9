/**
 * `npm test`: provisions and starts the real broker and Redis (and PostgreSQL and Chromium),
 * runs `bun test`, and ends with
 * the line `N passed, N failed` that CI reads. Extra arguments go to `bun test`.
 */
import { ensureChromium } from "./browser/chromium.ts";
import { stackUp } from "./local-stack.ts";
import { startPostgres } from "./postgres/postgres-local.ts";

const log = (line: string) => console.log(`[stack] ${line}`);
await Promise.all([stackUp(process.env, { topics: false, log }), ensureChromium(log), startPostgres({ log })]);

const proc = Bun.spawn([process.execPath, "test", "--timeout", "90000", ...process.argv.slice(2)], {
  stdout: "pipe",
  stderr: "pipe",
  env: { ...process.env, FORCE_COLOR: "0" },
});
let transcript = "";
const pump = async (stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream) => {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    transcript += text;
    out.write(text);
  }
};
await Promise.all([pump(proc.stdout, process.stdout), pump(proc.stderr, process.stderr)]);
const code = await proc.exited;
const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}$`, "m").exec(transcript)?.[1] ?? 0);
const passed = count("pass");
const failed = count("fail");
console.log(`${passed} passed, ${failed} failed`);
process.exit(code !== 0 ? code : passed === 0 ? 1 : 0);
