#!/usr/bin/env bash
# Runs a command with the local AWS emulator up on a free loopback port, and stops the emulator
# on every exit path (success, failure, Ctrl-C). The command sees AWS_ENDPOINT_URL and
# throw-away credentials; real AWS credentials from the caller's environment are masked.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
[ -x "$py" ] || { echo "no project venv: run through make" >&2; exit 2; }
# Logs go under cargo's target directory, wherever that is (make passes it; asked otherwise).
target=${GATEHOUSE_TARGET_DIR:-$(cd "$root" && cargo metadata --format-version 1 --no-deps \
  | "$py" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}
mkdir -p "$target/localworld"
port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# One log per run, so that runs side by side (a benchmark beside the tests) keep theirs apart.
log="$target/localworld/emulator-$port.log"

MOTO_IAM_LOAD_MANAGED_POLICIES=true "$py" "$root/scripts/emulator.py" --port "$port" >"$log" 2>&1 &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap stop EXIT
trap 'exit 130' INT TERM

url="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  if "$py" -c "import urllib.request,sys; urllib.request.urlopen('$url/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$pid" 2>/dev/null || { echo "emulator failed to start; see $log" >&2; cat "$log" >&2; exit 1; }
  sleep 0.2
done

unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
export AWS_ENDPOINT_URL="$url"
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_EC2_METADATA_DISABLED=true
"$@"
