"""Tests of the ListSecretVersionIds extension, through boto3 and moto's in-process mock."""
import time
import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import install

install()


@mock_aws
class ListSecretVersionIds(unittest.TestCase):
    def setUp(self):
        self.sm = boto3.client("secretsmanager", region_name="us-east-1")

    def test_an_unknown_secret_is_resource_not_found(self):
        with self.assertRaises(ClientError) as e:
            self.sm.list_secret_version_ids(SecretId="nope")
        self.assertEqual(e.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_versions_keep_their_creation_time_and_stages(self):
        self.sm.create_secret(Name="s", SecretString="1", ClientRequestToken="a" * 32)
        time.sleep(1.1)
        self.sm.put_secret_value(SecretId="s", SecretString="2", ClientRequestToken="b" * 32)
        before = self.sm.list_secret_version_ids(SecretId="s")["Versions"]
        time.sleep(1.1)
        after = {v["VersionId"]: v for v in self.sm.list_secret_version_ids(SecretId="s")["Versions"]}
        for v in before:
            self.assertEqual(after[v["VersionId"]]["CreatedDate"], v["CreatedDate"])
        self.assertLess(after["a" * 32]["CreatedDate"], after["b" * 32]["CreatedDate"])
        self.assertEqual(after["b" * 32]["VersionStages"], ["AWSCURRENT"])
        self.assertEqual(after["a" * 32]["VersionStages"], ["AWSPREVIOUS"])

    def test_versions_without_a_stage_are_listed_only_when_asked(self):
        for i, token in enumerate(["a" * 32, "b" * 32, "c" * 32]):
            if i == 0:
                self.sm.create_secret(Name="s", SecretString="0", ClientRequestToken=token)
            else:
                self.sm.put_secret_value(SecretId="s", SecretString=str(i), ClientRequestToken=token)
        listed = {v["VersionId"] for v in self.sm.list_secret_version_ids(SecretId="s")["Versions"]}
        self.assertEqual(listed, {"b" * 32, "c" * 32})
        every = self.sm.list_secret_version_ids(SecretId="s", IncludeDeprecated=True)["Versions"]
        self.assertEqual({v["VersionId"] for v in every}, {"a" * 32, "b" * 32, "c" * 32})


if __name__ == "__main__":
    unittest.main()
