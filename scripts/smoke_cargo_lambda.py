"""The by-hand path, through the real client (run by `make test`, alone by `make test-cargo-lambda`).

What the README's "Invoking a function by hand" section tells a user to do, done by a script:
the local world (`gatehouse-world serve`, what `make world` runs), `cargo lambda watch` with
the environment the world printed, and `cargo lambda invoke` of the onboarding, offboarding and
account fixtures; the answers are checked, and so are the emulated accounts (`gatehouse-world
users --json`) and the outcome events. cargo-lambda is the one pinned in the project venv
(requirements-dev.txt), never whatever is on PATH. A second `cargo lambda watch`, started
without one setting, proves the invoke's answer names it.

Every process it starts runs in a session of its own, and every process of those sessions is
stopped on every exit path (success, failure, Ctrl-C).
"""
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CARGO_LAMBDA = ROOT / ".venv" / "bin" / "cargo-lambda"
WORLD_TIMEOUT = 300  # building the world: four accounts, each with its member stack
FIRST_INVOKE_TIMEOUT = 600  # `cargo lambda watch` builds the function on its first invoke
INVOKE_TIMEOUT = 120


def target_dir() -> Path:
    given = os.environ.get("GATEHOUSE_TARGET_DIR")
    if given:
        return Path(given)
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return Path(json.loads(out)["target_directory"])


TARGET = target_dir()
WORLD = TARGET / "debug" / "gatehouse-world"
LOGS = TARGET / "localworld"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_members(sid: int) -> list[int]:
    """Every live process of session `sid` (the processes a started one started in turn)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


class Started:
    """The processes this script started, each the leader of a session of its own."""

    def __init__(self):
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list, env: dict, log: Path, **kw) -> subprocess.Popen:
        with open(log, "w") as file:
            p = subprocess.Popen(
                [str(a) for a in args], cwd=ROOT, env=env, stdout=kw.pop("stdout", file),
                stderr=file, start_new_session=True, **kw,
            )
        self.processes.append((name, p))
        return p

    def stop(self, name: str) -> None:
        for n, p in list(self.processes):
            if n == name:
                self._stop(p)
                self.processes.remove((n, p))

    def stop_all(self) -> None:
        for _, p in reversed(self.processes):
            self._stop(p)
        self.processes.clear()

    @staticmethod
    def _stop(p: subprocess.Popen) -> None:
        sid = p.pid
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # What the leader started and left behind (cargo run, the function binaries, the
        # emulator): asked to stop, then made to.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = session_members(sid)
            if not left:
                return
            for pid in left:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while session_members(sid) and time.monotonic() < deadline:
                time.sleep(0.1)


def clean_env() -> dict:
    """This environment without any AWS or Gatehouse setting of the caller's."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "GATEHOUSE_")) or k == "GATEHOUSE_TARGET_DIR"}


def start_world(started: Started, port: int) -> dict:
    """`gatehouse-world serve` on `port`; returns the variables it printed as `export` lines."""
    env = clean_env() | {"GATEHOUSE_WORLD_PORT": str(port)}
    p = started.start("world", [WORLD, "serve"], env, LOGS / f"smoke-world-{port}.log",
                      stdout=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in p.stdout] + [lines.put(None)],
                     daemon=True).start()
    exports = {}
    deadline = time.monotonic() + WORLD_TIMEOUT
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"the world printed no environment in {WORLD_TIMEOUT} s")
        if line is None:
            raise AssertionError(f"the world stopped (exit {p.wait()}); see its log")
        if line.startswith("export "):
            name, _, value = line[len("export "):].rstrip("\n").partition("=")
            assert value.startswith("'") and value.endswith("'"), line
            exports[name] = value[1:-1]
        if line.startswith("# Emulator log:"):
            return exports


def start_watch(started: Started, name: str, exports: dict, port: int) -> None:
    env = clean_env() | exports
    started.start(name, [CARGO_LAMBDA, "lambda", "watch", "--invoke-port", port,
                         "--ignore-changes"], env, LOGS / f"smoke-{name}-{port}.log")
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{name}: nothing listens on {port}"
            time.sleep(0.2)


