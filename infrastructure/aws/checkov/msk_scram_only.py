"""Clients authenticate with SCRAM; nobody gets in unauthenticated."""

from checkov.cloudformation.checks.resource.base_resource_check import BaseResourceCheck
from checkov.common.models.enums import CheckCategories, CheckResult


class MskScramOnly(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="MSK cluster has SASL/SCRAM on and unauthenticated access explicitly off",
            id="CKV_PIXEL_2",
            categories=[CheckCategories.IAM],
            supported_resources=["AWS::MSK::Cluster"],
        )

    def scan_resource_conf(self, conf):
        auth = (conf.get("Properties") or {}).get("ClientAuthentication") or {}
        scram = ((auth.get("Sasl") or {}).get("Scram") or {}).get("Enabled")
        unauthenticated = (auth.get("Unauthenticated") or {}).get("Enabled")
        # MSK's default for Unauthenticated is on when no other method is set: demand an explicit false.
        return CheckResult.PASSED if scram is True and unauthenticated is False else CheckResult.FAILED

    def get_evaluated_keys(self):
        return [
            "Properties/ClientAuthentication/Sasl/Scram/Enabled",
            "Properties/ClientAuthentication/Unauthenticated/Enabled",
        ]


check = MskScramOnly()
