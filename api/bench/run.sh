#!/usr/bin/env bash
# Benchmark of the API (release build, SQLite): GET /fax/{id} and POST /fax with a 1-page PDF,
# both with a database-stored key. Needs wrk and python3. After the POST run the server is killed
# with SIGKILL (no graceful shutdown) and the database must hold every job answered with 202.
# Usage: api/bench/run.sh [seconds]   (env: BENCH_PORT, GET_CONNS, POST_CONNS, BENCH_STORAGE, BENCH_PROFILE, BENCH_BIN)
# BENCH_STORAGE=database (default) | local | s3 chooses where documents go; s3 starts moto's S3 server
# on 127.0.0.1 (.ci/s3-server) with SSE-S3 on every write, and first measures that server alone (PUTs
# of the same PDF, api/bench/s3_put.lua): the ceiling of POST /fax on it. moto is one Python process
# and saturates at a few hundred PUTs/s here; BENCH_S3_SERVER=s3s-fs runs the same benchmark against s3s-fs
# instead (0.14.1 from crates.io, built once under the target directory; a Rust S3-protocol server storing
# objects as files; it checks SigV4 but ignores SSE headers), to measure Faxline's S3 backend rather than
# moto (BENCH_S3_SERVER=/path/to/s3s-fs runs a binary already built). The "alone" run's PUTs are signed ahead
# with botocore, as every S3 server here accepts and s3s-fs requires. BENCH_S3_SERVER=s3rver
# installs s3rver 3.7.1 from the npm registry (Node.js; api/bench/s3rver.js starts it with the benchmark's
# key; it parses SigV4 but does not check it) and measures it alone first, as with moto.
# BENCH_S3_DIR=/dev/shm keeps the S3 server's objects there (in a fresh directory) instead of on the
# disk under $TMPDIR: the server's own disk is then out of the figure, as with a remote S3 service
# (the API's SQLite database stays on disk, synced as always).
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-10}
PORT=${BENCH_PORT:-18080}
GET_CONNS=${GET_CONNS:-64}
POST_CONNS=${POST_CONNS:-8}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
# BENCH_PROFILE=dev uses the debug build: CI's short run (`.ci/test`), which checks the script still works
# (figures from it mean nothing).
PROFILE=${BENCH_PROFILE:-release}
# BENCH_BIN=/path/to/faxline measures that binary instead of building one (another commit's, say).
if [ -n "${BENCH_BIN:-}" ]; then PROFILE=given; BIN=$BENCH_BIN; fi
case "$PROFILE" in
  given) ;;
  release) cargo build --release -q -p faxline-agent; BIN="$CARGO_TARGET_DIR/release/faxline" ;;
  dev) cargo build -q -p faxline-agent; BIN="$CARGO_TARGET_DIR/debug/faxline" ;;
  *) echo "BENCH_PROFILE must be release or dev" >&2; exit 2 ;;
esac
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
ENV_KEY=bench-bootstrap-key-0123456789
cat > "$WORK/api.toml" <<TOML
listen = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
agent_secret = "bench-agent-secret-0123456789abcdef-0123"
api_key = "$ENV_KEY"
# wrk opens all its connections from 127.0.0.1: above the default per-address cap.
max_connections_per_address = 256
TOML
STORAGE=${BENCH_STORAGE:-database}
S3_PID=
S3_DIR=$WORK/s3
if [ -n "${BENCH_S3_DIR:-}" ]; then
  S3_DIR=$(mktemp -d -p "$BENCH_S3_DIR")
  trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK" "$S3_DIR"' EXIT
