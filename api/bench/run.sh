#!/usr/bin/env bash
# Benchmark of the API (release build, SQLite): GET /fax/{id} and POST /fax with a 1-page PDF,
# both with a database-stored key. Needs wrk and python3 (row count). Usage: api/bench/run.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${1:-10}
PORT=${BENCH_PORT:-18080}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target-api}
cargo build --release -q -p faxline-api --example serve
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
ENV_KEY=bench-bootstrap-key-0123456789
cat > "$WORK/api.toml" <<TOML
listen = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
agent_secret = "bench-agent-secret-0123456789abcdef-0123"
api_key = "$ENV_KEY"
TOML
"$CARGO_TARGET_DIR/release/examples/serve" --config "$WORK/api.toml" &
SERVER=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
KEY=$(curl -sf -X POST "http://127.0.0.1:$PORT/admin/api-keys" -H "X-API-Key: $ENV_KEY" \
  -H 'Content-Type: application/json' -d '{"name":"bench","scopes":["fax:send","fax:read"]}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
PDF=$PWD/fixtures/pdf/dummy.pdf
ID=$(curl -sf -X POST "http://127.0.0.1:$PORT/fax" -H "X-API-Key: $KEY" -F to=+15551234567 -F "file=@$PDF" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "== GET /fax/{id} (database key), wrk -t2 -c64 -d${DUR}s"
wrk -t2 -c64 -d"${DUR}s" --latency -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/fax/$ID"

echo "== POST /fax (1-page PDF, $(stat -c %s "$PDF") bytes), wrk -t2 -c32 -d${DUR}s"
BENCH_PDF=$PDF BENCH_KEY=$KEY wrk -t2 -c32 -d"${DUR}s" --latency -s api/bench/post_fax.lua \
  "http://127.0.0.1:$PORT/fax" | tee "$WORK/post.txt"

kill $SERVER; wait $SERVER 2>/dev/null || true
SENT=$(awk '/requests in/ {print $1}' "$WORK/post.txt")
python3 - "$WORK/data/faxline.db" "$SENT" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
jobs = db.execute("select count(*) from fax_jobs").fetchone()[0] - 1
docs = db.execute("select count(*) from fax_documents").fetchone()[0] - 1
print(f"== durability: wrk completed {sys.argv[2]} POSTs; after shutdown the database holds {jobs} new jobs with {docs} documents")
assert jobs >= int(sys.argv[2]) and docs == jobs, "accepted jobs missing"
PY
