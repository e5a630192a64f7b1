"""The member-account template's policy documents are shared/policies/*.json, statement for
statement, and the templates' defaults are policy.toml's. Static: no emulator, no AWS (run by
`make lint`; `test_member_stack.py` deploys the same template into the emulator)."""
import datetime
import json
import re
import unittest

import cfn


class MemberAccountDocuments(unittest.TestCase):
    def setUp(self):
        self.template = cfn.load_template("member-account.yaml")

    def check(self, account, partition, parameters):
        values = cfn.member_values(account, partition, parameters)
        for logical_id, prop, filename in cfn.MEMBER_DOCUMENTS:
            with self.subTest(resource=logical_id, file=filename, partition=partition):
                written = self.template["Resources"][logical_id]["Properties"][prop]
                self.assertEqual(
                    cfn.resolve(written, values), cfn.render_policy_file(filename, values)
                )

    def test_documents_are_the_shared_policy_files(self):
        self.check("123456789012", "aws", cfn.example_parameters())

    def test_other_values_are_substituted_too(self):
        # Another partition, other role names, one trusted role, one group policy: a value
        # written literally in the template instead of substituted would show here.
        self.check(
            "999988887777",
            "aws-us-gov",
            {
                "TrustedRoleArns": ["arn:aws-us-gov:iam::111122223333:role/gatehouse/x"],
                "OrganizationId": "o-zzzzzzzzzz",
                "ProvisionerRoleName": "OtherProvisioner",
                "BootstrapRoleName": "AWSControlTowerExecution",
                "GroupPolicyArns": ["arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess"],
            },
        )

    def test_every_shared_document_with_placeholders_is_laid_or_rendered_by_the_functions(self):
        laid = {f for _, _, f in cfn.MEMBER_DOCUMENTS}
        # enforce-mfa and deny-all are created by the functions (the provisioner may create
        # exactly those two); every other file must be in the member stack.
        shipped = {p.name for p in cfn.POLICIES.glob("*.json")}
        self.assertEqual(shipped - laid, {"enforce-mfa.json", "deny-all.json"})

    def test_role_defaults_are_the_policy_files(self):
        policy = cfn.policy_file()
        params = self.template["Parameters"]
        self.assertEqual(params["ProvisionerRoleName"]["Default"], policy["provisioner_role"])
        self.assertEqual(params["BootstrapRoleName"]["Default"], policy["bootstrap_role"])
        for name in ("TrustedRoleArns", "GroupPolicyArns"):
            # The emulator does not split a CommaDelimitedList default: none is given.
            self.assertNotIn("Default", params[name], name)


