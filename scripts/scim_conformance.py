"""SCIM conformance of the `scim` function (run by `make test`, alone by `make test-scim`).

Two public SCIM 2.0 suites (RFC 7643/7644), pinned in requirements-dev.txt, are run against the
function served the way a developer serves it by hand: the local world (`gatehouse-world
serve`, which creates the SCIM table and the bearer token's secret) and `cargo lambda watch`,
whose function URL for the `scim` binary is http://127.0.0.1:<port>/lambda-url/scim (cargo-lambda
strips that prefix: the function sees /Users, /Groups, ...). The suites:

- scim2-tester, through its command line `scim2 test` (scim2-cli): discovery, then for each
  resource type /ResourceTypes lists, create, read, list, attribute selection, replace, delete and
  PATCH add/remove/replace of every attribute the function's /Schemas publishes;
- scim-sanity `probe` (strict mode): lifecycles of a User and a Group as an identity provider
  sends them, list, filter and paging, error responses.

Before them, this script checks what neither suite does: that a request without the token, or
with a wrong one, is refused (401); after them, that they did test Users and Groups (a suite
tests what the server advertises, so a server advertising less would otherwise pass with less).

Every result that is not a pass (scim2-tester: SUCCESS; scim-sanity: pass) fails the run unless
scripts/scim_conformance_exceptions.toml lists it with its justification; an exception that
matches nothing fails it too, so that the list stays the reviewed truth. The script is the test:
it prints each suite's outcome and exits non-zero on any failure.

`--base-url URL` (with the token in SCIM_TOKEN) runs the suites against a server that is already
up, for instance `make world` and `cargo lambda watch` started by hand. `--report FILE` appends
the outcome, timestamped, as Markdown. Every process it starts runs in a session of its own,
stopped on every exit path (success, failure, Ctrl-C), as scripts/smoke_cargo_lambda.py does:
its process handling and its way of starting the world and `cargo lambda watch` are reused here.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from smoke_cargo_lambda import (  # noqa: E402  (the sibling script, importable once on the path)
    CARGO_LAMBDA, LOGS, ROOT, WORLD, Started, clean_env, free_port, start_watch, start_world,
)

BIN = ROOT / ".venv" / "bin"
SCIM2 = BIN / "scim2"
SCIM_SANITY = BIN / "scim-sanity"
EXCEPTIONS = Path(__file__).resolve().parent / "scim_conformance_exceptions.toml"
FUNCTION = "scim"
FIRST_REQUEST_TIMEOUT = 600  # `cargo lambda watch` builds the function on its first request
SUITE_TIMEOUT = 900
WORLD_EXPORTS = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                 "GATEHOUSE_SCIM_TABLE", "GATEHOUSE_SCIM_TOKEN_SECRET")

TESTER = "scim2-tester"
SANITY = "scim-sanity"
OWN = "gatehouse"
PASSED = {TESTER: "SUCCESS", SANITY: "pass", OWN: "pass"}
# scim2-tester's statuses (scim2_tester.Status); `scim2 test` prints each result as
# "<STATUS> <check>" at the start of a line, its reason on the lines after it.
TESTER_LINE = re.compile(
    r"^(SUCCESS|COMPLIANT|ACCEPTABLE|DEVIATION|ERROR|CRITICAL|SKIPPED) ([A-Za-z_][A-Za-z0-9_]*)$")


class Failed(Exception):
    """The run could not be completed (as opposed to checks that failed)."""


# ---------------------------------------------------------------------------------------------
# The server: the world, its token, `cargo lambda watch`, the first request.

def read_token(exports: dict) -> str:
    """The bearer token, read from the secret the world created, in the emulator."""
    import boto3  # the project venv's (requirements-dev.txt, with the emulator)

    client = boto3.client(
        "secretsmanager", endpoint_url=exports["AWS_ENDPOINT_URL"],
        region_name=exports["AWS_REGION"], aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=exports.get("AWS_SESSION_TOKEN"))
    # The secret string is the bare token, exactly (infra/template.yaml generates it so).
    token = client.get_secret_value(SecretId=exports["GATEHOUSE_SCIM_TOKEN_SECRET"])["SecretString"]
    if not token:
        raise Failed(f"the secret {exports['GATEHOUSE_SCIM_TOKEN_SECRET']} holds no token")
    return token


def request(url: str, token: str | None, timeout: float) -> tuple[int, dict, str]:
    """GET `url` with the token (if any): status, headers, body."""
    headers = {"Accept": "application/scim+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers or {}), e.read().decode(errors="replace") if e.fp else ""


def first_request(base: str, token: str, serving=lambda: True) -> None:
    """Waits for the function to answer (the watch builds it first) and to answer right;
    `serving` says whether what serves it still runs."""
    url = f"{base}/ServiceProviderConfig"
    deadline = time.monotonic() + FIRST_REQUEST_TIMEOUT
    while True:
        try:
            status, _, body = request(url, token, timeout=max(1.0, deadline - time.monotonic()))
            break
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            if not serving():
                raise Failed(f"GET {url}: `cargo lambda watch` stopped ({e}); see its log")
            if time.monotonic() > deadline:
                raise Failed(f"GET {url}: no answer in {FIRST_REQUEST_TIMEOUT} s ({e})")
            time.sleep(1)
    if status != 200:
        raise Failed(f"GET {url} with the token answered {status}, not 200: {body[:2000]}")


def resource_type_names(base: str, token: str) -> list[str]:
    """The names /ResourceTypes lists, in its order: the order scim2-tester tests them in."""
    status, _, body = request(f"{base}/ResourceTypes", token, timeout=60)
    try:
        listed = json.loads(body).get("Resources") or []
        return [str(r.get("name") or r.get("id")) for r in listed] if status == 200 else []
    except (ValueError, AttributeError):
        return []


# ---------------------------------------------------------------------------------------------
# The checks: this script's own, then the two suites. Each result is a dict with the suite, the
# check's name, the resource type (or None), its status and the suite's own message.

def result(suite, check, status, reason="", scope=None) -> dict:
    """scope: the resource type a scim2-tester check ran on, the phase of a scim-sanity one."""
    return {"suite": suite, "check": check, "scope": scope, "status": status,
            "reason": reason}


def own_checks(base: str, token: str) -> list[dict]:
    """What neither suite checks: the bearer token is required (both always send it)."""
    results = []
    for name, sent in (("no token: 401", None), ("wrong token: 401", token + "-not")):
        status, _, body = request(f"{base}/Users", sent, timeout=60)
        results.append(result(OWN, name, "pass" if status == 401 else "fail",
                              "" if status == 401 else f"GET /Users answered {status}: {body[:500]}"))
    return results


def coverage(results: list[dict]) -> list[dict]:
    """That the suites tested what Gatehouse serves, not less: scim2-tester created a User and a
    Group (it tests the resource types /ResourceTypes lists), scim-sanity ran both lifecycles."""
    out = []
    for kind in ("User", "Group"):
        tested = any(r["suite"] == TESTER and r["check"] == "object_creation"
                     and r["scope"] == kind for r in results)
        out.append(result(OWN, f"scim2-tester tested {kind}s", "pass" if tested else "fail",
                          "" if tested else f"no object_creation check ran on {kind}"))
        endpoint = "/Users" if kind == "User" else "/Groups"
        posted = any(r["suite"] == SANITY and r["check"] == f"POST {endpoint}" for r in results)
        out.append(result(OWN, f"scim-sanity tested {kind}s", "pass" if posted else "fail",
                          "" if posted else f"no POST {endpoint} check ran"))
    return out


def kill_session(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def run(args: list, env: dict, log: Path, timeout: int = SUITE_TIMEOUT) -> tuple[int, str]:
    """A suite's command in a session of its own (killed whole on a timeout); its output."""
    with open(log, "w") as file:
        p = subprocess.Popen([str(a) for a in args], cwd=ROOT, env=env, stdout=file,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_session(p)
            raise Failed(f"{args[0]} did not finish in {timeout} s; see {log}")
        except BaseException:
            kill_session(p)
            raise
    return rc, log.read_text(errors="replace")


def parse_tester(output: str, types: list[str]) -> list[dict]:
    """`scim2 test` output -> results. The checks before the first object_creation are the
    discovery's; each object_creation starts the next resource type of /ResourceTypes."""
    results, current, block = [], None, -1
    for line in output.splitlines():
        match = TESTER_LINE.match(line)
        if match:
            status, check = match.groups()
            if check == "object_creation":
                block += 1
                current = types[block] if block < len(types) else f"resource type #{block + 1}"
            results.append(result(TESTER, check, status, scope=current))
        elif results:
            text = line[2:] if line.startswith("  ") else line
            r = results[-1]
            r["reason"] = f"{r['reason']}\n{text}" if r["reason"] else text
    return results


def run_tester(base: str, token: str, log: Path, types: list[str]) -> list[dict]:
    # The header goes through the environment, not the command line (scim2-cli's advice).
    env = clean_env() | {"SCIM_CLI_HEADERS": f"Authorization: Bearer {token}"}
    rc, output = run([SCIM2, "--url", base, "test"], env, log)
    results = parse_tester(output, types)
    refused = re.search(r"^Error: (Could not discover the server at .*)", output, re.M | re.S)
    if rc == 1 and not results and refused:
        # scim2-cli reads the discovery endpoints before any check, and stops if it cannot
        # build its client from them: one failed check, and the other suite still runs.
        return [result(TESTER, "discovery (scim2-cli, before the checks)", "ERROR",
                       refused.group(1).strip())]
    if rc not in (0, 1) or not results:
        raise Failed(f"`scim2 test` exited {rc} with no results it could be judged by:\n"
                     f"{output[-3000:]}")
    if (rc == 0) != all(r["status"] == PASSED[TESTER] for r in results):
        raise Failed(f"`scim2 test` exited {rc}, which its results as read here contradict; "
                     f"see {log}")
    return results


def run_sanity(base: str, token: str, log: Path) -> tuple[list[dict], list[dict]]:
    # scim-sanity takes the token only as an option: it is passed here through the environment
    # and put on its command line inside the interpreter, out of `ps`.
    env = clean_env() | {"SCIM_SANITY_TOKEN": token}
    launcher = ("import os, sys; from scim_sanity.cli import main; "
                "sys.argv[sys.argv.index('--token') + 1] = os.environ.pop('SCIM_SANITY_TOKEN'); "
                "sys.exit(main())")
    rc, output = run([BIN / "python", "-c", launcher, "probe", base, "--token", "-",
                      "--i-accept-side-effects", "--json-output", "--strict", "--timeout", "60"],
                     env, log)
    try:
        report = json.loads(output[output.index("{"):])
    except ValueError:
        raise Failed(f"scim-sanity exited {rc} without its JSON report:\n{output[-3000:]}")
    results = [result(SANITY, r["name"], r["status"], r.get("message") or "",
                      scope=r.get("phase")) for r in report.get("results", [])]
    if rc not in (0, 1) or not results:
        raise Failed(f"scim-sanity exited {rc} with no results; see {log}")
    return results, report.get("issues", [])


# ---------------------------------------------------------------------------------------------
# Judging: every result that is not a pass needs an exception; every exception needs a result.

EXCEPTION_KEYS = {"suite", "check", "status", "scope", "reason", "why"}


def load_exceptions(path: Path = EXCEPTIONS) -> list[dict]:
    entries = tomllib.loads(path.read_text()).get("exception", [])
    for i, e in enumerate(entries, 1):
        where = f"{path.name}, exception {i}"
        unknown = set(e) - EXCEPTION_KEYS
        if unknown:
            raise Failed(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("suite", "check", "status", "why"):
            if not str(e.get(key, "")).strip():
                raise Failed(f"{where}: `{key}` is required")
        if e["suite"] not in PASSED:
            raise Failed(f"{where}: suite must be one of {sorted(PASSED)}")
    return entries


def matches(e: dict, r: dict) -> bool:
    return (e["suite"] == r["suite"] and e["check"] == r["check"] and e["status"] == r["status"]
            and e.get("scope", r["scope"]) == r["scope"]
            and e.get("reason", "") in r["reason"])


def judge(results: list[dict], exceptions: list[dict]) -> tuple[list, list, list]:
    """(failed results, excepted results with their exception, exceptions that matched nothing)"""
    failed, excepted, used = [], [], set()
    for r in results:
        if r["status"] == PASSED[r["suite"]]:
            continue
        hit = next((i for i, e in enumerate(exceptions) if matches(e, r)), None)
        if hit is None:
            failed.append(r)
        else:
            used.add(hit)
            excepted.append((r, exceptions[hit]))
    return failed, excepted, [e for i, e in enumerate(exceptions) if i not in used]


def counts(results: list[dict], suite: str) -> str:
    tally: dict[str, int] = {}
    for r in results:
        if r["suite"] == suite:
            tally[r["status"]] = tally.get(r["status"], 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(tally.items(), key=lambda kv: -kv[1]))


def describe(r: dict) -> str:
    where = f" [{r['scope']}]" if r["scope"] else ""
    reason = ("\n      " + r["reason"].replace("\n", "\n      ")) if r["reason"] else ""
    return f"{r['suite']}: {r['status']} {r['check']}{where}{reason}"


def print_outcome(results, failed, excepted, stale, issues) -> None:
    for suite in (OWN, TESTER, SANITY):
        print(f"{suite}: {counts(results, suite) or 'no results'}")
    for r, _ in excepted:  # why: in the exceptions file
        where = f" [{r['scope']}]" if r["scope"] else ""
        print(f"  excepted  {r['suite']}: {r['status']} {r['check']}{where}")
    for r in failed:
        print(f"  FAILED    {describe(r)}")
    for e in stale:
        print(f"  STALE EXCEPTION (matched no result; remove it): {e['suite']} {e['status']} "
              f"{e['check']} {e.get('reason', '')!r}")
    for issue in issues if failed else []:
        print(f"  scim-sanity's diagnosis [{issue.get('priority')}]: {issue.get('title')}. "
              f"Fix: {issue.get('fix')}")


def append_report(path: Path, base, results, failed, excepted, stale, issues, note="") -> None:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [f"\n## {stamp}: {'PASSED' if not failed and not stale else 'FAILED'} ({base})\n"]
    if note:
        lines.append(f"{note}\n")
    for suite in (OWN, TESTER, SANITY):
        lines.append(f"- {suite}: {counts(results, suite) or 'no results'}")
    if failed:
        lines.append("\n### Failing checks (exact messages)\n")
        for r in failed:
            where = f" [{r['scope']}]" if r["scope"] else ""
            lines.append(f"- **{r['suite']}** `{r['status']} {r['check']}`{where}")
            if r["reason"]:
                lines.append("  ```\n  " + r["reason"].replace("\n", "\n  ") + "\n  ```")
    if issues and failed:
        lines.append("\n### scim-sanity's own diagnosis\n")
        lines += [f"- [{i.get('priority')}] {i.get('title')}. Fix: {i.get('fix')}" for i in issues]
    if excepted:
        lines.append("\n### Excepted\n")
        lines += [f"- {r['suite']} `{r['status']} {r['check']}`"
                  f"{' [' + r['scope'] + ']' if r['scope'] else ''}: {r['reason'][:200]}"
                  for r, _ in excepted]
    if stale:
        lines.append("\n### Stale exceptions\n")
        lines += [f"- {e['suite']} {e['status']} {e['check']}" for e in stale]
    with open(path, "a") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------

def conformance(started: Started, args) -> tuple[int, list[Path]]:
    for tool in (SCIM2, SCIM_SANITY):
        if not tool.exists():
            raise Failed(f"no {tool}: `make venv` installs it (requirements-dev.txt)")
    exceptions = load_exceptions()
    logs: list[Path] = []
    serving = lambda: True  # noqa: E731  (what serves the function, if this script started it)
    if args.base_url:
        base, token = args.base_url.rstrip("/"), os.environ.get("SCIM_TOKEN", "")
        if not token:
            raise Failed("--base-url needs the bearer token in SCIM_TOKEN")
        tag = "given"
    else:
        for path, how in ((CARGO_LAMBDA, "`make venv` installs it"),
                          (WORLD, "`make test-scim` builds it")):
            if not path.exists():
                raise Failed(f"no {path}: {how}")
        world_port, watch_port = free_port(), free_port()
        tag = str(watch_port)
        exports = start_world(started, world_port)
        logs += [LOGS / f"smoke-world-{world_port}.log", LOGS / f"world-emulator-{world_port}.log"]
        missing = [name for name in WORLD_EXPORTS if not exports.get(name)]
        if missing:
            raise Failed(f"the world exports no {', '.join(missing)} (tests/src/world.rs)")
        token = read_token(exports)
        start_watch(started, "scim-watch", exports, watch_port)
        logs.append(LOGS / f"smoke-scim-watch-{watch_port}.log")
        base = f"http://127.0.0.1:{watch_port}/lambda-url/{FUNCTION}"
        watch = next(p for name, p in started.processes if name == "scim-watch")
        serving = lambda: watch.poll() is None  # noqa: E731
    print(f"SCIM conformance against {base}")
    first_request(base, token, serving)
    types = resource_type_names(base, token)
    results = own_checks(base, token)
    tester_log, sanity_log = LOGS / f"scim-tester-{tag}.log", LOGS / f"scim-sanity-{tag}.log"
    logs += [tester_log, sanity_log]
    results += run_tester(base, token, tester_log, types)
    sanity, issues = run_sanity(base, token, sanity_log)
    results += sanity
    results += coverage(results)
    failed, excepted, stale = judge(results, exceptions)
    print_outcome(results, failed, excepted, stale, issues)
    if args.report:
        append_report(args.report, base, results, failed, excepted, stale, issues)
    ok = not failed and not stale
    print(f"SCIM conformance {'passed' if ok else 'FAILED'}: {len(failed)} failing, "
          f"{len(excepted)} excepted, {len(stale)} stale exception(s)")
    return (0 if ok else 1), logs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running SCIM server (token in SCIM_TOKEN) instead "
                        "of the world and `cargo lambda watch`")
    parser.add_argument("--report", type=Path, help="append the outcome, as Markdown, to this file")
    args = parser.parse_args()
    LOGS.mkdir(parents=True, exist_ok=True)
    started = Started()
    # Ctrl-C and termination end the run through the `finally` below (even when started in
    # the background, where SIGINT comes ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        code, logs = conformance(started, args)
        started.stop_all()
        if code == 0:
            for log in logs:
                log.unlink(missing_ok=True)
        else:
            print(f"logs: {', '.join(str(p) for p in logs)}", file=sys.stderr)
        return code
    except (Failed, AssertionError, subprocess.TimeoutExpired) as e:
        print(f"FAILED: {e}", file=sys.stderr)
        if args.report:
            with open(args.report, "a") as f:
                f.write(f"\n## {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S UTC}: "
                        f"could not run\n\n```\n{e}\n```\n")
        print(f"logs: {LOGS}/smoke-*.log, {LOGS}/scim-*.log, {LOGS}/world-emulator-*.log",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        started.stop_all()


if __name__ == "__main__":
    sys.exit(main())
