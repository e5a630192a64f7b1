"""The local AWS world's emulator: moto in server mode on loopback.

Started by scripts/with-emulator.sh, never by hand. AWS managed policies are loaded
(MOTO_IAM_LOAD_MANAGED_POLICIES, set by the caller) because groups attach them, and the
extensions in emulator_ext/ fill the gaps Gatehouse's tests need filled.
"""
import argparse
import os
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if os.environ.get("MOTO_IAM_LOAD_MANAGED_POLICIES", "").lower() != "true":
        sys.exit("MOTO_IAM_LOAD_MANAGED_POLICIES=true is required")
    from moto.server import main as moto_main

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import emulator_ext

    emulator_ext.install()
    moto_main(["-H", "127.0.0.1", "-p", str(args.port)])


if __name__ == "__main__":
    main()
