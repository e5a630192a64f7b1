"""Tests of the user permissions boundary extension, through boto3 and moto's in-process mock
(the same response classes the server uses)."""
import unittest

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator_ext import install

install()

BOUNDARY = "arn:aws:iam::123456789012:policy/gatehouse/GatehouseUserBoundary"
OTHER = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@mock_aws
class UserPermissionsBoundaries(unittest.TestCase):
    def setUp(self):
        self.iam = boto3.client("iam", region_name="us-east-1")

    def boundary(self, name):
        return self.iam.get_user(UserName=name)["User"].get("PermissionsBoundary")

    def test_create_user_keeps_the_boundary_and_get_user_reports_it(self):
        created = self.iam.create_user(UserName="ada", Path="/gatehouse/people/", PermissionsBoundary=BOUNDARY)
        expected = {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": BOUNDARY}
        self.assertEqual(created["User"]["PermissionsBoundary"], expected)
        self.assertEqual(self.boundary("ada"), expected)

    def test_a_user_created_without_one_has_none(self):
        self.iam.create_user(UserName="bob")
        self.assertIsNone(self.boundary("bob"))

    def test_put_replaces_and_delete_removes_it(self):
        self.iam.create_user(UserName="ada", PermissionsBoundary=BOUNDARY)
        self.iam.put_user_permissions_boundary(UserName="ada", PermissionsBoundary=OTHER)
        self.assertEqual(self.boundary("ada")["PermissionsBoundaryArn"], OTHER)
        self.iam.delete_user_permissions_boundary(UserName="ada")
        self.assertIsNone(self.boundary("ada"))

    def test_a_boundary_that_is_not_a_policy_arn_is_refused_and_creates_nothing(self):
        with self.assertRaises(ClientError) as e:
            self.iam.create_user(UserName="eve", PermissionsBoundary="arn:aws:s3:::bucket/not-a-policy")
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidInput")
        with self.assertRaises(ClientError) as e:
            self.iam.get_user(UserName="eve")
        self.assertEqual(e.exception.response["Error"]["Code"], "NoSuchEntity")

    def test_an_unknown_user_is_no_such_entity(self):
        with self.assertRaises(ClientError) as e:
            self.iam.put_user_permissions_boundary(UserName="nobody", PermissionsBoundary=BOUNDARY)
        self.assertEqual(e.exception.response["Error"]["Code"], "NoSuchEntity")


if __name__ == "__main__":
    unittest.main()
