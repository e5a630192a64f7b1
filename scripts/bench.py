"""`make bench`: runs every benchmark and writes docs/benchmarks.md.

Each benchmark prints a Markdown table (times beside AWS calls); this script runs them in turn
(never two at once: the machine's two cores are the benchmark's), and writes the tables into
docs/benchmarks.md under the machine, the commit and the command that reproduces each. The
part of docs/benchmarks.md above the MARKER line (the targets, the figures before and after,
what limits each) is kept by hand and left as it is; everything below it is replaced.

Usage: python3 scripts/bench.py TARGET_DIR [--quick]  (--quick: small sizes, for a smoke run)
"""

import datetime
import os
import platform
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WITH_EMULATOR = os.path.join(ROOT, "scripts", "with-emulator.sh")
MARKER = "<!-- Everything below is written by `make bench` (scripts/bench.py). -->"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            total_kib = int(f.readline().split()[1])
        memory = f"{total_kib / 1024 / 1024:.0f} GiB"
    except OSError:
        memory = "unknown memory"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, {platform.system()} {platform.release()}"


def commit() -> str:
    out = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "-C", ROOT, "diff", "--quiet", "HEAD"]).returncode != 0
    return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def run(command: list) -> str:
    """Runs one benchmark under the emulator; returns its standard output (the table)."""
    started = time.monotonic()
    print("$", " ".join(command), flush=True)
    done = subprocess.run(
        [WITH_EMULATOR] + command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True
    )
    print(done.stdout, f"({time.monotonic() - started:.0f} s)", flush=True)
    return done.stdout.strip()


def sizes(target: str) -> str:
    rows = ["| function | bootstrap.zip | unzipped |", "| --- | ---: | ---: |"]
    for function in ["people-events", "account-created", "reconcile", "scim"]:
        path = os.path.join(target, "lambda", function, "bootstrap.zip")
        if not os.path.exists(path):
            rows.append(f"| {function} | not built | |")
            continue
        with zipfile.ZipFile(path) as z:
            unzipped = sum(i.file_size for i in z.infolist())
        rows.append(
            f"| {function} | {os.path.getsize(path) / 1e6:.2f} MB | {unzipped / 1e6:.2f} MB |"
        )
    return "\n".join(rows)


def main() -> None:
    target = sys.argv[1]
    quick = "--quick" in sys.argv
    release = os.path.join(target, "release")
    people_events = os.path.join(release, "people-events")
    fanout = os.path.join(release, "bench-fanout")
    sections = []

    sections.append((
        "Size (`make build`: arm64, cargo-lambda, zipped as Lambda takes it)",
        "make build",
        sizes(target),
    ))
    sections.append((
        "Cold start and first onboarding (the real binary through a local Runtime API)",
        f"{release}/bench-coldstart {people_events} 10",
        run([os.path.join(release, "bench-coldstart"), people_events, "3" if quick else "10"]),
    ))
    stub_sizes = ["50"] if quick else ["50", "200", "1000"]
    sections.append((
        "Fan-out: one offboarding across N accounts, 50 ms added to every call, latency stub",
        f"{fanout} stub {people_events} 50 50 200 1000",
        run([fanout, "stub", people_events, "50"] + stub_sizes),
    ))
    sections.append((
        "Fan-out against the emulator itself (real accounts; the emulator's speed is the limit)",
        f"{fanout} emulator 50 50 128 16",
        run([fanout, "emulator", "50", "10" if quick else "50", "128", "16"]),
    ))
    # 1,000, not 5,000: the emulator takes a minute to take 1,000 work items into its FIFO
    # queue (account-created's 125 calls take 62 s here), so 5,000 would make this run long.
    # `bench-backfill 5000` runs it by hand.
    for employees in ["100"] if quick else ["1000"]:
        sections.append((
            f"Backfill: {employees} employees into a new account",
            f"{release}/bench-backfill {employees}",
            run([os.path.join(release, "bench-backfill"), employees]),
        ))

    sections.append((
        "SCIM: each operation through the real scim binary (the local Runtime API included)",
        f"{release}/bench-scim 20",
        run([os.path.join(release, "bench-scim"), "5" if quick else "20"]),
    ))

    path = os.path.join(ROOT, "docs", "benchmarks.md")
    kept = ""
    if os.path.exists(path):
        with open(path) as f:
            kept = f.read().split(MARKER)[0]
    out = [
        kept.rstrip() + "\n" if kept.strip() else "# Benchmarks\n",
        MARKER,
        "",
        "## The latest run",
        "",
        f"- Machine: {machine()}",
        f"- Commit: {commit()}",
        f"- Date: {datetime.date.today().isoformat()}",
        "",
    ]
    for title, command, table in sections:
        out += [f"### {title}", "", f"Reproduce: `{command}` (under `scripts/with-emulator.sh`)", ""]
        out += [table, ""]
    with open(path, "w") as f:
        f.write("\n".join(out))
    print("wrote", path)


if __name__ == "__main__":
    main()
