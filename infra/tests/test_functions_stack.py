"""Deploys infra/template.yaml, expanded by the SAM transform as `sam deploy` would, into the
local emulator (moto's CloudFormation) and reads back what the functions will see: their
settings, the queue they take work from and the outputs the member-account StackSet is given.

The emulator does not run the functions here (a placeholder zip stands in for `sam build`'s),
ignores some properties (the bus policy, EventBridge target parameters) and skips some resource
types (AWS::CloudWatch::Alarm, AWS::Logs::MetricFilter): those are checked statically by
test_documents.py, cfn-lint and checkov, and the tests here that would read them back skip when
the emulator has not made them.

Two resource types of the template are missing from the emulator's CloudFormation (moto 5.2.5):
AWS::SecretsManager::Secret (the SCIM token) and AWS::Lambda::Url (the SCIM function's URL,
which SAM makes from FunctionUrlConfig); it fails the whole stack on a reference to one. The
test creates those two through their own services' APIs, from the template's own properties,
and gives the rest of the stack what CloudFormation would answer for their Ref and GetAtt
(`stand_in_for_what_the_emulator_cannot_create`); everything else is deployed as written.

Needs the emulator: run through `make test` (scripts/with-emulator.sh sets AWS_ENDPOINT_URL).
"""
import ast
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


def _replace(node, old, new):
    """`node` with every occurrence of the intrinsic `old` replaced by the value `new`."""
    if node == old:
        return new
    if isinstance(node, list):
        return [_replace(x, old, new) for x in node]
    if isinstance(node, dict):
        return {k: _replace(v, old, new) for k, v in node.items()}
    return node


def _refers_to(node, logical_id):
    """Whether `node` refers to the resource `logical_id` (Ref or GetAtt)."""
    if isinstance(node, list):
        return any(_refers_to(x, logical_id) for x in node)
    if isinstance(node, dict):
        if node.get("Ref") == logical_id:
            return True
        getatt = node.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt[0] == logical_id:
            return True
        return any(_refers_to(v, logical_id) for v in node.values())
    return False


def stand_in_for_what_the_emulator_cannot_create(template):
    """Creates, before the stack, the secrets of `template` (the expanded functions template)
    through Secrets Manager, as CloudFormation would from their properties, and puts each one's
    ARN where the template says `Ref` to it; takes the function URLs out of the template, to be
    made by `create_function_urls` once their functions exist. Returns the template to deploy
    and the URL resources taken out."""
    import boto3

    secrets = boto3.client("secretsmanager")
    urls = {}
    for logical_id, resource in list(template["Resources"].items()):
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SecretsManager::Secret":
            generate = dict(props["GenerateSecretString"])
            # A JSON secret (SecretStringTemplate, GenerateStringKey) would need more here.
            assert not {"SecretStringTemplate", "GenerateStringKey"} & set(generate), generate
            value = secrets.get_random_password(**generate)["RandomPassword"]
            made = secrets.create_secret(Name=props["Name"], Description=props["Description"], SecretString=value)
            arn = made["ARN"]
            del template["Resources"][logical_id]
            template = _replace(template, {"Ref": logical_id}, arn)
        elif resource["Type"] == "AWS::Lambda::Url":
            urls[logical_id] = props
            del template["Resources"][logical_id]
    outputs = template.get("Outputs", {})
    for key in [k for k, o in outputs.items() if any(_refers_to(o["Value"], u) for u in urls)]:
        del outputs[key]
    for logical_id in urls:
        assert not _refers_to(template, logical_id), f"{logical_id} is referred to beyond the outputs"
    return template, urls


def policy_document(answer):
    """A GetRolePolicy answer's document. The emulator (moto 5.2.5) may answer an inline policy
    that a stack laid as the Python text of the document instead of URL-encoded JSON; boto3 then
    leaves it a string."""
    document = answer["PolicyDocument"]
    if isinstance(document, str):
        try:
            return json.loads(document)
        except json.JSONDecodeError:
            return ast.literal_eval(document)
    return document


