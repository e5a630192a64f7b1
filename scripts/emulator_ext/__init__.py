"""Small extensions of the emulator (moto) that fill gaps the tests would otherwise have to
pretend around. Each follows the AWS API reference for what it adds and has its own tests
(scripts/emulator_ext/test_*.py). Product code never knows about them."""

from . import iam_service_credentials


def install() -> None:
    iam_service_credentials.install()
