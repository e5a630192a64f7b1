"""Tests of the service-specific credentials extension, through boto3 and moto's in-process
mock (the same response classes the server uses)."""
import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import install

install()


@mock_aws
class ServiceSpecificCredentials(unittest.TestCase):
    def setUp(self):
        self.iam = boto3.client("iam", region_name="us-east-1")
        self.iam.create_user(UserName="ada@example.com")

    def create(self, service="codecommit.amazonaws.com"):
        return self.iam.create_service_specific_credential(
            UserName="ada@example.com", ServiceName=service
        )["ServiceSpecificCredential"]

    def test_create_returns_the_password_once_and_list_omits_it(self):
        cred = self.create()
        self.assertEqual(cred["Status"], "Active")
        self.assertTrue(cred["ServicePassword"])
        listed = self.iam.list_service_specific_credentials(UserName="ada@example.com")
        [meta] = listed["ServiceSpecificCredentials"]
        self.assertEqual(meta["ServiceSpecificCredentialId"], cred["ServiceSpecificCredentialId"])
        self.assertNotIn("ServicePassword", meta)

    def test_update_sets_the_status(self):
        cred = self.create()
        self.iam.update_service_specific_credential(
            UserName="ada@example.com",
            ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"],
            Status="Inactive",
        )
        [meta] = self.iam.list_service_specific_credentials(UserName="ada@example.com")[
            "ServiceSpecificCredentials"
        ]
        self.assertEqual(meta["Status"], "Inactive")

    def test_list_filters_by_service(self):
        self.create("codecommit.amazonaws.com")
        self.create("cassandra.amazonaws.com")
        listed = self.iam.list_service_specific_credentials(
            UserName="ada@example.com", ServiceName="cassandra.amazonaws.com"
        )["ServiceSpecificCredentials"]
        self.assertEqual([c["ServiceName"] for c in listed], ["cassandra.amazonaws.com"])

    def test_a_third_credential_for_one_service_exceeds_the_quota(self):
        self.create()
        self.create()
        with self.assertRaises(ClientError) as e:
            self.create()
        self.assertEqual(e.exception.response["Error"]["Code"], "LimitExceeded")

    def test_unknown_user_or_credential_is_no_such_entity(self):
        with self.assertRaises(ClientError) as e:
            self.iam.list_service_specific_credentials(UserName="nobody")
        self.assertEqual(e.exception.response["Error"]["Code"], "NoSuchEntity")
        with self.assertRaises(ClientError) as e:
            self.iam.update_service_specific_credential(
                UserName="ada@example.com", ServiceSpecificCredentialId="ACCANOPE0000000000000", Status="Inactive"
            )
        self.assertEqual(e.exception.response["Error"]["Code"], "NoSuchEntity")

    def test_unknown_service_is_invalid_input(self):
        with self.assertRaises(ClientError) as e:
            self.create("s3.amazonaws.com")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidInput")


if __name__ == "__main__":
    unittest.main()
