/**
 * msk-cluster.yml keeps the seed's promises: SCRAM-SHA-512 over TLS on 9096 from the
 * application's group only, KMS at rest, CloudWatch logs, enhanced monitoring per topic per
 * partition, two dev / three prod brokers of 100 GB, replication those brokers can hold.
 */
import { describe, expect, test } from "bun:test";
import { TOPIC_DEFINITIONS } from "../../shared/topics.ts";
import { readTemplate } from "../aws/template-checks.ts";
import { KAFKA_VERSION } from "./kafka-local.ts";

const t = readTemplate("infrastructure/kafka/msk-cluster.yml");
// biome-ignore lint/suspicious/noExplicitAny: template JSON; the tests assert its shapes.
const resource = (name: string) => t.Resources[name]?.Properties as Record<string, any>;
const cluster = resource("KafkaCluster");
const env = t.Mappings.EnvironmentSettings as Record<"dev" | "prod", Record<string, number>>;
const keyRef = { "Fn::GetAtt": ["KafkaKey", "Arn"] };

describe("the MSK cluster template", () => {
  test("a provisioned cluster in KRaft mode on the local broker's Kafka line", () => {
    expect(t.Resources.KafkaCluster?.Type).toBe("AWS::MSK::Cluster");
    const version = t.Mappings.Kafka?.Version?.Name as string;
    expect(version).toBe(`${KAFKA_VERSION.split(".").slice(0, 2).join(".")}.x.kraft`);
    expect(resource("KafkaConfiguration").KafkaVersionsList).toEqual([
      { "Fn::FindInMap": ["Kafka", "Version", "Name"] },
    ]);
  });

  test("SCRAM on, IAM and unauthenticated access off, TLS client-broker and in-cluster, no public access", () => {
    expect(cluster.ClientAuthentication).toEqual({
      Sasl: { Scram: { Enabled: true }, Iam: { Enabled: false } },
      Unauthenticated: { Enabled: false },
    });
    expect(cluster.EncryptionInfo.EncryptionInTransit).toEqual({ ClientBroker: "TLS", InCluster: true });
    expect(cluster.BrokerNodeGroupInfo.ConnectivityInfo).toEqual({ PublicAccess: { Type: "DISABLED" } });
  });

  test("one customer key, rotated, encrypts the data volumes, the broker logs and the SCRAM secret", () => {
    expect(resource("KafkaKey").EnableKeyRotation).toBe(true);
    expect(cluster.EncryptionInfo.EncryptionAtRest).toEqual({ DataVolumeKMSKeyId: keyRef });
    expect(resource("BrokerLogGroup").KmsKeyId).toEqual(keyRef);
    expect(resource("ScramSecret").KmsKeyId).toEqual({ Ref: "KafkaKey" });
  });

  test("the SCRAM secret is named AmazonMSK_… and associated with the cluster", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, literally.
    expect(resource("ScramSecret").Name).toEqual({ "Fn::Sub": "AmazonMSK_pixel-studio-${Environment}" });
    expect(resource("ScramSecretAssociation")).toEqual({
      ClusterArn: { Ref: "KafkaCluster" },
      SecretArnList: [{ Ref: "ScramSecret" }],
    });
  });

  test("brokers log to the log group, which keeps them for a bounded time", () => {
    expect(cluster.LoggingInfo.BrokerLogs.CloudWatchLogs).toEqual({
      Enabled: true,
      LogGroup: { Ref: "BrokerLogGroup" },
    });
    expect(env.dev.LogRetentionDays).toBeGreaterThan(0);
    expect(env.prod.LogRetentionDays).toBeGreaterThanOrEqual(env.dev.LogRetentionDays ?? 0);
  });

  test("enhanced monitoring per topic per partition, and open monitoring for Prometheus", () => {
    expect(cluster.EnhancedMonitoring).toBe("PER_TOPIC_PER_PARTITION");
    expect(cluster.OpenMonitoring.Prometheus).toEqual({
      JmxExporter: { EnabledInBroker: true },
      NodeExporter: { EnabledInBroker: true },
    });
  });

  test("dev 2 brokers, prod 3, each with 100 GB; the broker type is a parameter", () => {
    expect([env.dev.Brokers, env.prod.Brokers]).toEqual([2, 3]);
    expect(cluster.NumberOfBrokerNodes).toEqual({
      "Fn::FindInMap": ["EnvironmentSettings", { Ref: "Environment" }, "Brokers"],
    });
    expect(t.Mappings.Kafka?.Storage?.VolumeSizeGiB).toBe(100);
    expect(cluster.BrokerNodeGroupInfo.StorageInfo.EBSStorageInfo.VolumeSize).toEqual({
      "Fn::FindInMap": ["Kafka", "Storage", "VolumeSizeGiB"],
    });
    expect(t.Parameters.BrokerInstanceType?.Default).toBe("kafka.t3.small");
    expect(cluster.BrokerNodeGroupInfo.InstanceType).toEqual({ Ref: "BrokerInstanceType" });
  });

  test("replication the brokers can hold, so one broker down (patching) keeps acks=all writes going", () => {
    for (const e of [env.dev, env.prod]) {
      expect(e.ReplicationFactor).toBeLessThanOrEqual(e.Brokers ?? 0);
      expect(e.MinInsyncReplicas).toBeLessThan(e.ReplicationFactor ?? 0);
    }
    const properties = resource("KafkaConfiguration").ServerProperties["Fn::Sub"][0] as string;
    expect(properties).toContain("auto.create.topics.enable=false\n");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub, literally.
    expect(properties).toContain("min.insync.replicas=${MinInsyncReplicas}\n");
    expect(properties).toContain("unclean.leader.election.enable=false\n");
    // More partitions than brokers: every topic spreads over every broker.
    expect(Math.min(...Object.values(TOPIC_DEFINITIONS).map((d) => d.partitions))).toBeGreaterThanOrEqual(
      env.prod.Brokers ?? 0,
    );
  });

  test("the brokers admit SCRAM over TLS (9096) and their exporters from the application's group only", () => {
    const group = resource("BrokerSecurityGroup");
    expect(
      group.SecurityGroupIngress.map((r: Record<string, unknown>) => [r.FromPort, r.ToPort, r.SourceSecurityGroupId]),
    ).toEqual([
      [9096, 9096, { Ref: "AppSecurityGroupId" }],
      [11001, 11002, { Ref: "AppSecurityGroupId" }],
    ]);
    expect(JSON.stringify(group)).not.toMatch(/CidrIp"\s*:\s*"0\.0\.0\.0\/0|9092/);
  });
});
