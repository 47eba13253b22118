#!/usr/bin/env bash
# Benchmark of the API (release build, SQLite): GET /fax/{id} and POST /fax with a 1-page PDF,
# both with a database-stored key. Needs wrk and python3. After the POST run the server is killed
# with SIGKILL (no graceful shutdown) and the database must hold every job answered with 202.
# Usage: api/bench/run.sh [seconds]   (env: BENCH_PORT, GET_CONNS, POST_CONNS, BENCH_STORAGE)
# BENCH_STORAGE=database (default) | local | s3 chooses where documents go; s3 starts moto's S3 server
# on 127.0.0.1 (.ci/s3-server) with SSE-S3 on every write.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-10}
PORT=${BENCH_PORT:-18080}
GET_CONNS=${GET_CONNS:-64}
POST_CONNS=${POST_CONNS:-8}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q -p faxline-agent
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
case "$STORAGE" in
  database) ;;
  local) echo 'storage_backend = "local"' >> "$WORK/api.toml" ;;
  s3)
    S3_PORT=$((PORT + 1))
    MOTO=$(FAXLINE_S3_SERVER_VENV="$CARGO_TARGET_DIR/tmp/s3-server-venv" .ci/s3-server --start "$S3_PORT")
    S3_PID=$(cat "$CARGO_TARGET_DIR/tmp/s3-server-venv/server-$S3_PORT.pid")
    S3_PY=$(dirname "$MOTO")/python
    curl -sf -X PUT "http://127.0.0.1:$S3_PORT/bench" >/dev/null
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
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; [ -n "$S3_PID" ] && kill $S3_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
"$CARGO_TARGET_DIR/release/faxline" api --config "$WORK/api.toml" &
SERVER=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
KEY=$(curl -sf -X POST "http://127.0.0.1:$PORT/admin/api-keys" -H "X-API-Key: $ENV_KEY" \
  -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["fax:send","fax:read"]}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
PDF=$PWD/fixtures/pdf/dummy.pdf
ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/fax" -H "X-API-Key: $KEY" -F to=+15551234567 -F "file=@$PDF" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# Server CPU time (user + system, clock ticks), to report CPU per request independent of load.
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
per_request() { # ticks_before ticks_after requests
  python3 -c "import os,sys; t=os.sysconf('SC_CLK_TCK'); b,a,n=map(float,sys.argv[1:]); print(f'== server CPU: {(a-b)/t:.2f} s for {int(n)} requests = {(a-b)/t/n*1e6:.0f} us per request')" "$@"
}

echo "== documents in: $STORAGE"
echo "== $(uptime)"
echo "== GET /fax/{id} (database key), wrk -t2 -c$GET_CONNS -d${DUR}s"
C0=$(cpu)
wrk -t2 -c"$GET_CONNS" -d"${DUR}s" --latency -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/fax/$ID" | tee "$WORK/get.txt"
per_request "$C0" "$(cpu)" "$(awk '/requests in/ {print $1}' "$WORK/get.txt")"

echo "== $(uptime)"
echo "== POST /fax (1-page PDF, $(stat -c %s "$PDF") bytes), wrk -t2 -c$POST_CONNS -d${DUR}s"
C0=$(cpu)
BENCH_PDF=$PDF BENCH_KEY=$KEY wrk -t2 -c"$POST_CONNS" -d"${DUR}s" --latency -s api/bench/post_fax.lua \
  "http://127.0.0.1:$PORT/fax" | tee "$WORK/post.txt"
per_request "$C0" "$(cpu)" "$(awk '/requests in/ {print $1}' "$WORK/post.txt")"

# No graceful shutdown: what was answered 202 must already be on disk.
kill -9 $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
ACCEPTED=$(awk '/^accepted_202/ {print $2}' "$WORK/post.txt")
case "$STORAGE" in
  database) COUNT_DOCS="sqlite" ;;
  local) COUNT_DOCS="$(find "$WORK/data/documents/jobs" -type f ! -name '.*' | wc -l)" ;;
  s3) COUNT_DOCS="$("$S3_PY" -c "
import boto3
s3 = boto3.client('s3', endpoint_url='http://127.0.0.1:$S3_PORT', region_name='us-east-1',
                  aws_access_key_id='bench', aws_secret_access_key='bench-secret')
n = 0
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='bench', Prefix='docs/jobs/'):
    n += page.get('KeyCount', 0)
print(n)")" ;;
esac
python3 - "$WORK/data/faxline.db" "$ACCEPTED" "$POST_CONNS" "$COUNT_DOCS" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
accepted, conns = int(sys.argv[2]), int(sys.argv[3])
jobs = db.execute("select count(*) from fax_jobs").fetchone()[0] - 1
if sys.argv[4] == "sqlite":
    docs = db.execute("select count(*) from fax_documents").fetchone()[0] - 1
else:
    docs = int(sys.argv[4]) - 1
print(f"== durability after SIGKILL: {accepted} POSTs answered 202; the database holds {jobs} new jobs "
      f"with {docs} documents ({jobs - accepted} committed while wrk was closing its connections)")
assert docs == jobs, "a job without its document"
assert accepted <= jobs <= accepted + conns, "accepted jobs missing"
PY
