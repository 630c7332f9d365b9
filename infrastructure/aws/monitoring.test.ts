/**
 * monitoring.yml alarms on what on-call needs, on the names the code uses, tells the one SNS
 * topic, and its dashboard is valid; README "Production on AWS" explains every alarm.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sections } from "../../shared/config/variables.ts";
import { TOPIC_DEFINITIONS } from "../../shared/topics.ts";
import { ROOT } from "../paths.ts";
import { readTemplate, TEMPLATES } from "./template-checks.ts";

const t = readTemplate(TEMPLATES.monitoring);
const services = readTemplate(TEMPLATES.services);
const alarms = Object.entries(t.Resources).filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm");
const alarm = (name: string) => {
  const found = t.Resources[name];
  if (found?.Type !== "AWS::CloudWatch::Alarm") throw new Error(`no alarm ${name}`);
  return { ...found, text: JSON.stringify(found.Properties) };
};

describe("the alarms", () => {
  test.each([
    ["KafkaOfflinePartitions", "OfflinePartitionsCount", "GreaterThanThreshold"],
    ["KafkaUnderReplicatedPartitions", "UnderReplicatedPartitions", "GreaterThanThreshold"],
    ["KafkaUnderMinIsrPartitions", "UnderMinIsrPartitionCount", "GreaterThanThreshold"],
    ["KafkaDiskUsed", "KafkaDataLogsDiskUsed", "GreaterThanThreshold"],
    ["KafkaBrokerCpu", "CpuUser", "GreaterThanThreshold"],
    ["KafkaCpuCredits", "CPUCreditBalance", "LessThanThreshold"],
    ["WorkersBacklog", "SumOffsetLag", "GreaterThanThreshold"],
    ["WorkersLagTime", "EstimatedMaxTimeLag", "GreaterThanThreshold"],
    ["RelayLagTime", "EstimatedMaxTimeLag", "GreaterThanThreshold"],
    ["HistoryLagTime", "EstimatedMaxTimeLag", "GreaterThanThreshold"],
    ["FailedGenerations", "MessagesInPerSec", "GreaterThanThreshold"],
    ["DeadLetters", "MessagesInPerSec", "GreaterThanThreshold"],
    ["GatewayErrors", "HTTPCode_Target_5XX_Count", "GreaterThanThreshold"],
    ["WsErrors", "HTTPCode_ELB_5XX_Count", "GreaterThanThreshold"],
    ["WorkerTasksMissing", "RunningTaskCount", "GreaterThanThreshold"],
    ["GatewayTasksMissing", "RunningTaskCount", "GreaterThanThreshold"],
    ["RelayTasksMissing", "RunningTaskCount", "GreaterThanThreshold"],
    ["HistoryTasksMissing", "RunningTaskCount", "GreaterThanThreshold"],
  ])("%s watches %s", (name, metric, comparison) => {
    const a = alarm(name);
    expect(a.text).toContain(metric);
    expect(a.Properties.ComparisonOperator).toBe(comparison);
    expect(a.Properties.AlarmActions).toEqual([{ Ref: "AlarmTopic" }]);
    expect(a.Properties.OKActions).toEqual([{ Ref: "AlarmTopic" }]);
    expect(String(a.Properties.AlarmDescription).length).toBeGreaterThan(60);
  });

  test("those are all of them, and the thresholds on-call agreed to", () => {
    expect(alarms).toHaveLength(18);
    expect(t.Mappings.Thresholds?.Brokers?.DiskUsedPercent).toBe(80);
    expect(alarm("KafkaOfflinePartitions").Properties.Threshold).toBe(0);
    expect(alarm("KafkaUnderMinIsrPartitions").Properties.Threshold).toBe(0);
    expect(alarm("KafkaCpuCredits").Condition).toBe("IsBurstable");
    for (const name of ["GatewayErrors", "WsErrors", "WorkerTasksMissing", "RelayTasksMissing"])
      expect(alarm(name).Condition).toBe("HasServices");
  });

  test("topic and consumer group names are the code's", () => {
    const topics = t.Mappings.Topics as Record<string, { Name: string }>;
    expect(topics.Requests?.Name).toBe(TOPIC_DEFINITIONS.requests.name);
    expect(topics.Status?.Name).toBe(TOPIC_DEFINITIONS.status.name);
    expect(topics.Complete?.Name).toBe(TOPIC_DEFINITIONS.complete.name);
    expect(topics.Failed?.Name).toBe(TOPIC_DEFINITIONS.failed.name);
    expect(topics.DeadLetter?.Name).toBe(TOPIC_DEFINITIONS.deadLetter.name);
    // Each topic alarm watches its topic by the mapping, never a name typed (or passed) elsewhere.
    expect(alarm("FailedGenerations").text).toContain('"Fn::FindInMap":["Topics","Failed","Name"]');
    expect(alarm("DeadLetters").text).toContain('"Fn::FindInMap":["Topics","DeadLetter","Name"]');
    const groups = t.Mappings.Groups as Record<string, { Name: string }>;
    expect(groups.Workers?.Name).toBe(sections.kafka.consumerGroup.default);
    expect(groups.Relay?.Name).toBe(sections.kafka.relayGroup.default);
    expect(groups.History?.Name).toBe(sections.kafka.historyGroup.default);
  });

  test("task alarms name the services the services stack creates", () => {
    const names = Object.values(services.Resources)
      .filter((r) => r.Type === "AWS::ECS::Service")
      .map((r) => r.Properties.ServiceName as string);
    for (const service of names)
      expect(alarm(`${service[0]?.toUpperCase()}${service.slice(1)}TasksMissing`).text).toContain(
        `"Value":"${service}"`,
      );
  });

  test("the alarm topic is encrypted with a key CloudWatch may use, and mails on-call when an address is set", () => {
    expect(t.Resources.AlarmTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: "AlarmKey" });
    expect(JSON.stringify(t.Resources.AlarmKey?.Properties)).toContain('"Service":"cloudwatch.amazonaws.com"');
    expect(t.Resources.AlarmEmailSubscription).toMatchObject({
      Condition: "HasEmail",
      Properties: { Protocol: "email" },
    });
  });

  test("the dashboard is valid JSON and shows what the alarms watch", () => {
    const dashboard = t.Resources.Dashboard?.Properties.DashboardBody as { "Fn::Sub": string };
    // What CloudFormation's Fn::Sub makes of the body, for one environment and region.
    const body = dashboard["Fn::Sub"].replace(/\$\{Environment\}/g, "dev").replace(/\$\{AWS::Region\}/g, "eu-west-1");
    const json = JSON.parse(body);
    const shown = JSON.stringify(json);
    for (const metric of [
      "OfflinePartitionsCount",
      "UnderReplicatedPartitions",
      "UnderMinIsrPartitionCount",
      "KafkaDataLogsDiskUsed",
    ])
      expect(shown).toContain(metric);
    for (const metric of [
      "CPUCreditBalance",
      "SumOffsetLag",
      "EstimatedMaxTimeLag",
      "MessagesInPerSec",
      "HTTPCode_Target_5XX_Count",
    ])
      expect(shown).toContain(metric);
    expect(shown).toContain("RunningTaskCount");
  });

  test("README, Production on AWS, says what each alarm means", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Production on AWS"));
    expect(section.length).toBeGreaterThan(1000);
    const missing = alarms
      .map(([, a]) => String((a.Properties.AlarmName as { "Fn::Sub": string })["Fn::Sub"]))
      .map((n) => n.replace(/^pixel-studio-\$\{Environment\}-/, ""))
      .filter((n) => !section.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });
});