def create_function_urls(urls, template, lambda_client):
    """Creates the function URLs taken out of `template`, for its functions (once the stack has
    made them), as CloudFormation would from their properties. Returns logical id -> the URL
    configuration."""
    made = {}
    for logical_id, props in urls.items():
        target = props["TargetFunctionArn"]
        assert set(target) == {"Ref"}, target  # the function itself, no alias or version
        function = template["Resources"][target["Ref"]]["Properties"]["FunctionName"]
        assert isinstance(function, str), function  # Gatehouse's functions have fixed names
        config = {k: v for k, v in props.items() if k != "TargetFunctionArn"}
        made[logical_id] = lambda_client.create_function_url_config(FunctionName=function, **config)
    return made


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
        template, urls = stand_in_for_what_the_emulator_cannot_create(template)
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
        cls.dynamodb = boto3.client("dynamodb")
        cls.secrets = boto3.client("secretsmanager")
        cls.logs = boto3.client("logs")
        cls.cloudwatch = boto3.client("cloudwatch")
        # (The ScimUrl output went with the URL resource: test_documents.py checks it.)
        create_function_urls(urls, template, cls.lambda_)

    @classmethod
    def tearDownClass(cls):
        cls.cfn.delete_stack(StackName=cls.stack)
        cls.secrets.delete_secret(SecretId="gatehouse/scim-token", ForceDeleteWithoutRecovery=True)

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
        # scim assumes no role: the provisioner does not trust it.
        self.assertEqual(self.outputs["ScimRoleArn"], self.role_arn("gatehouse-scim"))
        self.assertNotIn("gatehouse-scim", self.outputs["TrustedRoleArns"])
        self.assertEqual(self.outputs["ScimTableName"], "gatehouse-scim")
        self.assertEqual(
            self.outputs["ScimTokenSecretArn"],
            self.secrets.describe_secret(SecretId="gatehouse/scim-token")["ARN"],
        )

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

    def test_hr_events_from_the_hr_accounts_and_this_one_reach_the_work_queue(self):
        rule = self.events.describe_rule(Name="gatehouse-hr-events", EventBusName="gatehouse")
        # This account's too: the scim function's HR events are never dropped unseen for want of
        # a rule (people-events decides whether this account is an HR account).
        self.assertEqual(
            json.loads(rule["EventPattern"])["account"],
            ["111122223333", "444455556666", self.account],
        )

    def test_scim_is_configured_as_the_design_says(self):
        config = self.lambda_.get_function_configuration(FunctionName="gatehouse-scim")
        self.assertEqual(config["Role"], self.outputs["ScimRoleArn"])
        self.assertEqual(
            {k: str(v) for k, v in config["Environment"]["Variables"].items()},
            {
                "GATEHOUSE_SCIM_TABLE": "gatehouse-scim",
                "GATEHOUSE_SCIM_TOKEN_SECRET": self.outputs["ScimTokenSecretArn"],
                "GATEHOUSE_EVENT_BUS": "gatehouse",
            },
        )
        # (The emulator ignores Architectures: arm64 is checked in the SAM expansion, statically.)
        self.assertEqual((config["Runtime"], config["Handler"]), ("provided.al2023", "bootstrap"))
        self.assertEqual((config["MemorySize"], config["Timeout"]), (256, 30))
        # Its URL is public: its concurrency is bounded by a reservation (ScimMaxConcurrency).
        concurrency = self.lambda_.get_function_concurrency(FunctionName="gatehouse-scim")
        self.assertEqual(concurrency["ReservedConcurrentExecutions"], 10)

    def test_scims_url_is_public_and_its_bearer_token_is_the_gate(self):
        url = self.lambda_.get_function_url_config(FunctionName="gatehouse-scim")
        self.assertEqual(url["AuthType"], "NONE")
        function = self.lambda_.get_function_configuration(FunctionName="gatehouse-scim")
        self.assertEqual(url["FunctionArn"], function["FunctionArn"])
        # The two public permissions SAM adds for AuthType NONE (what limits the second to
        # invocations through the URL is checked statically, in test_documents.py), and none other.
        policy = json.loads(self.lambda_.get_policy(FunctionName="gatehouse-scim")["Policy"])
        self.assertEqual(
            sorted((s["Action"], s["Principal"]) for s in policy["Statement"]),
            [("lambda:InvokeFunction", "*"), ("lambda:InvokeFunctionUrl", "*")],
        )

    def test_the_scim_table_is_kept_like_the_directory(self):
        table = self.dynamodb.describe_table(TableName="gatehouse-scim")["Table"]
        self.assertEqual(table["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertEqual(table["AttributeDefinitions"], [{"AttributeName": "pk", "AttributeType": "S"}])
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertIs(table["DeletionProtectionEnabled"], True)
        # The emulator's CloudFormation ignores SSESpecification and
        # PointInTimeRecoverySpecification: both are checked statically (test_documents.py).

    def test_the_scim_token_is_a_bare_generated_token(self):
        secret = self.secrets.describe_secret(SecretId="gatehouse/scim-token")
        self.assertIn("AWSCURRENT", secret["Description"])
        self.assertIn("AWSPREVIOUS", secret["Description"])
        # Generated from the template's GenerateSecretString (here by the stand-in, through
        # GetRandomPassword): 64 letters and digits, what a bearer header carries as it is, no JSON.
        token = self.secrets.get_secret_value(SecretId=secret["ARN"])["SecretString"]
        self.assertRegex(token, r"\A[A-Za-z0-9]{64}\Z")

    def test_scims_role_holds_exactly_its_permissions(self):
        bus = self.outputs["EventBusArn"]
        table = self.dynamodb.describe_table(TableName="gatehouse-scim")["Table"]["TableArn"]
        prefix = "/aws/lambda/gatehouse-scim"
        (group,) = self.logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
        (name,) = self.iam.list_role_policies(RoleName="gatehouse-scim")["PolicyNames"]
        document = policy_document(self.iam.get_role_policy(RoleName="gatehouse-scim", PolicyName=name))
        # Its own log group: GetAtt Arn of a log group ends in `:*` in AWS, not in the emulator.
        own_logs = document["Statement"][-1]["Resource"]
        self.assertIn(own_logs, (group["arn"], group["logGroupArn"]))
        self.assertEqual(
            document["Statement"],
            [
                {
                    "Sid": "KeepScimResources",
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
                    "Resource": table,
                },
                {
                    "Sid": "ReadTheBearerToken",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": self.outputs["ScimTokenSecretArn"],
                },
                {
                    "Sid": "PutHrEvents",
                    "Effect": "Allow",
                    "Action": "events:PutEvents",
                    "Resource": bus,
                    "Condition": {
                        "StringEquals": {
                            "events:source": "com.example.hr",
                            "events:detail-type": [
                                "Employee Onboarded",
                                "Employee Transferred",
                                "Employee Offboarded",
                            ],
                        }
                    },
                },
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": own_logs,
                },
            ],
        )

    def test_scims_alarms_if_the_emulator_makes_them(self):
        if not self.cloudwatch.describe_alarms(AlarmNamePrefix="gatehouse-")["MetricAlarms"]:
            # moto 5.2.5's CloudFormation has no AWS::CloudWatch::Alarm (it skips the resource,
            # the other alarms of the stack too): they are checked statically (test_documents.py).
            self.skipTest("the emulator's CloudFormation does not create AWS::CloudWatch::Alarm")
        # The stack is deployed without AlarmTopicArn: alarms without actions.
        alarms = {
            a["AlarmName"]: a
            for a in self.cloudwatch.describe_alarms(AlarmNamePrefix="gatehouse-scim-")["MetricAlarms"]
        }
        self.assertEqual(
            {
                name: (
                    a["Namespace"],
                    a["MetricName"],
                    a.get("Dimensions", []),
                    a["Statistic"],
                    a["Period"],
                    a["EvaluationPeriods"],
                    a["Threshold"],
                    a["ComparisonOperator"],
                    a["TreatMissingData"],
                    a["AlarmActions"],
                    a["OKActions"],
                )
                for name, a in alarms.items()
            },
            {
                "gatehouse-scim-server-errors": (
                    "Gatehouse", "ScimServerErrors", [], "Sum", 300, 1, 0.0, "GreaterThanThreshold",
                    "notBreaching", [], [],
                ),
                "gatehouse-scim-user-writes-refused": (
                    "Gatehouse", "ScimRefusedUserWrites", [], "Sum", 300, 1, 0.0, "GreaterThanThreshold",
                    "notBreaching", [], [],
                ),
                "gatehouse-scim-throttled": (
                    "AWS/Lambda", "Throttles", [{"Name": "FunctionName", "Value": "gatehouse-scim"}], "Sum", 300,
                    1, 0.0, "GreaterThanThreshold", "notBreaching", [], [],
                ),
                "gatehouse-scim-errors": (
                    "AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": "gatehouse-scim"}], "Sum", 300,
                    1, 0.0, "GreaterThanThreshold", "notBreaching", [], [],
                ),
            },
        )

    def test_scims_metric_filters_if_the_emulator_makes_them(self):
        filters = self.logs.describe_metric_filters(logGroupName="/aws/lambda/gatehouse-scim")["metricFilters"]
        if not filters:
            # moto 5.2.5's CloudFormation has no AWS::Logs::MetricFilter (it skips the resource):
            # the filters are checked statically (test_documents.py), the alarms on their metrics
            # above.
            self.skipTest("the emulator's CloudFormation does not create AWS::Logs::MetricFilter")
        self.assertEqual(
            sorted((f["filterName"], f["filterPattern"], f["metricTransformations"][0]["metricName"]) for f in filters),
            [
                (
                    "gatehouse-scim-server-errors",
                    "{ $.fields.status >= 500 }",
                    "ScimServerErrors",
                ),
                (
                    "gatehouse-scim-user-writes-refused",
                    '{ $.fields.route = "/Users/{id}" && $.fields.status >= 400 && $.fields.status < 500 && '
                    '($.fields.method = "PATCH" || $.fields.method = "PUT" || $.fields.method = "DELETE") }',
                    "ScimRefusedUserWrites",
                ),
            ],
        )

    def test_the_bus_policy_if_the_emulator_keeps_it(self):
        policy = self.events.describe_event_bus(Name="gatehouse").get("Policy")
        if not policy:
            # moto 5.2.5 creates the bus without its Policy: the statements are checked statically
            # (test_documents.py).
            self.skipTest("the emulator's CloudFormation ignores AWS::Events::EventBus Policy")
        statements = {s["Sid"]: s for s in json.loads(policy)["Statement"]}
        self.assertEqual(
            statements["OnlyTheScimRolePutsHrEventsFromThisAccount"],
            {
                "Sid": "OnlyTheScimRolePutsHrEventsFromThisAccount",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "events:PutEvents",
                "Resource": self.outputs["EventBusArn"],
                "Condition": {
                    "StringEquals": {"events:source": "com.example.hr", "aws:PrincipalAccount": self.account},
                    "ArnNotEquals": {"aws:PrincipalArn": self.outputs["ScimRoleArn"]},
                },
            },
        )

    def test_each_function_has_its_own_role_with_one_inline_policy(self):
        roles = ("gatehouse-people-events", "gatehouse-account-created", "gatehouse-reconcile", "gatehouse-scim")
        for name in roles:
            with self.subTest(role=name):
                role = self.iam.get_role(RoleName=name)["Role"]
                self.assertEqual(role["Path"], "/gatehouse/")
                trust = role["AssumeRolePolicyDocument"]["Statement"]
                self.assertEqual([s["Principal"] for s in trust], [{"Service": "lambda.amazonaws.com"}])
                self.assertEqual(len(self.iam.list_role_policies(RoleName=name)["PolicyNames"]), 1)
                self.assertEqual(self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"], [])


if __name__ == "__main__":
    unittest.main()
