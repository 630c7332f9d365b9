/**
 * `npm test`: installs what is missing (one serialised step), starts the real broker, Redis and
 * PostgreSQL and installs the CloudFormation checkers (a pip venv, after apt is done) in
 * parallel, runs `bun test`, and ends with the line `N passed, N failed` that CI
 * reads. Extra arguments go to `bun test`.
 */
import { ensurePythonTools } from "./aws/python-tools.ts";
import { stackUp } from "./local-stack.ts";
import { startPostgres } from "./postgres/postgres-local.ts";
import { ensureSystemPackages, FOR_TEST } from "./system-packages.ts";

const log = (line: string) => console.log(`[stack] ${line}`);
try {
  await ensureSystemPackages(FOR_TEST, { log });
  await Promise.all([stackUp(process.env, { topics: false, log }), startPostgres({ log }), ensurePythonTools({ log })]);
} catch (error) {
  console.error(`[stack] ${error instanceof Error ? error.message : String(error)}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

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
