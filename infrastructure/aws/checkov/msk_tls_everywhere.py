"""TLS between clients and brokers and between brokers, stated rather than left to defaults."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class MskTlsEverywhere(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="MSK cluster encrypts client-broker (TLS only) and in-cluster traffic",
            id="CKV_PIXEL_3",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["AWS::MSK::Cluster"],
        )

    def scan_resource_conf(self, conf):
        transit = ((conf.get("Properties") or {}).get("EncryptionInfo") or {}).get("EncryptionInTransit") or {}
        ok = transit.get("ClientBroker") == "TLS" and transit.get("InCluster") is True
        return CheckResult.PASSED if ok else CheckResult.FAILED

    def get_evaluated_keys(self):
        return [
            "Properties/EncryptionInfo/EncryptionInTransit/ClientBroker",
            "Properties/EncryptionInfo/EncryptionInTransit/InCluster",
        ]


check = MskTlsEverywhere()
