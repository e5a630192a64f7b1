"""IAM authorization that evaluates what moto can know: the actions.

With INITIAL_NO_AUTH_ACTION_COUNT, moto 5.2.5 enforces identity policies, but for most requests
it cannot tell which resource the request is about and evaluates it as `*`: an Allow scoped to
`arn:aws:iam::*:user/gatehouse/*` then allows nothing, though AWS would allow the CreateUser it
was written for. And it evaluates no condition in an identity policy from request values (it has
none), so a statement's Condition decides at random relative to AWS.

This extension makes moto evaluate, of an identity policy, exactly what it can: whether the
*action* is allowed. An Allow counts for its actions whatever its Resource (when moto does not
know the request's resource) and whatever its Condition; a Deny counts only when it denies every
resource without a condition. Trust policies (statements with a Principal) are left to moto.

It also authorizes SQS's batch operations as AWS does: the Service Authorization Reference has no
`sqs:SendMessageBatch` (nor `DeleteMessageBatch`, `ChangeMessageVisibilityBatch`); a batch call
needs the permission of its single-message operation, which is what a policy grants. moto asks
for the batch name, and refuses a role AWS would let through.

And DynamoDB's `TransactWriteItems` as AWS does: there is no such action; each item of the
transaction is authorized as its own operation (a `Put` as `dynamodb:PutItem`, a `Delete` as
`DeleteItem`, an `Update` as `UpdateItem`, a `ConditionCheck` as `ConditionCheckItem`). moto asks
for `dynamodb:TransactWriteItems`, which no policy can grant.

So a test run with enforcement proves that each role's policies allow every action Gatehouse
performs, and that an action no policy grants is refused. Which resources and conditions a
statement is limited to is proved by the policy-evaluation tests of the core
(shared/core/tests/privileges.rs), not here. Product code never knows about this.
"""
import json

from moto.iam.access_control import IAMPolicyStatement, IAMRequestBase, PermissionResult

_original = IAMPolicyStatement.is_action_permitted
_original_check = IAMRequestBase.check_action_permitted

# What each item of a DynamoDB transaction is authorized as.
_TRANSACTION_ITEMS = {
    "Put": "dynamodb:PutItem",
    "Delete": "dynamodb:DeleteItem",
    "Update": "dynamodb:UpdateItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
}

# The permission AWS checks for an operation that has no action of its own.
_AUTHORIZED_AS = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    action = _AUTHORIZED_AS.get(action, action)
    statement = self._statement
    if "Principal" in statement or "Resource" not in statement:
        return _original(self, action, resource, principal, incoming_condition_values)
    if statement.get("Effect") == "Allow":
        actions_only = {k: v for k, v in statement.items() if k != "Condition"}
        if resource == "*":
            actions_only["Resource"] = "*"
        return _original(
            IAMPolicyStatement(actions_only), action, resource, principal, incoming_condition_values
        )
    # A Deny: counted only when it denies every resource, unconditionally.
    if "Condition" in statement or "*" not in _listed(statement["Resource"]):
        return PermissionResult.NEUTRAL
    return _original(self, action, resource, principal, incoming_condition_values)


def transaction_actions(body) -> list:
    """The actions a `TransactWriteItems` body needs, one per kind of item it holds."""
    try:
        items = json.loads(body or b"{}").get("TransactItems", [])
    except ValueError:
        return []
    kinds = {kind for item in items if isinstance(item, dict) for kind in item}
    return sorted(_TRANSACTION_ITEMS[k] for k in kinds if k in _TRANSACTION_ITEMS)


def check_action_permitted(self, resource):
    if self._action != "dynamodb:TransactWriteItems":
        return _original_check(self, resource)
    actions = transaction_actions(self._body)
    if not actions:
        return _original_check(self, resource)
    try:
        for action in actions:
            self._action = action
            _original_check(self, resource)
    finally:
        self._action = "dynamodb:TransactWriteItems"


def install() -> None:
    IAMPolicyStatement.is_action_permitted = is_action_permitted
    IAMRequestBase.check_action_permitted = check_action_permitted
