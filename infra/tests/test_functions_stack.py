"""Deploys infra/template.yaml, expanded by the SAM transform as `sam deploy` would, into the
local emulator (moto's CloudFormation) and reads back what the functions will see: their
settings, the queue they take work from and the outputs the member-account StackSet is given.

The emulator does not run the functions here (a placeholder zip stands in for `sam build`'s),
and ignores some properties (the bus policy, EventBridge target parameters): those are checked
statically by test_documents.py, cfn-lint and checkov.

Needs the emulator: run through `make test` (scripts/with-emulator.sh sets AWS_ENDPOINT_URL).
"""
import io
import json
import os
import unittest
import uuid
import zipfile
from urllib.parse import urlparse

import cfn

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "")
LOCAL = urlparse(ENDPOINT).hostname in ("127.0.0.1", "localhost", "::1")


@unittest.skipUnless(LOCAL, "needs the local emulator (AWS_ENDPOINT_URL on loopback): make test")
class FunctionsStackInTheEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import boto3

        cls.cfn = boto3.client("cloudformation")
        cls.account = boto3.client("sts").get_caller_identity()["Account"]
        bucket = f"gatehouse-code-{uuid.uuid4().hex[:8]}"
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=bucket)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\nexit 1\n")
        s3.put_object(Bucket=bucket, Key="bootstrap.zip", Body=code.getvalue())
        template = cfn.expand_sam(cfn.load_template("template.yaml"), f"s3://{bucket}/bootstrap.zip")
        cls.stack = f"gatehouse-{uuid.uuid4().hex[:8]}"
        cls.cfn.create_stack(
            StackName=cls.stack,
            TemplateBody=json.dumps(template),
            Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "HrAccountIds", "ParameterValue": "111122223333,444455556666"}],
        )
        stack = cls.cfn.describe_stacks(StackName=cls.stack)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        cls.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        cls.lambda_ = boto3.client("lambda")
        cls.sqs = boto3.client("sqs")
        cls.iam = boto3.client("iam")
        cls.events = boto3.client("events")

    @classmethod
    def tearDownClass(cls):
        cls.cfn.delete_stack(StackName=cls.stack)

    def role_arn(self, name):
        return f"arn:aws:iam::{self.account}:role/gatehouse/{name}"

    def test_the_outputs_are_what_the_stackset_and_the_hr_system_are_given(self):
        people, accounts = self.role_arn("gatehouse-people-events"), self.role_arn("gatehouse-account-created")
        reconcile = self.role_arn("gatehouse-reconcile")
        self.assertEqual(self.outputs["PeopleEventsRoleArn"], people)
        self.assertEqual(self.outputs["AccountCreatedRoleArn"], accounts)
        self.assertEqual(self.outputs["ReconcileRoleArn"], reconcile)
        self.assertEqual(self.outputs["TrustedRoleArns"], f"{people},{accounts},{reconcile}")
        self.assertEqual(self.outputs["EventBusName"], "gatehouse")
        self.assertEqual(
            self.outputs["EventBusArn"], f"arn:aws:events:us-east-1:{self.account}:event-bus/gatehouse"
        )
        self.assertEqual(self.outputs["DirectoryTableName"], "gatehouse-directory")

    def test_account_created_is_configured_as_the_design_says(self):
        config = self.lambda_.get_function_configuration(FunctionName="gatehouse-account-created")
        self.assertEqual(config["Role"], self.outputs["AccountCreatedRoleArn"])
        self.assertEqual(
            {k: str(v) for k, v in config["Environment"]["Variables"].items()},
            {
                "GATEHOUSE_DIRECTORY_TABLE": "gatehouse-directory",
                "GATEHOUSE_EVENT_BUS": "gatehouse",
                "GATEHOUSE_WORK_QUEUE_URL": self.outputs["WorkQueueUrl"],
                "GATEHOUSE_TRUSTED_ROLE_ARNS": self.outputs["TrustedRoleArns"],
                "GATEHOUSE_ACCOUNT_CACHE_SECONDS": "300",
                "GATEHOUSE_ACCOUNT_WAIT_SECONDS": "60",
                "GATEHOUSE_MEMBER_STACK": "true",
            },
        )

    def test_people_events_takes_its_work_from_the_fifo_queue(self):
        config = self.lambda_.get_function_configuration(FunctionName="gatehouse-people-events")
        self.assertEqual(config["Role"], self.outputs["PeopleEventsRoleArn"])
        self.assertEqual(
            {k: str(v) for k, v in config["Environment"]["Variables"].items()},
            {
                "GATEHOUSE_DIRECTORY_TABLE": "gatehouse-directory",
                "GATEHOUSE_EVENT_BUS": "gatehouse",
                "GATEHOUSE_MAX_CONCURRENCY": "128",
                "GATEHOUSE_ACCOUNT_CACHE_SECONDS": "300",
            },
        )
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.outputs["WorkQueueUrl"], AttributeNames=["All"])[
            "Attributes"
        ]
        self.assertEqual(attributes["FifoQueue"], "true")
        self.assertEqual(attributes["ContentBasedDeduplication"], "false")
        self.assertGreaterEqual(int(attributes["VisibilityTimeout"]), 6 * config["Timeout"])
        redrive = json.loads(attributes["RedrivePolicy"])
        self.assertTrue(redrive["deadLetterTargetArn"].endswith(":gatehouse-work-dlq.fifo"))
        mappings = self.lambda_.list_event_source_mappings(FunctionName="gatehouse-people-events")
        (esm,) = mappings["EventSourceMappings"]
        self.assertEqual(esm["EventSourceArn"], attributes["QueueArn"])
        self.assertEqual(esm["BatchSize"], 10)

    def test_reconcile_runs_on_its_schedule_with_the_settings_it_reads(self):
        config = self.lambda_.get_function_configuration(FunctionName="gatehouse-reconcile")
        self.assertEqual(config["Role"], self.outputs["ReconcileRoleArn"])
        self.assertEqual(
            {k: str(v) for k, v in config["Environment"]["Variables"].items()},
            {
                "GATEHOUSE_DIRECTORY_TABLE": "gatehouse-directory",
                "GATEHOUSE_EVENT_BUS": "gatehouse",
                "GATEHOUSE_WORK_QUEUE_URL": self.outputs["WorkQueueUrl"],
                "GATEHOUSE_MAX_CONCURRENCY": "128",
            },
        )
        rule = self.events.describe_rule(Name="gatehouse-reconcile")
        self.assertEqual(rule["ScheduleExpression"], "rate(1 hour)")
        self.assertEqual(rule["State"], "ENABLED")

    def test_account_created_rotates_service_keys_on_its_schedule(self):
        rule = self.events.describe_rule(Name="gatehouse-service-keys")
        self.assertEqual(rule["ScheduleExpression"], "rate(1 day)")
        self.assertEqual(rule["State"], "ENABLED")
        targets = self.events.list_targets_by_rule(Rule="gatehouse-service-keys")["Targets"]
        self.assertEqual(
            [t["Arn"] for t in targets],
            [self.lambda_.get_function_configuration(FunctionName="gatehouse-account-created")["FunctionArn"]],
        )

    def test_reconciles_baseline_requests_reach_account_created_and_nothing_else_does(self):
        rule = self.events.describe_rule(Name="gatehouse-baseline-requested", EventBusName="gatehouse")
        self.assertEqual(rule["State"], "ENABLED")
        targets = self.events.list_targets_by_rule(
            Rule="gatehouse-baseline-requested", EventBusName="gatehouse"
        )["Targets"]
        self.assertEqual(
            [t["Arn"] for t in targets],
            [self.lambda_.get_function_configuration(FunctionName="gatehouse-account-created")["FunctionArn"]],
        )
        # Only Gatehouse's own requests, from this account (the HR accounts may put only HR
        # detail-types on the bus, and never source gatehouse).
        self.assertEqual(
            json.loads(rule["EventPattern"]),
            {"source": ["gatehouse"], "detail-type": ["Baseline Requested"], "account": [self.account]},
        )

    def test_each_function_has_its_own_role_with_one_inline_policy(self):
        for name in ("gatehouse-people-events", "gatehouse-account-created", "gatehouse-reconcile"):
            with self.subTest(role=name):
                role = self.iam.get_role(RoleName=name)["Role"]
                self.assertEqual(role["Path"], "/gatehouse/")
                trust = role["AssumeRolePolicyDocument"]["Statement"]
                self.assertEqual([s["Principal"] for s in trust], [{"Service": "lambda.amazonaws.com"}])
                self.assertEqual(len(self.iam.list_role_policies(RoleName=name)["PolicyNames"]), 1)
                self.assertEqual(self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"], [])


if __name__ == "__main__":
    unittest.main()
