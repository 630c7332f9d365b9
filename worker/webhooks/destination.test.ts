/**
 * Delivery-time destination checks and address pinning, on real loopback sockets. Resolver
 * answers come from a stand-in (no DNS is reachable here): it behaves as getaddrinfo does,
 * returning every address of a name, and can change its answer between calls (rebinding).
 * No test ever connects anywhere but 127.0.0.0/8.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { postPinned, type ResolvedAddress, resolveDestination } from "./destination.ts";

const deny = { allowPrivate: false, allowHttp: false };
const local = { allowPrivate: true, allowHttp: false };

/** A resolver stand-in answering from a table, counting its calls. */
function resolver(answers: Record<string, ResolvedAddress[][]>) {
  const calls: string[] = [];
  return {
    calls,
    resolve: async (name: string) => {
      calls.push(name);
      const list = answers[name];
      if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" });
      return list[Math.min(calls.filter((c) => c === name).length - 1, list.length - 1)] ?? [];
    },
  };
}
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

const refusal = async (url: string, policy = deny, answers: Record<string, ResolvedAddress[][]> = {}) => {
  const r = resolver(answers);
  try {
    await resolveDestination(url, policy, r.resolve);
    return { refused: null, calls: r.calls };
  } catch (error) {
    return { refused: (error as { code?: string }).code ?? "?", message: (error as Error).message, calls: r.calls };
  }
};

describe("resolveDestination refuses every non-public destination before connecting", () => {
  test.each([
    "https://[::ffff:7f00:1]/hook",
    "https://[::ffff:a9fe:a9fe]/hook",
    "https://[::7f00:1]/hook",
    "https://localhost./hook",
    "https://0.0.0.1/hook",
    "https://100.64.0.1/hook",
    "https://[fec0::1]/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://10.1.2.3/hook",
    "https://0x7f.1/hook",
    "https://2130706433/hook",
    "https://metadata/hook",
    "https://hooks.example.com:8443/hook",
    "http://hooks.example.com/hook",
    "https://user:pass@hooks.example.com/hook",
  ])("%s", async (url) => {
    const result = await refusal(url);
    expect(result.refused).toBe("webhook_destination_refused");
    // Refused from the URL alone: no resolver was asked.
    expect(result.calls).toEqual([]);
  });

  test.each([
    [[v4("127.0.0.1")]],
    [[v4("10.0.0.5")]],
    [[v6("::ffff:127.0.0.1")]],
    [[v6("fd00::5")]],
    [[v4("100.64.1.1")]],
    // Every address counts: one private answer among public ones refuses the name.
    [[v4("8.8.8.8"), v4("192.168.1.10")]],
    [[v6("2606:4700::1111"), v6("::1")]],
  ])("a DNS name resolving to %j", async (answer) => {
    const result = await refusal("https://hooks.example.com/hook", deny, { "hooks.example.com": [answer] });
    expect(result.refused).toBe("webhook_destination_refused");
    expect(result.calls).toEqual(["hooks.example.com"]);
  });

  test("a name resolving only to public addresses is pinned to the first, resolved once", async () => {
    const r = resolver({ "hooks.example.com": [[v4("8.8.8.8"), v4("1.1.1.1")]] });
    const destination = await resolveDestination("https://hooks.example.com/h?x=1", deny, r.resolve);
    expect(destination).toMatchObject({ address: "8.8.8.8", family: 4 });
    expect(destination.url.toString()).toBe("https://hooks.example.com/h?x=1");
    expect(r.calls).toEqual(["hooks.example.com"]);
  });

  test("http on port 80 only when WEBHOOK_ALLOW_HTTP is set", async () => {
    const allowHttp = { allowPrivate: false, allowHttp: true };
    const answers = { "hooks.example.com": [[v4("8.8.8.8")]] };
    expect((await refusal("http://hooks.example.com/hook", allowHttp, answers)).refused).toBeNull();
    expect((await refusal("http://hooks.example.com:8080/hook", allowHttp, answers)).refused).toBe(
      "webhook_destination_refused",
    );
  });

  test("a name that does not resolve is a transient failure, retried later", async () => {
    const result = await refusal("https://nowhere.example.com/hook");
    expect(result.refused).toBe("webhook_dns_failed");
  });
});

describe("the connection goes to the checked address", () => {
  const hits: { server: string; host: string | null; path: string }[] = [];
  const servers: Server<undefined>[] = [];
  let port = 0;
  let certDir = "";
  let ca = "";

  beforeAll(() => {
    // Two loopback addresses on one port: the answer a rebinding resolver gives second is the other.
    const first = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (r) => {
        hits.push({ server: "127.0.0.1", host: r.headers.get("host"), path: new URL(r.url).pathname });
        return new Response(null, { status: 204 });
      },
    });
    port = first.port ?? 0;
    const second = Bun.serve({
      hostname: "127.0.0.2",
      port,
      fetch: (r) => {
        hits.push({ server: "127.0.0.2", host: r.headers.get("host"), path: new URL(r.url).pathname });
        return new Response(null, { status: 204 });
      },
    });
    servers.push(first, second);
    certDir = mkdtempSync(join(tmpdir(), "webhook-tls-"));
    const made = Bun.spawnSync([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=hooks.example.test",
      "-addext",
      "subjectAltName=DNS:hooks.example.test",
      "-keyout",
      join(certDir, "key.pem"),
      "-out",
      join(certDir, "cert.pem"),
    ]);
    if (made.exitCode !== 0) throw new Error(`openssl: ${made.stderr.toString()}`);
    ca = readFileSync(join(certDir, "cert.pem"), "utf8");
  });
  afterAll(async () => {
    for (const s of servers) await s.stop(true);
    rmSync(certDir, { recursive: true, force: true });
  });

  const post = { headers: { "content-type": "application/json" }, body: "{}", timeoutMs: 5000 };

  test("DNS rebinding: a resolver changing its answer after the check is never asked again", async () => {
    hits.length = 0;
    const r = resolver({ "hooks.example.test": [[v4("127.0.0.1")], [v4("127.0.0.2")]] });
    const destination = await resolveDestination(`http://hooks.example.test:${port}/a`, local, r.resolve);
    expect(await postPinned(destination, post)).toBe(204);
    expect(r.calls).toEqual(["hooks.example.test"]);
    expect(hits).toEqual([{ server: "127.0.0.1", host: `hooks.example.test:${port}`, path: "/a" }]);
  });

  test("https: the pinned connection carries the name for Host, SNI and the certificate check", async () => {
    const tls = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { key: Bun.file(join(certDir, "key.pem")), cert: Bun.file(join(certDir, "cert.pem")) },
      fetch: (r) => new Response(r.headers.get("host"), { status: 202 }),
    });
    servers.push(tls);
    const r = resolver({ "hooks.example.test": [[v4("127.0.0.1")]], "other.example.test": [[v4("127.0.0.1")]] });
    const good = await resolveDestination(`https://hooks.example.test:${tls.port}/`, local, r.resolve);
    expect(await postPinned(good, { ...post, ca })).toBe(202);
    // The same address under a name the certificate does not cover fails verification.
    const wrongName = await resolveDestination(`https://other.example.test:${tls.port}/`, local, r.resolve);
    await expect(postPinned(wrongName, { ...post, ca })).rejects.toThrow(/altnames|hostname/i);
    // Without our test CA the certificate is not trusted at all.
    await expect(postPinned(good, post)).rejects.toThrow(/self.signed|certificate/i);
  });
});
