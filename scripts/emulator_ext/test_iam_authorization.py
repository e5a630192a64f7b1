"""Tests of the IAM authorization extension, through boto3 and moto's in-process mock with
authorization enforced (the same access-control classes the server uses)."""
import json
import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from emulator_ext import install

install()

SCOPED = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CreateUsersOnlyWithTheBoundary",
            "Effect": "Allow",
            "Action": ["iam:CreateUser", "iam:GetUser"],
            "Resource": "arn:aws:iam::123456789012:user/gatehouse/*",
            "Condition": {
                "StringEquals": {
                    "iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/gatehouse/B"
                }
            },
        }
    ],
}


class ActionsAreEnforced(unittest.TestCase):
    def session_with(self, *policies):
        """An IAM user with these inline policies, and a client acting as it."""
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="caller")
        for i, policy in enumerate(policies):
            iam.put_user_policy(
                UserName="caller", PolicyName=f"p{i}", PolicyDocument=json.dumps(policy)
            )
        key = iam.create_access_key(UserName="caller")["AccessKey"]
        return boto3.client(
            "iam",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )

    def assert_denied(self, call):
        with self.assertRaises(ClientError) as e:
            call()
        self.assertEqual(e.exception.response["Error"]["Code"], "AccessDenied")

    # The count is the number of setup requests (create_user, one put_user_policy per policy,
    # create_access_key): every request after them is authorized.
    @set_initial_no_auth_action_count(3)
    @mock_aws
    def test_a_scoped_conditional_allow_counts_for_its_actions(self):
        caller = self.session_with(SCOPED)
        caller.create_user(UserName="ada", Path="/gatehouse/people/")
        self.assert_denied(lambda: caller.create_group(GroupName="g"))
        self.assert_denied(lambda: caller.delete_user(UserName="ada"))

    @set_initial_no_auth_action_count(4)
    @mock_aws
    def test_an_unconditional_deny_of_everything_still_denies(self):
        allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]}
        caller = self.session_with(allow_all, deny)
        self.assert_denied(lambda: caller.create_user(UserName="ada"))
        caller.create_group(GroupName="g")

    @set_initial_no_auth_action_count(4)
    @mock_aws
    def test_a_deny_moto_cannot_scope_is_left_to_the_policy_tests(self):
        allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        scoped_deny = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "iam:CreateUser",
                    "Resource": "arn:aws:iam::123456789012:user/ops/*",
                },
                {
                    "Effect": "Deny",
                    "Action": "iam:CreateGroup",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
                },
            ]
        }
        caller = self.session_with(allow_all, scoped_deny)
        caller.create_user(UserName="ada", Path="/gatehouse/people/")
        caller.create_group(GroupName="g")


    @set_initial_no_auth_action_count(4)
    @mock_aws
    def test_a_batch_send_needs_what_a_send_needs(self):
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        send = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
        }
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="sender")
        iam.put_user_policy(UserName="sender", PolicyName="p", PolicyDocument=json.dumps(send))
        key = iam.create_access_key(UserName="sender")["AccessKey"]
        sender = boto3.client(
            "sqs",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        sender.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "m"}])
        with self.assertRaises(ClientError):
            sender.delete_message_batch(QueueUrl=url, Entries=[{"Id": "1", "ReceiptHandle": "h"}])

    @set_initial_no_auth_action_count(5)
    @mock_aws
    def test_a_transaction_needs_what_each_of_its_items_needs(self):
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        puts = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"}],
        }
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="writer")
        iam.put_user_policy(UserName="writer", PolicyName="p", PolicyDocument=json.dumps(puts))
        key = iam.create_access_key(UserName="writer")["AccessKey"]
        writer = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        put = {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}}}}
        delete = {"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}}}}
        writer.transact_write_items(TransactItems=[put])
        with self.assertRaises(ClientError) as e:
            writer.transact_write_items(TransactItems=[put, delete])
        self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)


if __name__ == "__main__":
    unittest.main()
