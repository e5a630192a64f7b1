"""Prints the member-account StackSet's parameters as JSON, for
`aws cloudformation create-stack-set ... --parameters file://<this output>`.

ProvisionerRoleName, BootstrapRoleName and GroupPolicyArns come from policy.toml, so that the
StackSet lays exactly what the functions expect; TrustedRoleArns (the functions stack's
TrustedRoleArns output) and OrganizationId are given on the command line.

    python3 infra/stackset_parameters.py --trusted-role-arns ARN,ARN --organization-id o-xxxxxxxxxx
"""
import argparse
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parameters(policy, trusted_role_arns, organization_id):
    group_policy_arns = sorted(
        {arn for g in policy.get("groups", {}).values() for arn in g.get("managed_policies", [])}
    )
    values = {
        "TrustedRoleArns": trusted_role_arns,
        "OrganizationId": organization_id,
        "ProvisionerRoleName": policy["provisioner_role"],
        "BootstrapRoleName": policy["bootstrap_role"],
        "GroupPolicyArns": ",".join(group_policy_arns),
    }
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trusted-role-arns", required=True, help="the functions stack's TrustedRoleArns output")
    parser.add_argument("--organization-id", required=True, help="o-...")
    parser.add_argument("--policy", default=str(ROOT / "policy.toml"), help="the policy file (default: policy.toml)")
    args = parser.parse_args(argv)
    with open(args.policy, "rb") as f:
        policy = tomllib.load(f)
    json.dump(parameters(policy, args.trusted_role_arns, args.organization_id), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
