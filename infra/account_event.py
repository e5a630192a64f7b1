"""Prints a CreateAccountResult (SUCCEEDED) event for an account that already exists, to bring it
under Gatehouse: invoking account-created with it lays the account's baseline through the
bootstrap role and enqueues a sync for everyone who belongs there (idempotent: safe to repeat).

    python3 infra/account_event.py 444455556666 --management-account 111122223333 > /tmp/gatehouse-event.json
    aws lambda invoke --function-name gatehouse-account-created --region us-east-1 \
        --cli-binary-format raw-in-base64-out --payload file:///tmp/gatehouse-event.json /tmp/out.json

The shape is CloudTrail's, as Organizations delivers it (fixtures/create-account-result-succeeded.json).
"""
import argparse
import datetime
import json
import re
import sys
import uuid


def event(account_id, management_account, region="us-east-1", now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    iso = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    # CloudTrail's form, e.g. "Nov 16, 2026 9:20:53 PM".
    cloudtrail = f"{now:%b} {now.day}, {now.year} {now.hour % 12 or 12}:{now:%M:%S} {now:%p}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS Service Event via CloudTrail",
        "source": "aws.organizations",
        "account": management_account,
        "time": iso,
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "userIdentity": {"accountId": management_account, "invokedBy": "AWS Internal"},
            "eventTime": iso,
            "eventSource": "organizations.amazonaws.com",
            "eventName": "CreateAccountResult",
            "awsRegion": region,
            "sourceIPAddress": "AWS Internal",
            "userAgent": "AWS Internal",
            "requestParameters": None,
            "responseElements": None,
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsServiceEvent",
            "managementEvent": True,
            "recipientAccountId": management_account,
            "serviceEventDetails": {
                "createAccountStatus": {
                    "id": "car-" + uuid.uuid4().hex,
                    "state": "SUCCEEDED",
                    "accountName": "****",
                    "accountId": account_id,
                    "requestedTimestamp": cloudtrail,
                    "completedTimestamp": cloudtrail,
                }
            },
            "eventCategory": "Management",
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("account_id", help="the existing member account (12 digits)")
    parser.add_argument("--management-account", required=True, help="the management account (12 digits)")
    args = parser.parse_args(argv)
    for value in (args.account_id, args.management_account):
        if not re.fullmatch(r"[0-9]{12}", value):
            parser.error(f"{value!r} is not a 12-digit account id")
    json.dump(event(args.account_id, args.management_account), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
