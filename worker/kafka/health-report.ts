import { formatDuration } from "../../shared/topics.ts";
import type { HealthReport } from "./cluster-health.ts";

/** The human-readable form of a health report, as `kafka:health` prints it. */
export function formatHealthReport(report: HealthReport): string {
  const lines: string[] = [];
  if (report.brokers.length) {
    lines.push("Brokers:");
    for (const b of report.brokers)
      lines.push(`  ${b.nodeId}  ${b.host}:${b.port}${b.nodeId === report.controller ? "  (controller)" : ""}`);
  }
  if (report.topics.length) {
    lines.push("Topics:");
    for (const t of report.topics) {
      if (!t.present) {
        lines.push(`  ✗ ${t.name}  missing`);
        continue;
      }
      const healthy =
        t.partitions === t.expectedPartitions &&
        t.retentionMs === t.expectedRetentionMs &&
        t.underReplicatedPartitions === 0;
      const retention = t.retentionMs === null ? "default" : formatDuration(t.retentionMs);
      lines.push(
        `  ${healthy ? "✓" : "✗"} ${t.name}  partitions ${t.partitions}/${t.expectedPartitions}  retention ${retention}` +
          `  replicas ${t.replicationFactor}  in sync ${t.underReplicatedPartitions === 0 ? "all" : `${t.partitions - t.underReplicatedPartitions}/${t.partitions}`}`,
      );
    }
  }
  if (report.brokers.length) {
    lines.push("Consumer groups:");
    if (report.groups.length === 0) lines.push("  (none consuming these topics)");
    for (const g of report.groups) {
      const perTopic = Object.entries(g.lagByTopic)
        .map(([topic, lag]) => `${topic}=${lag}`)
        .join(", ");
      lines.push(`  ${g.groupId}  ${g.state}  members ${g.members}  lag ${g.lag}  (${perTopic})`);
    }
  }
  const dead = report.deadLetters;
  if (dead) {
    lines.push(`Dead letters: ${dead.parked === 0 ? "none" : `⚠ ${dead.parked} parked`} in ${dead.topic}`);
    for (const g of dead.groups)
      lines.push(
        `  ${g.consumer} ← ${g.source}  ${g.code} ×${g.count}  last ${g.lastAt}: ${g.lastReason.slice(0, 200)}`,
      );
  }
  lines.push(report.ok ? "OK" : `UNHEALTHY: ${report.problems.join("; ")}`);
  return lines.join("\n");
}
