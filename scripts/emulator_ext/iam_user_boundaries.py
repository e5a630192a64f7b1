"""IAM users' permissions boundaries, which moto 5.2.5 drops: CreateUser ignores its
PermissionsBoundary parameter, GetUser never reports one, and PutUserPermissionsBoundary and
DeleteUserPermissionsBoundary are not implemented.

Gatehouse creates every user with its boundary, and `reconcile` reports a managed user without
it, so the emulator must keep it. Implemented after the IAM API reference: CreateUser's
PermissionsBoundary, GetUser's PermissionsBoundary (type PermissionsBoundaryPolicy),
PutUserPermissionsBoundary and DeleteUserPermissionsBoundary. As for roles, the boundary must
be a policy ARN (InvalidInput otherwise); AWS also checks that the policy exists, which moto
does not for roles either.
"""
from moto.core.responses import ActionResult, EmptyResult
from moto.iam.exceptions import InvalidInput
from moto.iam.models import User
from moto.iam.responses import IamResponse

_create_user = IamResponse.create_user


def _valid(response: IamResponse, boundary: str) -> str:
    if not response.backend.policy_arn_regex.match(boundary):
        raise InvalidInput(f"Value ({boundary}) for parameter PermissionsBoundary is invalid.")
    return boundary


def _permissions_boundary(self: User):
    arn = getattr(self, "gatehouse_permissions_boundary", None)
    if not arn:
        return None
    return {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn}


def create_user(self: IamResponse) -> ActionResult:
    boundary = self._get_param("PermissionsBoundary")
    if boundary:
        _valid(self, boundary)
    result = _create_user(self)
    if boundary:
        self.backend.get_user(self._get_param("UserName")).gatehouse_permissions_boundary = boundary
    return result


def put_user_permissions_boundary(self: IamResponse) -> ActionResult:
    user = self.backend.get_user(self._get_param("UserName"))  # NoSuchEntity for an unknown user
    user.gatehouse_permissions_boundary = _valid(self, self._get_param("PermissionsBoundary"))
    return EmptyResult()


def delete_user_permissions_boundary(self: IamResponse) -> ActionResult:
    user = self.backend.get_user(self._get_param("UserName"))
    user.gatehouse_permissions_boundary = None
    return EmptyResult()


def install() -> None:
    User.permissions_boundary = property(_permissions_boundary)
    for f in (create_user, put_user_permissions_boundary, delete_user_permissions_boundary):
        setattr(IamResponse, f.__name__, f)