fi
case "$STORAGE" in
  database) ;;
  local) echo 'storage_backend = "local"' >> "$WORK/api.toml" ;;
  s3)
    S3_PORT=$((PORT + 1))
    if [ "${BENCH_S3_SERVER:-}" = s3rver ]; then
      # s3rver from the npm registry (pinned), installed once under the target directory.
      MOTO=$(FAXLINE_S3_SERVER_VENV="$CARGO_TARGET_DIR/tmp/s3-server-venv" .ci/s3-server)
      S3_PY=$(dirname "$MOTO")/python
      S3RVER_DIR="$CARGO_TARGET_DIR/tmp/s3rver"
      if [ ! -d "$S3RVER_DIR/node_modules/s3rver" ]; then
        mkdir -p "$S3RVER_DIR"
        npm install --prefix "$S3RVER_DIR" --no-audit --no-fund --silent s3rver@3.7.1 >&2
      fi
      mkdir -p "$S3_DIR"
      NODE_PATH="$S3RVER_DIR/node_modules" node api/bench/s3rver.js "$S3_PORT" "$S3_DIR" bench bench-secret bench \
        >"$WORK/s3.log" 2>&1 &
      S3_PID=$!
      for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.1; done
    elif [ -n "${BENCH_S3_SERVER:-}" ]; then
      # boto3 (from the moto venv) creates the bucket and lists it afterwards: s3s-fs wants signed requests.
      MOTO=$(FAXLINE_S3_SERVER_VENV="$CARGO_TARGET_DIR/tmp/s3-server-venv" .ci/s3-server)
      S3_PY=$(dirname "$MOTO")/python
      S3S_BIN=$BENCH_S3_SERVER
      if [ "$BENCH_S3_SERVER" = s3s-fs ]; then
        # s3s-fs from crates.io (pinned; 0.14.1 is the newest this toolchain builds), built once under the target
        # directory (a release build: a few minutes); its build directory is removed afterwards.
        S3S_BIN="$CARGO_TARGET_DIR/tmp/s3s-fs/bin/s3s-fs"
        if [ ! -x "$S3S_BIN" ]; then
          cargo install -q --locked s3s-fs --version 0.14.1 --features binary \
            --root "$CARGO_TARGET_DIR/tmp/s3s-fs" --target-dir "$CARGO_TARGET_DIR/tmp/s3s-fs-build" >&2
          rm -rf "$CARGO_TARGET_DIR/tmp/s3s-fs-build"
        fi
      fi
      mkdir -p "$S3_DIR"
      "$S3S_BIN" --host 127.0.0.1 --port "$S3_PORT" --access-key bench --secret-key bench-secret \
        "$S3_DIR" >"$WORK/s3.log" 2>&1 &
      S3_PID=$!
      for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$S3_PORT/" && break; sleep 0.1; done
      "$S3_PY" -c "
import boto3
boto3.client('s3', endpoint_url='http://127.0.0.1:$S3_PORT', region_name='us-east-1',
             aws_access_key_id='bench', aws_secret_access_key='bench-secret').create_bucket(Bucket='bench')"
    else
      MOTO=$(FAXLINE_S3_SERVER_VENV="$CARGO_TARGET_DIR/tmp/s3-server-venv" .ci/s3-server --start "$S3_PORT")
      S3_PID=$(cat "$CARGO_TARGET_DIR/tmp/s3-server-venv/server-$S3_PORT.pid")
      S3_PY=$(dirname "$MOTO")/python
      curl -sf -X PUT "http://127.0.0.1:$S3_PORT/bench" >/dev/null
    fi
    cat >> "$WORK/api.toml" <<TOML
storage_backend = "s3"
s3_bucket = "bench"
s3_prefix = "docs"
s3_region = "us-east-1"
s3_endpoint_url = "http://127.0.0.1:$S3_PORT"
s3_access_key_id = "bench"
s3_secret_access_key = "bench-secret"
s3_sse = "s3"
TOML
    ;;
  *) echo "BENCH_STORAGE must be database, local or s3" >&2; exit 2 ;;
esac
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; [ -n "$S3_PID" ] && kill $S3_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; [ "$S3_DIR" = "$WORK/s3" ] || rm -rf "$S3_DIR"' EXIT
"$BIN" api --config "$WORK/api.toml" &
SERVER=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
KEY=$(curl -sf -X POST "http://127.0.0.1:$PORT/admin/api-keys" -H "X-API-Key: $ENV_KEY" \
  -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["fax:send","fax:read"]}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
