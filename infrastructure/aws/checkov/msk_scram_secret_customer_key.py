"""MSK only reads SCRAM users from secrets named AmazonMSK_... under a customer KMS key."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


def literal_text(value):
    """The template text of a plain or Fn::Sub string, else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0] if isinstance(sub, list) and sub else None
    return None


class MskScramSecretCustomerKey(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="MSK SCRAM secrets (AmazonMSK_*) are encrypted with a customer-managed KMS key",
            id="CKV_PIXEL_1",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["AWS::SecretsManager::Secret"],
        )

    def scan_resource_conf(self, conf):
        props = conf.get("Properties") or {}
        name = literal_text(props.get("Name"))
        if name is None or not name.startswith("AmazonMSK_"):
            return CheckResult.UNKNOWN
        key = props.get("KmsKeyId")
        if key is None:
            return CheckResult.FAILED
        text = literal_text(key)
        if text is not None and ("alias/aws/" in text or text == "aws/secretsmanager"):
            return CheckResult.FAILED
        return CheckResult.PASSED

    def get_evaluated_keys(self):
        return ["Properties/Name", "Properties/KmsKeyId"]


check = MskScramSecretCustomerKey()
