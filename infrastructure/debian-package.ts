/**
 * Finds a program from one of Debian's packages, installing the package with apt-get when it
 * is missing and we are root (CI, fresh machines); otherwise says exactly what to install.
 */
import { existsSync } from "node:fs";

export async function ensureDebianProgram(
  program: string,
  pkg: string,
  log: (line: string) => void,
  hint = "",
): Promise<string> {
  const find = () => Bun.which(program) ?? (existsSync(program) ? program : null);
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0 || !Bun.which("apt-get"))
    throw new Error(`${program} is not installed: run \`sudo apt-get install ${pkg}\`${hint}`);
  log(`installing Debian's ${pkg} (first run only)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const cmd of [
    ["apt-get", "update", "-qq"],
    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg],
  ]) {
    const code = await Bun.spawn(cmd, { env, stdout: "ignore", stderr: "inherit" }).exited;
    if (code !== 0) throw new Error(`${cmd.join(" ")} failed with exit ${code}`);
  }
  const installed = find();
  if (!installed) throw new Error(`${program} still missing after apt-get install ${pkg}`);
  return installed;
}
