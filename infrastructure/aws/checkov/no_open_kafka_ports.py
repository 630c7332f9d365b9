"""No security group admits the whole internet to a Kafka broker or its monitoring ports."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult

# MSK's client listeners (plaintext, TLS, SCRAM, IAM, public SCRAM/IAM), ZooKeeper and open monitoring.
KAFKA_PORTS = [9092, 9094, 9096, 9098, 9196, 9198, 2181, 2182, 11001, 11002]
OPEN = {"0.0.0.0/0", "::/0"}


def port_number(value, default):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def admits_world_to_kafka(rule):
    if not isinstance(rule, dict):
        return False
    if rule.get("CidrIp") not in OPEN and rule.get("CidrIpv6") not in OPEN:
        return False
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6"):
        return False
    low = port_number(rule.get("FromPort"), 0)
    high = port_number(rule.get("ToPort"), 65535)
    if low == -1 or high == -1:
        return True
    return any(low <= port <= high for port in KAFKA_PORTS)


class NoOpenKafkaPorts(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="No security group rule admits 0.0.0.0/0 or ::/0 to a Kafka broker port",
            id="CKV_PIXEL_4",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"],
        )

    def scan_resource_conf(self, conf):
        props = conf.get("Properties") or {}
        if conf.get("Type") == "AWS::EC2::SecurityGroupIngress":
            rules = [props]
        else:
            rules = props.get("SecurityGroupIngress") or []
        if not isinstance(rules, list):
            return CheckResult.UNKNOWN
        return CheckResult.FAILED if any(admits_world_to_kafka(r) for r in rules) else CheckResult.PASSED


check = NoOpenKafkaPorts()
