"""Helpers shared by the infra tests: read a CloudFormation template, resolve the intrinsics the
policy documents use, and render a shared/policies/*.json file the way the functions do.

The rendering follows gatehouse-core's `documents` module: scalar placeholders are substituted
inside strings, a list placeholder standing alone as an array element is spliced into the array,
and `${!x}` becomes `${x}` (an IAM policy variable).
"""
import json
import logging
import os
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "shared" / "policies"
INFRA = ROOT / "infra"

sys.path.insert(0, str(INFRA))
import stackset_parameters  # noqa: E402 (infra/, beside the templates)


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, ...) read as their long form."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _tag)


def load_template(name):
    """The template infra/<name>, as a dict in long form."""
    with open(INFRA / name, encoding="utf-8") as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def resolve(node, values):
    """Resolves Ref, Fn::Sub, Fn::Join, Fn::Split and Fn::Select against `values` (parameters
    and pseudo parameters by name). Anything else intrinsic is an error: the documents must keep
    to what the emulator's CloudFormation resolves too."""
    if isinstance(node, list):
        return [resolve(x, values) for x in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (key, arg), = node.items()
        if key == "Ref":
            return values[arg]
        if key == "Fn::Sub":
            if not isinstance(arg, str):
                raise ValueError("only the string form of Fn::Sub is used in the documents")

            def sub(m):
                name = m.group(1)
                if name.startswith("!"):
                    return "${" + name[1:] + "}"
                value = values[name]
                if not isinstance(value, str):
                    raise ValueError(f"${{{name}}} is a list: it cannot be substituted in a string")
                return value

            return _PLACEHOLDER.sub(sub, arg)
        if key == "Fn::Join":
            sep, items = arg
            items = resolve(items, values)
            return sep.join(items)
        if key == "Fn::Split":
            sep, text = arg
            return resolve(text, values).split(sep)
        if key == "Fn::Select":
            index, items = arg
            return resolve(items, values)[int(resolve(index, values))]
        if key.startswith("Fn::") or key == "Condition":
            raise ValueError(f"{key} is not expected in a policy document")
    return {k: resolve(v, values) for k, v in node.items()}


def render_policy_file(name, values):
    """shared/policies/<name>, rendered with `values` (name -> str, or list to splice)."""
    with open(POLICIES / name, encoding="utf-8") as f:
        doc = json.load(f)
    return _render(doc, values)


def _render(node, values):
    if isinstance(node, str):
        def sub(m):
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            value = values.get(name)
            if not isinstance(value, str):
                raise KeyError(f"no scalar value for ${{{name}}}")
            return value

        return _PLACEHOLDER.sub(sub, node)
    if isinstance(node, list):
        out = []
        for item in node:
            m = _PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
            if m and isinstance(values.get(m.group(1)), list):
                out.extend(values[m.group(1)])
            else:
                out.append(_render(item, values))
        return out
    if isinstance(node, dict):
        return {k: _render(v, values) for k, v in node.items()}
    return node


def policy_file():
    """policy.toml, parsed."""
    with open(ROOT / "policy.toml", "rb") as f:
        return tomllib.load(f)


def group_policy_arns(policy):
    """Every managed policy ARN the policy file's [groups] name, sorted and without repeats (as
    the functions compute them), as infra/stackset_parameters.py passes them to the StackSet."""
    params = {p["ParameterKey"]: p["ParameterValue"] for p in stackset_parameters.parameters(policy, "", "")}
    return params["GroupPolicyArns"].split(",")


def expand_sam(template, code_uri=None):
    """The functions template as `sam deploy` sends it: the SAM transform applied (with
    `code_uri` in place of the local CodeUri, which `sam build`/`sam package` would upload)."""
    import copy

    from samtranslator.translator.transform import transform

    template = copy.deepcopy(template)
    if code_uri:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = code_uri

    class NoManagedPolicies:  # the template names no SAM policy template or managed policy
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The translator records usage metrics it never publishes here, and says so on exit.
    logging.getLogger("samtranslator.metrics").setLevel(logging.ERROR)
    return transform(template, {}, NoManagedPolicies())


# The member-account stack's resources and the file each document comes from:
# (logical id, property holding the document, file).
MEMBER_DOCUMENTS = [
    ("UserBoundary", "PolicyDocument", "user-boundary.json"),
    ("ProvisionerRole", "AssumeRolePolicyDocument", "provisioner-trust.json"),
    ("ProvisionerPermissions", "PolicyDocument", "provisioner-permissions.json"),
]


def member_values(account, partition, parameters):
    """The values a member-account stack resolves its documents with, by template name and by
    the policy files' placeholder names."""
    return {
        "AWS::AccountId": account,
        "AWS::Partition": partition,
        **parameters,
        # The files' names for the two role-name parameters.
        "ProvisionerRole": parameters["ProvisionerRoleName"],
        "BootstrapRole": parameters["BootstrapRoleName"],
    }


def example_parameters():
    """Realistic member-stack parameters, as infra/stackset_parameters.py prints them for the
    StackSet (lists split): the functions' roles, an organization, policy.toml's role names and
    group policies."""
    functions_account = "210987654321"
    trusted = ",".join(
        f"arn:aws:iam::{functions_account}:role/gatehouse/{name}"
        for name in ("gatehouse-people-events", "gatehouse-account-created")
    )
    printed = stackset_parameters.parameters(policy_file(), trusted, "o-a1b2c3d4e5")
    params = {p["ParameterKey"]: p["ParameterValue"] for p in printed}
    for name in ("TrustedRoleArns", "GroupPolicyArns"):
        params[name] = params[name].split(",")
    return params
