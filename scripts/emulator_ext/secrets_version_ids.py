"""Secrets Manager's ListSecretVersionIds as the API reference describes it, where moto 5.2.5
errs: an unknown secret raised a KeyError (an HTTP 500) instead of ResourceNotFoundException;
every version's CreatedDate was the time of the call, not of the version; and IncludeDeprecated
was ignored (versions without a staging label are listed only when it is true).

Gatehouse reads a service account's key versions with it: which keys it made, which one is
current, and when each was written (the grace period of a rotation counts from there).
"""
import json

from moto.secretsmanager.exceptions import SecretNotFoundException
from moto.secretsmanager.responses import SecretsManagerResponse


def list_secret_version_ids(self: SecretsManagerResponse) -> str:
    secret_id = self._get_param("SecretId", if_none="")
    include_deprecated = bool(self._get_param("IncludeDeprecated", if_none=False))
    backend = self.backend
    if not backend._is_valid_identifier(secret_id):
        raise SecretNotFoundException()
    secret = backend.secrets[secret_id]
    versions = [
        {
            "CreatedDate": version["createdate"],
            "VersionId": version_id,
            "VersionStages": version["version_stages"],
        }
        for version_id, version in secret.versions.items()
        if include_deprecated or version["version_stages"]
    ]
    return json.dumps({"ARN": secret.arn, "Name": secret.name, "Versions": versions})


def install() -> None:
    SecretsManagerResponse.list_secret_version_ids = list_secret_version_ids
