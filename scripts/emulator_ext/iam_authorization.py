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

So a test run with enforcement proves that each role's policies allow every action Gatehouse
performs, and that an action no policy grants is refused. Which resources and conditions a
statement is limited to is proved by the policy-evaluation tests of the core
(shared/core/tests/privileges.rs), not here. Product code never knows about this.
"""
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

_original = IAMPolicyStatement.is_action_permitted

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


def install() -> None:
    IAMPolicyStatement.is_action_permitted = is_action_permitted