PDF=$PWD/fixtures/pdf/dummy.pdf
ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/fax" -H "X-API-Key: $KEY" -F to=+15551234567 -F "file=@$PDF" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# Server CPU time (user + system, clock ticks), to report CPU per request independent of load: the
# API's own, and its render workers' (page counts run in pooled child processes): those it has
# reaped (cutime + cstime) and those still running.
cpu() {
  local t v c
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$SERVER/stat")
  for c in $(cat /proc/"$SERVER"/task/*/children 2>/dev/null); do
    v=$(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
per_request() { # ticks_before ticks_after requests
  python3 -c "import os,sys; t=os.sysconf('SC_CLK_TCK'); b,a,n=map(float,sys.argv[1:]); print(f'== server CPU (with its render workers): {(a-b)/t:.2f} s for {int(n)} requests = {(a-b)/t/n*1e6:.0f} us per request')" "$@"
}

echo "== documents in: $STORAGE${BENCH_S3_SERVER:+ ($(basename "$BENCH_S3_SERVER"))}"
echo "== $(uptime)"
echo "== GET /fax/{id} (database key), wrk -t2 -c$GET_CONNS -d${DUR}s"
C0=$(cpu)
wrk -t2 -c"$GET_CONNS" -d"${DUR}s" --latency -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/fax/$ID" | tee "$WORK/get.txt"
per_request "$C0" "$(cpu)" "$(awk '/requests in/ {print $1}' "$WORK/get.txt")"

if [ "$STORAGE" = s3 ]; then
  # The ceiling: the S3 server alone, one PUT of the same PDF per request, as many connections. The PUTs
  # are signed as the API's are (s3s-fs checks signatures): 4096 are signed ahead (botocore), used in turn.
  SIGNED=$WORK/signed.tsv
  "$S3_PY" - "$PDF" "$S3_PORT" "$SIGNED" <<'PY'
import hashlib, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
pdf = open(sys.argv[1], "rb").read()
port, out = sys.argv[2], sys.argv[3]
auth = SigV4Auth(Credentials("bench", "bench-secret"), "s3", "us-east-1")
sha = hashlib.sha256(pdf).hexdigest()
with open(out, "w") as f:
    for i in range(4096):
        path = f"/bench/alone/{i}"
        req = AWSRequest(method="PUT", url=f"http://127.0.0.1:{port}{path}", data=pdf, headers={
            "Content-Type": "application/pdf", "x-amz-server-side-encryption": "AES256",
            "x-amz-content-sha256": sha})
        auth.add_auth(req)
        f.write(f"{path}\t{req.headers['Authorization']}\t{req.headers['X-Amz-Date']}\t{sha}\n")
PY
  echo "== S3 server alone: PUT of the PDF (SSE-S3), wrk -t2 -c$POST_CONNS -d${DUR}s"
  BENCH_PDF=$PDF BENCH_S3_SIGNED=$SIGNED wrk -t2 -c"$POST_CONNS" -d"${DUR}s" --latency -s api/bench/s3_put.lua \
    "http://127.0.0.1:$S3_PORT" | tee "$WORK/alone.txt"
  # A server that refused the PUTs (a bad signature, say) would look fast: every PUT must be a 200, and the
  # counts must be there (a broken script makes wrk send plain GETs and print none).
  awk '/^other_status/ && $2 != 0 {print "the S3 server refused " $2 " PUTs" > "/dev/stderr"; bad = 1}
       /^stored_200/ {stored = $2}
       END {if (!bad && stored + 0 == 0) print "the S3 server stored nothing" > "/dev/stderr"; exit bad || stored + 0 == 0}' \
    "$WORK/alone.txt"
fi

echo "== $(uptime)"
echo "== POST /fax (1-page PDF, $(stat -c %s "$PDF") bytes), wrk -t2 -c$POST_CONNS -d${DUR}s"
C0=$(cpu)
BENCH_PDF=$PDF BENCH_KEY=$KEY wrk -t2 -c"$POST_CONNS" -d"${DUR}s" --latency -s api/bench/post_fax.lua \
  "http://127.0.0.1:$PORT/fax" | tee "$WORK/post.txt"
per_request "$C0" "$(cpu)" "$(awk '/requests in/ {print $1}' "$WORK/post.txt")"

# No graceful shutdown: what was answered 202 must already be on disk.
kill -9 $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
ACCEPTED=$(awk '/^accepted_202/ {print $2}' "$WORK/post.txt")
# The documents on disk or in the bucket, by job id (the database's are read below).
case "$STORAGE" in
  database) : > "$WORK/docs.txt" ;;
  local) find "$WORK/data/documents/jobs" -type f ! -name '.*' -printf '%f\n' > "$WORK/docs.txt" ;;
  # s3rver's listing fails past a few thousand objects here: read its files (KEY._S3rver_object) instead.
  s3) if [ "${BENCH_S3_SERVER:-}" = s3rver ]; then
        find "$S3_DIR/bench/docs/jobs" -type f -name '*._S3rver_object' -printf '%f\n' \
          | sed 's/\._S3rver_object$//' > "$WORK/docs.txt"
      else "$S3_PY" -c "
import boto3
s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:$S3_PORT', region_name='us-east-1',
                  aws_access_key_id='bench', aws_secret_access_key='bench-secret')
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='bench', Prefix='docs/jobs/'):
    for o in page.get('Contents', []):
        print(o['Key'].rsplit('/', 1)[-1])" > "$WORK/docs.txt"
      fi ;;
esac
python3 - "$WORK/data/faxline.db" "$ACCEPTED" "$POST_CONNS" "$STORAGE" "$WORK/docs.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
accepted, conns, storage = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
jobs = {r[0] for r in db.execute("select id from fax_jobs")}
if storage == "database":
    docs = {r[0] for r in db.execute("select job_id from fax_documents")}
else:
    docs = set(open(sys.argv[5]).read().split())
# One job and its document were created before the run (the GET target).
new_jobs = len(jobs) - 1
missing = jobs - docs
orphans = docs - jobs
print(f"== durability after SIGKILL: {accepted} POSTs answered 202; the database holds {new_jobs} new jobs, "
      f"each with its document: {not missing} ({new_jobs - accepted} committed while wrk was closing its "
      f"connections; {len(orphans)} documents written whose rows had not committed at the kill, left for the "
      f"orphan sweep)")
assert not missing, f"{len(missing)} jobs without their document"
assert accepted <= new_jobs <= accepted + conns, "accepted jobs missing"
assert len(orphans) <= conns, "more orphans than uploads in flight"
PY
