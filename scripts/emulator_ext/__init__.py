"""Small extensions of the emulator (moto) that fill gaps the tests would otherwise have to
pretend around. Each follows the AWS API reference for what it adds and has its own tests
(scripts/emulator_ext/test_*.py). Product code never knows about them."""

from . import (
    iam_authorization,
    iam_service_credentials,
    iam_user_boundaries,
    secrets_version_ids,
    signed_bodies,
)


def install() -> None:
    iam_service_credentials.install()
    iam_user_boundaries.install()
    iam_authorization.install()
    secrets_version_ids.install()
    signed_bodies.install()
