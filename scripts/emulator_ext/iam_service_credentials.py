"""IAM service-specific credentials, which moto 5.2.5 does not implement (it answers HTTP 500).

Gatehouse must deactivate them when a person leaves, so the emulator needs them. Implemented
after the IAM API reference: CreateServiceSpecificCredential, ListServiceSpecificCredentials,
UpdateServiceSpecificCredential, ResetServiceSpecificCredential, DeleteServiceSpecificCredential.
Credentials live on moto's own User object, so they belong to the user's account and vanish
with the user like everything else moto holds.
"""
import secrets
import string

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.iam.exceptions import InvalidInput, LimitExceededException, NoSuchEntity
from moto.iam.responses import IamResponse

# The services that accept service-specific credentials (IAM API reference).
SERVICES = {"codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com"}
# AWS allows two credentials per user and service.
PER_USER_AND_SERVICE = 2


class ServiceSpecificCredential:
    def __init__(self, user_name: str, service_name: str):
        self.user_name = user_name
        self.service_name = service_name
        self.service_user_name = f"{user_name.split('@')[0][:17]}-at-{secrets.randbelow(10**12):012d}"
        self.service_password = "".join(
            secrets.choice(string.ascii_letters + string.digits + "+/=") for _ in range(44)
        )
        self.service_specific_credential_id = "ACCA" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(17)
        )
        self.status = "Active"
        self.create_date = utcnow()

    def metadata(self) -> dict:
        return {
            "UserName": self.user_name,
            "Status": self.status,
            "ServiceUserName": self.service_user_name,
            "CreateDate": self.create_date,
            "ServiceSpecificCredentialId": self.service_specific_credential_id,
            "ServiceName": self.service_name,
        }

    def full(self) -> dict:
        return {**self.metadata(), "ServicePassword": self.service_password}


def _credentials(response: IamResponse, user_name: str) -> list:
    user = response.backend.get_user(user_name)  # raises NoSuchEntity for an unknown user
    if not hasattr(user, "gatehouse_service_credentials"):
        user.gatehouse_service_credentials = []
    return user.gatehouse_service_credentials


def _find(response: IamResponse, user_name: str, credential_id: str) -> ServiceSpecificCredential:
    for c in _credentials(response, user_name):
        if c.service_specific_credential_id == credential_id:
            return c
    raise NoSuchEntity(f"No such credential {credential_id} for user {user_name}")


def create_service_specific_credential(self: IamResponse) -> ActionResult:
    user_name = self._get_param("UserName")
    service = self._get_param("ServiceName")
    if service not in SERVICES:
        raise InvalidInput(f"ServiceName {service} does not accept service-specific credentials")
    creds = _credentials(self, user_name)
    if sum(1 for c in creds if c.service_name == service) >= PER_USER_AND_SERVICE:
        raise LimitExceededException(
            f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: {PER_USER_AND_SERVICE}"
        )
    cred = ServiceSpecificCredential(user_name, service)
    creds.append(cred)
    return ActionResult({"ServiceSpecificCredential": cred.full()})


def list_service_specific_credentials(self: IamResponse) -> ActionResult:
    user_name = self._get_param("UserName")
    service = self._get_param("ServiceName")
    creds = [
        c.metadata()
        for c in _credentials(self, user_name)
        if service is None or c.service_name == service
    ]
    return ActionResult({"ServiceSpecificCredentials": creds})


def update_service_specific_credential(self: IamResponse) -> ActionResult:
    status = self._get_param("Status")
    if status not in ("Active", "Inactive"):
        raise InvalidInput(f"Status must be Active or Inactive, not {status}")
    cred = _find(self, self._get_param("UserName"), self._get_param("ServiceSpecificCredentialId"))
    cred.status = status
    return EmptyResult()


def reset_service_specific_credential(self: IamResponse) -> ActionResult:
    cred = _find(self, self._get_param("UserName"), self._get_param("ServiceSpecificCredentialId"))
    cred.service_password = ServiceSpecificCredential(cred.user_name, cred.service_name).service_password
    return ActionResult({"ServiceSpecificCredential": cred.full()})


def delete_service_specific_credential(self: IamResponse) -> ActionResult:
    user_name = self._get_param("UserName")
    cred = _find(self, user_name, self._get_param("ServiceSpecificCredentialId"))
    _credentials(self, user_name).remove(cred)
    return EmptyResult()


def install() -> None:
    for f in (
        create_service_specific_credential,
        list_service_specific_credentials,
        update_service_specific_credential,
        reset_service_specific_credential,
        delete_service_specific_credential,
    ):
        setattr(IamResponse, f.__name__, f)
