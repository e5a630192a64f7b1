"""Deploys infra/member-account.yaml into the local emulator (moto's CloudFormation) and reads
back what it created: the documents must be shared/policies/*.json rendered with the same
values, and the role and boundary exactly as the functions expect them.

Needs the emulator: run through `make test` (scripts/with-emulator.sh sets AWS_ENDPOINT_URL).
Never runs against anything but a loopback endpoint.
"""
import os
import unittest
import uuid
from urllib.parse import urlparse

import cfn

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "")
LOCAL = urlparse(ENDPOINT).hostname in ("127.0.0.1", "localhost", "::1")


@unittest.skipUnless(LOCAL, "needs the local emulator (AWS_ENDPOINT_URL on loopback): make test")
class MemberStackInTheEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import boto3

        cls.cfn = boto3.client("cloudformation")
        cls.iam = boto3.client("iam")
        cls.account = boto3.client("sts").get_caller_identity()["Account"]
        cls.parameters = cfn.example_parameters()
        cls.stack = f"gatehouse-member-{uuid.uuid4().hex[:8]}"
        with open(cfn.INFRA / "member-account.yaml", encoding="utf-8") as f:
            body = f.read()
        cls.cfn.create_stack(
            StackName=cls.stack,
            TemplateBody=body,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[
                {
                    "ParameterKey": k,
                    "ParameterValue": ",".join(v) if isinstance(v, list) else v,
                }
                for k, v in cls.parameters.items()
            ],
        )
        stack = cls.cfn.describe_stacks(StackName=cls.stack)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        cls.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        cls.values = cfn.member_values(cls.account, "aws", cls.parameters)
        cls.role_name = cls.parameters["ProvisionerRoleName"]
        cls.boundary_arn = f"arn:aws:iam::{cls.account}:policy/gatehouse/GatehouseUserBoundary"

    @classmethod
    def tearDownClass(cls):
        cls.cfn.delete_stack(StackName=cls.stack)

    def expected(self, filename):
        return cfn.render_policy_file(filename, self.values)

    def test_the_boundary_is_the_shared_document(self):
        policy = self.iam.get_policy(PolicyArn=self.boundary_arn)["Policy"]
        self.assertEqual(policy["Path"], "/gatehouse/")
        version = self.iam.get_policy_version(
            PolicyArn=self.boundary_arn, VersionId=policy["DefaultVersionId"]
        )
        self.assertEqual(version["PolicyVersion"]["Document"], self.expected("user-boundary.json"))
        self.assertEqual(self.outputs["UserBoundaryArn"], self.boundary_arn)

    def test_the_role_trusts_exactly_the_shared_trust_document(self):
        role = self.iam.get_role(RoleName=self.role_name)["Role"]
        self.assertEqual(role["AssumeRolePolicyDocument"], self.expected("provisioner-trust.json"))
        self.assertEqual(role["Path"], "/gatehouse/")
        self.assertEqual(role["MaxSessionDuration"], 3600)
        self.assertEqual(
            role["Description"], "Gatehouse: manages IAM users, groups and policies under /gatehouse/"
        )
        self.assertIn({"Key": "gatehouse:role", "Value": "provisioner"}, role.get("Tags", []))
        self.assertEqual(self.outputs["ProvisionerRoleArn"], role["Arn"])
        self.assertEqual(
            role["Arn"], f"arn:aws:iam::{self.account}:role/gatehouse/{self.role_name}"
        )

    def test_the_role_holds_exactly_the_shared_permissions_inline(self):
        names = self.iam.list_role_policies(RoleName=self.role_name)["PolicyNames"]
        self.assertEqual(names, ["GatehouseProvisioner"])
        got = self.iam.get_role_policy(RoleName=self.role_name, PolicyName="GatehouseProvisioner")
        self.assertEqual(got["PolicyDocument"], self.expected("provisioner-permissions.json"))
        attached = self.iam.list_attached_role_policies(RoleName=self.role_name)
        self.assertEqual(attached["AttachedPolicies"], [])


if __name__ == "__main__":
    unittest.main()