class FunctionsTemplate(unittest.TestCase):
    # The settings each function reads (docs/design.md, Configuration), and only those.
    ENVIRONMENT = {
        "PeopleEventsFunction": {
            "GATEHOUSE_DIRECTORY_TABLE",
            "GATEHOUSE_EVENT_BUS",
            "GATEHOUSE_MAX_CONCURRENCY",
            "GATEHOUSE_ACCOUNT_CACHE_SECONDS",
        },
        "AccountCreatedFunction": {
            "GATEHOUSE_DIRECTORY_TABLE",
            "GATEHOUSE_EVENT_BUS",
            "GATEHOUSE_WORK_QUEUE_URL",
            "GATEHOUSE_TRUSTED_ROLE_ARNS",
            "GATEHOUSE_ACCOUNT_CACHE_SECONDS",
            "GATEHOUSE_ACCOUNT_WAIT_SECONDS",
            "GATEHOUSE_MEMBER_STACK",
        },
        "ReconcileFunction": {
            "GATEHOUSE_DIRECTORY_TABLE",
            "GATEHOUSE_EVENT_BUS",
            "GATEHOUSE_WORK_QUEUE_URL",
            "GATEHOUSE_MAX_CONCURRENCY",
        },
        "ScimFunction": {
            "GATEHOUSE_SCIM_TABLE",
            "GATEHOUSE_SCIM_TOKEN_SECRET",
            "GATEHOUSE_EVENT_BUS",
        },
    }
    HR_DETAIL_TYPES = ["Employee Onboarded", "Employee Transferred", "Employee Offboarded"]

    @classmethod
    def setUpClass(cls):
        cls.template = cfn.load_template("template.yaml")
        cls.policy = cfn.policy_file()
        cls.expanded = cfn.expand_sam(cls.template, "s3://bucket/key.zip")["Resources"]

    def test_defaults_are_the_policy_files(self):
        params = self.template["Parameters"]
        self.assertEqual(params["HrSource"]["Default"], self.policy["hr_source"])
        self.assertEqual(params["EnvironmentTag"]["Default"], self.policy["environment_tag"])
        self.assertEqual(params["ProvisionerRoleName"]["Default"], self.policy["provisioner_role"])
        self.assertEqual(params["BootstrapRoleName"]["Default"], self.policy["bootstrap_role"])

    def test_role_names_are_the_ones_the_member_stack_is_told(self):
        for logical_id, name in [
            ("PeopleEventsRole", "gatehouse-people-events"),
            ("AccountCreatedRole", "gatehouse-account-created"),
            ("ReconcileRole", "gatehouse-reconcile"),
            ("ScimRole", "gatehouse-scim"),
        ]:
            props = self.template["Resources"][logical_id]["Properties"]
            self.assertEqual((props["RoleName"], props["Path"]), (name, "/gatehouse/"))

    def test_functions_as_sam_expands_them(self):
        for logical_id, variables in self.ENVIRONMENT.items():
            with self.subTest(function=logical_id):
                props = self.expanded[logical_id]["Properties"]
                self.assertEqual(props["Runtime"], "provided.al2023")
                self.assertEqual(props["Architectures"], ["arm64"])
                self.assertEqual(props["Handler"], "bootstrap")
                self.assertEqual(props["LoggingConfig"]["LogFormat"], "JSON")
                self.assertEqual(set(props["Environment"]["Variables"]), variables)
                role = logical_id.replace("Function", "Role")
                self.assertEqual(props["Role"], {"Fn::GetAtt": [role, "Arn"]})
                meta = self.template["Resources"][logical_id]["Metadata"]
                self.assertEqual(meta["BuildMethod"], "rust-cargolambda")

    def test_sam_adds_no_role_of_its_own(self):
        roles = sorted(k for k, r in self.expanded.items() if r["Type"] == "AWS::IAM::Role")
        self.assertEqual(roles, ["AccountCreatedRole", "PeopleEventsRole", "ReconcileRole", "ScimRole"])

    def test_the_work_queue_feeds_people_events_in_batches_with_partial_failures(self):
        mappings = [
            r["Properties"] for r in self.expanded.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"
        ]
        self.assertEqual(len(mappings), 1)
        (esm,) = mappings
        self.assertEqual(esm["EventSourceArn"], {"Fn::GetAtt": ["WorkQueue", "Arn"]})
        self.assertEqual(esm["FunctionName"], {"Ref": "PeopleEventsFunction"})
        self.assertEqual(esm["BatchSize"], 10)
        self.assertEqual(esm["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(esm["ScalingConfig"], {"MaximumConcurrency": {"Ref": "QueueMaxConcurrency"}})

    def test_visibility_timeout_is_at_least_six_function_timeouts(self):
        timeout = self.expanded["PeopleEventsFunction"]["Properties"]["Timeout"]
        queue = self.template["Resources"]["WorkQueue"]["Properties"]
        self.assertGreaterEqual(queue["VisibilityTimeout"], 6 * timeout)
        self.assertIs(queue["ContentBasedDeduplication"], False)
        wait = self.template["Parameters"]["AccountWaitSeconds"]["MaxValue"]
        self.assertLess(wait, self.expanded["AccountCreatedFunction"]["Properties"]["Timeout"])

    def test_no_wildcard_action_and_no_unconditioned_write_on_every_resource(self):
        roles = [r for r in self.template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
        self.assertEqual(len(roles), 4)
        for role in roles:
            for policy in role["Properties"]["Policies"]:
                for st in policy["PolicyDocument"]["Statement"]:
                    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    with self.subTest(role=role["Properties"]["RoleName"], sid=st.get("Sid")):
                        self.assertEqual(st["Effect"], "Allow")
                        self.assertFalse([a for a in actions if "*" in a], actions)
                        if st.get("Resource") == "*" and "Condition" not in st:
                            reads = ("List", "Describe", "Get")
                            writes = [a for a in actions if not a.split(":")[1].startswith(reads)]
                            self.assertEqual(writes, [], "a write on Resource * needs a Condition")

    def test_scims_role_holds_exactly_its_permissions(self):
        (policy,) = self.template["Resources"]["ScimRole"]["Properties"]["Policies"]
        self.assertEqual(policy["PolicyName"], "scim")
        self.assertEqual(
            policy["PolicyDocument"]["Statement"],
            [
                {
                    "Sid": "KeepScimResources",
                    "Effect": "Allow",
                    # No dynamodb:TransactWriteItems: IAM authorizes a transaction item by item
                    # (scim's are Puts and Deletes).
                    "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"],
                    "Resource": {"Fn::GetAtt": ["ScimTable", "Arn"]},
                },
                {
                    "Sid": "ReadTheBearerToken",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": {"Ref": "ScimTokenSecret"},
                },
                {
                    "Sid": "PutHrEvents",
                    "Effect": "Allow",
                    "Action": "events:PutEvents",
                    "Resource": {"Fn::GetAtt": ["EventBus", "Arn"]},
                    "Condition": {
                        "StringEquals": {
                            "events:source": {"Ref": "HrSource"},
                            "events:detail-type": self.HR_DETAIL_TYPES,
                        }
                    },
                },
                {
                    "Sid": "WriteOwnLogs",
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": {"Fn::GetAtt": ["ScimLogGroup", "Arn"]},
                },
            ],
        )

    def test_scim_puts_only_what_the_hr_rule_and_the_bus_take(self):
        resources = self.template["Resources"]
        rule = resources["HrEventsRule"]["Properties"]["EventPattern"]
        bus, _ = resources["EventBus"]["Properties"]["Policy"]["Statement"]
        self.assertEqual(rule["source"], [{"Ref": "HrSource"}])
        self.assertEqual(rule["detail-type"], self.HR_DETAIL_TYPES)
        self.assertEqual(bus["Condition"]["StringEquals"]["events:detail-type"], self.HR_DETAIL_TYPES)
        # The scim function's events carry this account's id: the rule always takes them, so
        # that people-events decides (and reports) instead of the event matching nothing.
        self.assertEqual(
            rule["account"],
            {"Fn::Split": [",", {"Fn::Sub": ["${HrAccounts},${AWS::AccountId}",
                                             {"HrAccounts": {"Fn::Join": [",", {"Ref": "HrAccountIds"}]}}]}]},
        )

    BUS_ARN = {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/gatehouse"}
    SCIM_ROLE_ARN = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/gatehouse/gatehouse-scim"}

    def test_the_bus_takes_hr_events_from_the_hr_accounts_and_from_this_one_only_from_scim(self):
        self.assertEqual(
            self.template["Resources"]["EventBus"]["Properties"]["Policy"],
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "HrAccountsPutHrEventsOnly",
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Ref": "HrAccountIds"}},
                        "Action": "events:PutEvents",
                        "Resource": self.BUS_ARN,
                        "Condition": {
                            "StringEquals": {
                                "events:source": {"Ref": "HrSource"},
                                "events:detail-type": self.HR_DETAIL_TYPES,
                            }
                        },
                    },
                    # With SCIM in use, the Allow names this account, which delegates to identity
                    # policies: this Deny keeps every principal of this account but the scim role
                    # from putting HR events (any detail-type).
                    {
                        "Sid": "OnlyTheScimRolePutsHrEventsFromThisAccount",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "events:PutEvents",
                        "Resource": self.BUS_ARN,
                        "Condition": {
                            "StringEquals": {
                                "events:source": {"Ref": "HrSource"},
                                "aws:PrincipalAccount": {"Ref": "AWS::AccountId"},
                            },
                            "ArnNotEquals": {"aws:PrincipalArn": self.SCIM_ROLE_ARN},
                        },
                    },
                ],
            },
        )

    def test_the_deny_names_the_scim_roles_own_arn(self):
        # Built from the role's fixed path and name (GetAtt ScimRole.Arn would be circular: the
        # role's policy names the bus). aws:PrincipalArn of a role session is the role's ARN, path
        # included: it must be exactly the role the scim function runs as.
        role = self.template["Resources"]["ScimRole"]["Properties"]
        self.assertEqual(
            self.SCIM_ROLE_ARN["Fn::Sub"],
            f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{role['Path']}{role['RoleName']}",
        )
        function = self.template["Resources"]["ScimFunction"]["Properties"]
        self.assertEqual(function["Role"], {"Fn::GetAtt": ["ScimRole", "Arn"]})
        # Not GetAtt: the bus may not depend on the role.
        (_, deny) = self.template["Resources"]["EventBus"]["Properties"]["Policy"]["Statement"]
        self.assertNotIn('"ScimRole"', json.dumps(deny))

    def test_who_the_deny_refuses(self):
        # The Deny, resolved for an account, against the request contexts that matter. (What the
        # Allow and identity policies grant is checked elsewhere; this is only the Deny.)
        account, other = "123456789012", "111122223333"
        values = {
            "AWS::Partition": "aws",
            "AWS::Region": "us-east-1",
            "AWS::AccountId": account,
            "HrSource": "com.example.hr",
        }
        (_, deny) = self.template["Resources"]["EventBus"]["Properties"]["Policy"]["Statement"]
        deny = cfn.resolve(deny, values)
        self.assertEqual(deny["Resource"], f"arn:aws:events:us-east-1:{account}:event-bus/gatehouse")
        # Two operators, single values, no wildcard: exact comparisons are the whole semantics.
        self.assertEqual(set(deny["Condition"]), {"StringEquals", "ArnNotEquals"})
        equals, not_arn = deny["Condition"]["StringEquals"], deny["Condition"]["ArnNotEquals"]
        for value in [*equals.values(), *not_arn.values()]:
            self.assertIsInstance(value, str)
            self.assertNotIn("*", value)

        def denied(principal_arn, source):
            context = {
                "events:source": source,
                "aws:PrincipalAccount": principal_arn.split(":")[4],
                "aws:PrincipalArn": principal_arn,
            }
            return all(context[k] == v for k, v in equals.items()) and all(
                context[k] != v for k, v in not_arn.items()
            )

        scim = f"arn:aws:iam::{account}:role/gatehouse/gatehouse-scim"
        hr = "com.example.hr"
        self.assertFalse(denied(scim, hr), "the scim role itself")
        self.assertTrue(denied(f"arn:aws:iam::{account}:role/AWSReservedSSO_AdministratorAccess_0123", hr))
        self.assertTrue(denied(f"arn:aws:iam::{account}:root", hr))
        self.assertTrue(denied(f"arn:aws:iam::{account}:role/gatehouse/gatehouse-people-events", hr))
        # A role named gatehouse-scim elsewhere than /gatehouse/ is another role.
        self.assertTrue(denied(f"arn:aws:iam::{account}:role/gatehouse-scim", hr))
        # Outcomes (source gatehouse) and the HR accounts' own events are not this Deny's business.
        self.assertFalse(denied(f"arn:aws:iam::{account}:role/gatehouse/gatehouse-people-events", "gatehouse"))
        self.assertFalse(denied(f"arn:aws:iam::{other}:role/hr-system", hr))

    def test_scim_is_not_trusted_by_the_provisioner(self):
        variables = self.template["Resources"]["AccountCreatedFunction"]["Properties"]["Environment"]["Variables"]
        trusted = variables["GATEHOUSE_TRUSTED_ROLE_ARNS"]["Fn::Join"][1]
        self.assertNotIn({"Fn::GetAtt": ["ScimRole", "Arn"]}, trusted)
        self.assertEqual(self.template["Outputs"]["TrustedRoleArns"]["Value"]["Fn::Join"][1], trusted)

    def test_scims_url_is_public_through_sams_two_permissions_and_is_an_output(self):
        props = self.expanded["ScimFunction"]["Properties"]
        self.assertEqual((props["MemorySize"], props["Timeout"]), (256, 30))
        self.assertEqual(props["ReservedConcurrentExecutions"], {"Ref": "ScimMaxConcurrency"})
        self.assertEqual(
            self.expanded["ScimFunctionUrl"],
            {
                "Type": "AWS::Lambda::Url",
                "Properties": {"TargetFunctionArn": {"Ref": "ScimFunction"}, "AuthType": "NONE"},
            },
        )
        permissions = sorted(
            (k, r["Properties"])
            for k, r in self.expanded.items()
            if r["Type"] == "AWS::Lambda::Permission"
            and r["Properties"]["FunctionName"] == {"Ref": "ScimFunction"}
        )
        self.assertEqual(
            permissions,
            [
                (
                    "ScimFunctionURLInvokeAllowPublicAccess",
                    {
                        "Action": "lambda:InvokeFunction",
                        "FunctionName": {"Ref": "ScimFunction"},
                        "Principal": "*",
                        # Only through the URL: not a public lambda:Invoke.
                        "InvokedViaFunctionUrl": True,
                    },
                ),
                (
                    "ScimFunctionUrlPublicPermissions",
                    {
                        "Action": "lambda:InvokeFunctionUrl",
                        "FunctionName": {"Ref": "ScimFunction"},
                        "Principal": "*",
                        "FunctionUrlAuthType": "NONE",
                    },
                ),
            ],
        )
        outputs = self.template["Outputs"]
        self.assertEqual(outputs["ScimUrl"]["Value"], {"Fn::GetAtt": ["ScimFunctionUrl", "FunctionUrl"]})
        self.assertEqual(outputs["ScimTokenSecretArn"]["Value"], {"Ref": "ScimTokenSecret"})

    def test_the_scim_token_is_a_bare_generated_token(self):
        secret = self.template["Resources"]["ScimTokenSecret"]
        props = secret["Properties"]
        # No SecretStringTemplate: the secret string is the token itself, not JSON.
        self.assertEqual(props["GenerateSecretString"], {"PasswordLength": 64, "ExcludePunctuation": True})
        self.assertNotIn("SecretString", props)
        self.assertEqual(props["Name"], "gatehouse/scim-token")
        self.assertIn("AWSCURRENT", props["Description"])
        self.assertIn("AWSPREVIOUS", props["Description"])
        # Rotated by hand (the description says how), never by a rotation function.
        kinds = {r["Type"] for r in self.template["Resources"].values()}
        self.assertNotIn("AWS::SecretsManager::RotationSchedule", kinds)

    def test_the_scim_table_keeps_the_directorys_conventions(self):
        resources = self.template["Resources"]
        scim, directory = resources["ScimTable"], resources["DirectoryTable"]
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            self.assertEqual(scim[attribute], "Retain")
            self.assertEqual(scim[attribute], directory[attribute])
        props = scim["Properties"]
        self.assertEqual(props["TableName"], "gatehouse-scim")
        self.assertEqual(props["KeySchema"], [{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertEqual(props["AttributeDefinitions"], [{"AttributeName": "pk", "AttributeType": "S"}])
        same = ("BillingMode", "PointInTimeRecoverySpecification", "SSESpecification", "DeletionProtectionEnabled")
        for name in same:
            self.assertEqual(props[name], directory["Properties"][name], name)
        self.assertEqual(props["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(props["PointInTimeRecoverySpecification"], {"PointInTimeRecoveryEnabled": True})
        self.assertEqual(props["SSESpecification"], {"SSEEnabled": True})

    # The scim function's alarms. It always answers (its handler never fails), so its 5xx are no
    # Lambda Errors: two metric filters on its log count them from its request line.
    SCIM_METRIC_FILTERS = {
        "ScimServerErrorsMetricFilter": {
            "FilterName": "gatehouse-scim-server-errors",
            "LogGroupName": {"Ref": "ScimLogGroup"},
            "FilterPattern": "{ $.fields.status >= 500 }",
            "MetricTransformations": [
                {"MetricNamespace": "Gatehouse", "MetricName": "ScimServerErrors", "MetricValue": "1",
                 "Unit": "Count"}
            ],
        },
        "ScimRefusedUserWritesMetricFilter": {
            "FilterName": "gatehouse-scim-user-writes-refused",
            "LogGroupName": {"Ref": "ScimLogGroup"},
            "FilterPattern": (
                '{ $.fields.route = "/Users/{id}" && $.fields.status >= 400 && $.fields.status < 500 && '
                '($.fields.method = "PATCH" || $.fields.method = "PUT" || $.fields.method = "DELETE") }'
            ),
            "MetricTransformations": [
                {"MetricNamespace": "Gatehouse", "MetricName": "ScimRefusedUserWrites", "MetricValue": "1",
                 "Unit": "Count"}
            ],
        },
    }
    # Alarm -> (name, namespace, metric, dimensions).
    SCIM_ALARMS = {
        "ScimServerErrorsAlarm": ("gatehouse-scim-server-errors", "Gatehouse", "ScimServerErrors", None),
        "ScimRefusedUserWritesAlarm": (
            "gatehouse-scim-user-writes-refused",
            "Gatehouse",
            "ScimRefusedUserWrites",
            None,
        ),
        "ScimThrottlesAlarm": (
            "gatehouse-scim-throttled",
            "AWS/Lambda",
            "Throttles",
            [{"Name": "FunctionName", "Value": {"Ref": "ScimFunction"}}],
        ),
        "ScimErrorsAlarm": (
            "gatehouse-scim-errors",
            "AWS/Lambda",
            "Errors",
            [{"Name": "FunctionName", "Value": {"Ref": "ScimFunction"}}],
        ),
    }

    def test_scims_metric_filters(self):
        resources = self.template["Resources"]
        filters = {k: r for k, r in resources.items() if r["Type"] == "AWS::Logs::MetricFilter"}
        self.assertEqual({k: r["Properties"] for k, r in filters.items()}, self.SCIM_METRIC_FILTERS)
        for r in filters.values():
            self.assertEqual(set(r), {"Type", "Properties"})

    def test_scims_alarms_follow_the_others(self):
        resources = self.template["Resources"]
        # Every alarm of the stack, the three new ones with the others' conventions: the sum over
        # five minutes above 0, missing data not breaching, the topic when given.
        same = {
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]},
            "OKActions": {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]},
        }
        existing = resources["AccountCreatedErrorsAlarm"]["Properties"]
        self.assertEqual({k: existing[k] for k in same}, same)
        for logical_id, (name, namespace, metric, dimensions) in self.SCIM_ALARMS.items():
            with self.subTest(alarm=logical_id):
                alarm = resources[logical_id]
                self.assertEqual(set(alarm), {"Type", "Properties"})
                self.assertEqual(alarm["Type"], "AWS::CloudWatch::Alarm")
                props = dict(alarm["Properties"])
                description = props.pop("AlarmDescription")
                self.assertLessEqual(len(description), 200, "short")
                expected = {"AlarmName": name, "Namespace": namespace, "MetricName": metric, **same}
                if dimensions:
                    expected["Dimensions"] = dimensions
                self.assertEqual(props, expected)
        # The two log metrics are the filters' own.
        produced = {
            (t["MetricNamespace"], t["MetricName"])
            for f in self.SCIM_METRIC_FILTERS.values()
            for t in f["MetricTransformations"]
        }
        self.assertEqual(
            produced,
            {(ns, m) for _, ns, m, _ in self.SCIM_ALARMS.values() if ns == "Gatehouse"},
        )
        # Every alarm reports to the topic when one is given, and none is on a log metric without
        # its filter.
        for logical_id, r in resources.items():
            if r["Type"] == "AWS::CloudWatch::Alarm":
                with self.subTest(alarm=logical_id):
                    self.assertEqual(r["Properties"]["AlarmActions"], same["AlarmActions"])
                    self.assertEqual(r["Properties"]["OKActions"], same["OKActions"])
                    if r["Properties"]["Namespace"] == "Gatehouse":
                        self.assertIn(("Gatehouse", r["Properties"]["MetricName"]), produced)

    def test_the_filters_read_what_the_scim_function_logs(self):
        # The request line: shared/shell/src/scim/http.rs logs method, route (a template) and
        # status (a number: u16) as fields of "scim request"; the function's subscriber
        # (lambda_http's default) writes them under "fields" with Lambda's JSON log format.
        source = (cfn.ROOT / "shared" / "shell" / "src" / "scim" / "http.rs").read_text(encoding="utf-8")
        line = source[source.index("tracing::info!(") : source.index('"scim request"')]
        for field in ("method = %request.method", "route = route.name", "status = response.status"):
            self.assertIn(field, line)
        self.assertIn("pub status: u16,", source)
        self.assertIn('"/Users/{id}"', source)
        main = (cfn.ROOT / "functions" / "scim" / "src" / "main.rs").read_text(encoding="utf-8")
        self.assertIn("lambda_http::tracing::init_default_subscriber()", main)
        logging = self.template["Resources"]["ScimFunction"]["Properties"]["LoggingConfig"]
        self.assertEqual(logging["LogFormat"], "JSON")
        # Methods are compared as written: the function logs them as HTTP gives them, upper case.
        self.assertIn("request.method().as_str()", main)

    def test_execution_role_policies_use_only_what_the_rust_tests_resolve(self):
        # tests/src/template.rs resolves the execution roles' documents for the local worlds: Ref,
        # Fn::Sub, Fn::GetAtt of Arn, Fn::Join, Fn::Split, Fn::Select; nothing conditional.
        allowed = {"Ref", "Fn::Sub", "Fn::GetAtt", "Fn::Join", "Fn::Split", "Fn::Select"}

        def check(node):
            if isinstance(node, list):
                for x in node:
                    check(x)
            elif isinstance(node, dict):
                for k, v in node.items():
                    if k.startswith("Fn::") or k == "Ref":
                        self.assertIn(k, allowed)
                        if k == "Fn::GetAtt":
                            self.assertEqual(v[1], "Arn")
                    check(v)

        for logical_id, r in self.template["Resources"].items():
            if r["Type"] == "AWS::IAM::Role":
                with self.subTest(role=logical_id):
                    check(r["Properties"]["Policies"])


class ExistingAccountEvent(unittest.TestCase):
    """infra/account_event.py makes the event account-created takes for an existing account: the
    same shape as the fixture the functions are tested with, with fresh ids."""

    def test_it_has_the_shape_of_the_fixture(self):
        import account_event

        def shape(v):
            if isinstance(v, dict):
                return {k: shape(x) for k, x in v.items()}
            return type(v).__name__

        with open(cfn.ROOT / "fixtures" / "create-account-result-succeeded.json", encoding="utf-8") as f:
            fixture = json.load(f)
        made = account_event.event("444455556666", "111122223333")
        self.assertEqual(shape(made), shape(fixture))
        status = made["detail"]["serviceEventDetails"]["createAccountStatus"]
        self.assertEqual((status["state"], status["accountId"]), ("SUCCEEDED", "444455556666"))
        cloudtrail_time = re.compile(r"[A-Z][a-z]{2} [0-9]{1,2}, [0-9]{4} [0-9]{1,2}:[0-9]{2}:[0-9]{2} [AP]M")
        fixed = datetime.datetime(2026, 11, 16, 21, 20, 53, tzinfo=datetime.timezone.utc)
        self.assertEqual(
            account_event.event("444455556666", "111122223333", now=fixed)["detail"]["serviceEventDetails"][
                "createAccountStatus"
            ]["completedTimestamp"],
            "Nov 16, 2026 9:20:53 PM",
        )
        self.assertRegex(status["requestedTimestamp"], cloudtrail_time)
        self.assertNotEqual(made["id"], account_event.event("444455556666", "111122223333")["id"])


if __name__ == "__main__":
    unittest.main()
