export type KafkaFailureKind = "unreachable" | "auth" | "other";

/**
 * Maps kafkajs's error classes (and their causes) onto what an operator should be told. By name
 * and message: no kafkajs import is needed.
 */
export function classifyKafkaError(error: unknown): { kind: KafkaFailureKind; message: string } {
  const chain: { name?: string; message?: string; broker?: string }[] = [];
  let current: unknown = error;
  for (let i = 0; i < 5 && current && typeof current === "object"; i++) {
    chain.push(current as { name?: string; message?: string; broker?: string });
    const next = current as { originalError?: unknown; cause?: unknown };
    current = next.originalError ?? next.cause;
  }
  const names = chain.map((e) => e.name ?? "");
  const messages = [...new Set(chain.map((e) => e.message ?? "").filter(Boolean))].join(" / ");
  if (names.some((n) => n.includes("SASL")) || /SASL|authenticat/i.test(messages)) {
    return { kind: "auth", message: `authentication failed: ${chain.at(-1)?.message ?? messages}` };
  }
  if (
    names.some((n) => n === "KafkaJSConnectionError") ||
    /ECONNREFUSED|Connection (timeout|error)|ENOTFOUND/i.test(messages)
  ) {
    return { kind: "unreachable", message: messages };
  }
  return { kind: "other", message: messages || String(error) };
}
