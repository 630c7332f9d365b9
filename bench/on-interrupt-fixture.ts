/**
 * For on-interrupt.test.ts: starts a long-lived child standing for a stack's process, registers
 * its cleanup (and forgets it when told to), prints the child's pid, then waits to be signalled.
 */
import { onInterrupt } from "./on-interrupt.ts";

const child = Bun.spawn(["sleep", "60"], { stdout: "ignore" });
const forget = onInterrupt(async () => {
  child.kill();
  await child.exited;
});
if (process.argv[2] === "forget") forget();
console.log(child.pid);
setInterval(() => {}, 1000);