def invoke(function: str, data_file: Path, port: int, timeout: int = INVOKE_TIMEOUT) -> dict:
    """`cargo lambda invoke`, as the README runs it; its answer, parsed."""
    done = subprocess.run(
        [CARGO_LAMBDA, "lambda", "invoke", function, "--invoke-port", str(port),
         "--data-file", data_file],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=clean_env(),
    )
    assert done.returncode == 0, f"invoke {function}: {done.returncode}\n{done.stdout}{done.stderr}"
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"invoke {function}: not JSON: {done.stdout!r} {done.stderr!r}")


def world(port: int, *args: str) -> str:
    """A `gatehouse-world` command against the world on `port`; its standard output."""
    done = subprocess.run([WORLD, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=clean_env() | {"GATEHOUSE_WORLD_PORT": str(port)})
    assert done.returncode == 0, f"gatehouse-world {' '.join(args)}: {done.stderr}"
    return done.stdout


def accounts(port: int) -> dict:
    """account id -> {user name -> user}, read back from the emulated accounts."""
    listing = json.loads(world(port, "users", "--json"))["accounts"]
    return {a["id"]: {u["name"]: u for u in a["users"]} for a in listing}


START = time.monotonic()


def check(condition: bool, what: str) -> None:
    if not condition:
        raise AssertionError(what)
    print(f"  ok  {time.monotonic() - START:4.0f} s  {what}")


def smoke(started: Started, tmp: Path) -> list[Path]:
    """The whole path; returns its logs (kept when it fails, removed when it passes)."""
    assert CARGO_LAMBDA.exists(), f"no {CARGO_LAMBDA}: `make venv` installs it"
    assert WORLD.exists(), f"no {WORLD}: `make test` builds it"
    world_port, watch_port, broken_port = free_port(), free_port(), free_port()
    exports = start_world(started, world_port)
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_REGION", "GATEHOUSE_DIRECTORY_TABLE",
                 "GATEHOUSE_EVENT_BUS", "GATEHOUSE_WORK_QUEUE_URL",
                 "GATEHOUSE_TRUSTED_ROLE_ARNS"):
        check(bool(exports.get(name)), f"the world exports {name}")
    check(exports["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{world_port}",
          "the functions talk to the emulator on the port asked for")
    alias = subprocess.run(["cargo", "world", "env"], cwd=ROOT, capture_output=True, text=True,
                           env=clean_env() | {"GATEHOUSE_WORLD_PORT": str(world_port)},
                           timeout=FIRST_INVOKE_TIMEOUT)
    check(alias.returncode == 0 and all(f"export {k}='{v}'" in alias.stdout
                                        for k, v in exports.items()),
          "`cargo world env` prints the same environment")
    homes = {a["environment"]: a["id"]
             for a in json.loads(world(world_port, "users", "--json"))["accounts"]}
    dev, staging = homes["development"], homes["staging"]

    # Both watches at once: one with the whole environment, one without a setting.
    start_watch(started, "watch", exports, watch_port)
    broken = {k: v for k, v in exports.items() if k != "GATEHOUSE_TRUSTED_ROLE_ARNS"}
    start_watch(started, "watch-without-setting", broken, broken_port)

    answer = invoke("account-created", ROOT / "fixtures/create-account-result-succeeded.json",
                    broken_port, FIRST_INVOKE_TIMEOUT)
    check(answer == {"errorType": "Runtime.InitError", "errorMessage":
                     "account-created: configuration: GATEHOUSE_TRUSTED_ROLE_ARNS is not set"},
          f"a missing setting is the invoke's answer, named: {answer}")
    started.stop("watch-without-setting")

    answer = invoke("people-events", ROOT / "fixtures/onboard-engineer.json", watch_port,
                    FIRST_INVOKE_TIMEOUT)
    check(answer["result"] == "applied" and answer["accounts"] == {dev: "granted"},
          "onboarding: granted in development only")
    ada = accounts(world_port)[dev].get("ada.lovelace@example.com")
    check(ada is not None and ada["status"] == "active" and ada["groups"] == ["developers"]
          and ada["console"] and ada["employeeId"] == "E1001",
          "the user is in development, active, a developer, with a console password")

    answer = invoke("people-events", ROOT / "fixtures/offboard-engineer.json", watch_port)
    others = {a: r for a, r in answer["accounts"].items() if a != dev}
    check(answer["result"] == "applied" and answer["accounts"][dev] == "revoked"
          and set(others.values()) == {"unchanged"} and len(others) == 3,
          "offboarding: revoked in development, every other account visited")
    ada = accounts(world_port)[dev]["ada.lovelace@example.com"]
    check(ada["status"] == "disabled" and ada["groups"] == [] and not ada["console"]
          and ada["disabledBy"] == "0b1e0f4e-7c1a-4d52-9a31-2f6f0b8f1003",
          "the user is disabled: kept, no groups, no console, tagged by the offboarding")

    answer = invoke("people-events", ROOT / "fixtures/onboard-pm.json", watch_port)
    check(answer["accounts"] == {staging: "granted"}, "a project manager in staging")

    fixture = tmp / "new-account.json"
    fixture.write_text(world(world_port, "new-account", "staging"))
    new = json.loads(fixture.read_text())["detail"]["serviceEventDetails"][
        "createAccountStatus"]["accountId"]
    answer = invoke("account-created", fixture, watch_port, FIRST_INVOKE_TIMEOUT)
    check(answer["result"] == "baselined" and answer["accountId"] == new
          and answer["environment"] == "staging" and answer["backfilled"] == 1
          and "role GatehouseProvisioner" in answer["created"],
          f"a new staging account baselined, one person enqueued: {answer}")

    batch = tmp / "work.json"
    batch.write_text(world(world_port, "work"))
    records = json.loads(batch.read_text())["Records"]
    check(len(records) == 1 and json.loads(records[0]["body"])["detail"] ==
          {"employeeId": "E3001", "accountId": new}, "the work queue held her Employee Sync")
    answer = invoke("people-events", batch, watch_port)
    check(answer == {"batchItemFailures": []}, "the batch was applied whole")
    check(json.loads(world(world_port, "work"))["Records"] == [], "the work queue is empty")
    margaret = accounts(world_port)[new].get("margaret.hamilton@example.com")
    check(margaret is not None and margaret["status"] == "active"
          and margaret["groups"] == ["stakeholders"] and margaret["console"],
          "the new account holds her, active, with her group and a console password")

    outcomes = json.loads(world(world_port, "outcomes"))
    kinds = sorted(o["detail-type"] for o in outcomes)
    check(kinds == ["Access Granted"] * 3 + ["Access Revoked", "Account Baselined"],
          f"the outcomes were captured: {kinds}")
    granted = [o["detail"] for o in outcomes if o["detail-type"] == "Access Granted"]
    check(all(g["initialPasswordSecretArn"].startswith("arn:aws:secretsmanager:") for g in granted),
          "each grant's outcome names its initial password's secret")
    check(json.loads(world(world_port, "outcomes")) == [], "outcomes are handed out once")
    print(f"the by-hand path works with cargo-lambda ({time.monotonic() - START:.0f} s)")
    return [LOGS / f"smoke-world-{world_port}.log", LOGS / f"world-emulator-{world_port}.log",
            LOGS / f"smoke-watch-{watch_port}.log",
            LOGS / f"smoke-watch-without-setting-{broken_port}.log"]


def main() -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    started = Started()
    # Ctrl-C and termination end the run through the `finally` below (even when started in
    # the background, where SIGINT comes ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            logs = smoke(started, Path(tmp))
        started.stop_all()
        for log in logs:
            log.unlink(missing_ok=True)
        return 0
    except (AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        print(f"logs: {LOGS}/smoke-*.log, {LOGS}/world-emulator-*.log", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        started.stop_all()


if __name__ == "__main__":
    sys.exit(main())
