#!/usr/bin/env bash
# Peak resident memory of `faxline api` while N clients upload large PDFs at once (POST /fax), for
# one storage backend. Generates a valid 1-page PDF of SIZE_MB megabytes (an unreferenced padding
# stream of random bytes), starts the API (release build unless BIN is given) with
# max_file_size_mb = SIZE_MB + 1 and client-side encryption on (ENCRYPT=0 turns it off), sends ROUNDS
# rounds of N concurrent uploads with curl and prints the API's VmHWM (peak RSS) from /proc, its RSS
# after start, and how many uploads were accepted.
# Exits 1 unless every upload got 202.
# Usage: api/bench/upload_memory.sh local|s3|database   (env: N=20 SIZE_MB=10 ROUNDS=3 BIN PORT ENCRYPT VIA)
# For s3 the local S3 server of the tests (.ci/s3-server, moto) is started.
# VIA=console sends the same PDFs through the web console's Send form instead (N users, each logged in once,
# one Send per user and round; an accepted Send is a 303 to its draft, which holds the stored document).
set -euo pipefail
cd "$(dirname "$0")/../.."
STORAGE=${1:-local}
N=${N:-20}
SIZE_MB=${SIZE_MB:-10}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18280}
ENCRYPT=${ENCRYPT:-1}
VIA=${VIA:-api}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p faxline-agent
  BIN="$CARGO_TARGET_DIR/release/faxline"
fi
WORK=$(mktemp -d)
SERVER=
S3_PID=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; [ -n "$S3_PID" ] && kill $S3_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
python3 - "$WORK/big.pdf" "$SIZE_MB" <<'PY'
import os, sys
path, size = sys.argv[1], int(float(sys.argv[2]) * 1024 * 1024) - 2048
pad = os.urandom(size)
objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length 17 >>\nstream\n0 0 m 300 300 l S\nendstream",
        b"<< /Length %d >>\nstream\n" % len(pad) + pad + b"\nendstream"]
out, offs = bytearray(b"%PDF-1.4\n"), []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs:
    out += b"%010d 00000 n \n" % o
out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(path, "wb").write(out)
PY
ENV_KEY=bench-bootstrap-key-0123456789
cat > "$WORK/api.toml" <<TOML
listen = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
agent_secret = "bench-agent-secret-0123456789abcdef-0123"
api_key = "$ENV_KEY"
max_connections_per_address = 256
max_file_size_mb = $((SIZE_MB + 1))
TOML
if [ "$ENCRYPT" = 1 ]; then
  openssl rand -hex 32 > "$WORK/storage.key"
  echo "storage_encryption_key_file = \"$WORK/storage.key\"" >> "$WORK/api.toml"
fi
case "$STORAGE" in
  database) ;;
  local) echo 'storage_backend = "local"' >> "$WORK/api.toml" ;;
  s3)
    S3_PORT=$((PORT + 1))
    FAXLINE_S3_SERVER_VENV="$CARGO_TARGET_DIR/tmp/s3-server-venv" .ci/s3-server --start "$S3_PORT" >/dev/null
    S3_PID=$(cat "$CARGO_TARGET_DIR/tmp/s3-server-venv/server-$S3_PORT.pid")
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
  *) echo "usage: $0 local|s3|database" >&2; exit 2 ;;
esac
"$BIN" api --config "$WORK/api.toml" 2>"$WORK/api.log" &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
rss() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER/status"; }
EXPECT=202
if [ "$VIA" = console ]; then
  # Console users (made before the measurement starts: the API is up and its RSS is read after).
  EXPECT=303
  printf '%s' 'bench-Console-7Qx!marble-42' > "$WORK/password"
  for i in $(seq "$N"); do
    "$BIN" user add "bench$i" --role staff --password-file "$WORK/password" --config "$WORK/api.toml" >/dev/null 2>&1
  done
fi
START_RSS=$(rss VmRSS)
if [ "$VIA" = console ]; then
  python3 - "$PORT" "$N" "$ROUNDS" "$WORK/password" "$WORK/big.pdf" "$WORK/codes.txt" <<'PY'
import http.client, re, sys, threading, uuid
from urllib.parse import urlencode
port, n, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
password, pdf = open(sys.argv[4]).read(), open(sys.argv[5], "rb").read()
codes = open(sys.argv[6], "a")

class Browser:
    """One user's session: cookies kept by hand (the console's are Secure, which the standard cookie
    jar will not send over http://127.0.0.1)."""
    def __init__(self):
        self.conn, self.cookies = http.client.HTTPConnection("127.0.0.1", port, timeout=120), {}
    def req(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        page = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, val = v.split(";", 1)[0].split("=", 1)
                if "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = val
        return r.status, r.getheader("Location") or "", page
    def hidden(self, page, name):
        return re.search(r'name="%s" value="([^"]*)"' % name, page).group(1)
    def login(self, user):
        _, _, page = self.req("GET", "/login")
        body = urlencode([("username", user), ("password", password),
                          ("login_nonce", self.hidden(page, "login_nonce")), ("next", "/send")])
        status, to, _ = self.req("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303 and "login" not in to, f"login of {user}: {status} {to}"
    def send(self):
        _, _, page = self.req("GET", "/send")
        b = uuid.uuid4().hex
        parts = [f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in [("csrf", self.hidden(page, "csrf")), ("to", "+15551234567")]]
        parts.append(f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
                     f'Content-Type: application/pdf\r\n\r\n'.encode() + pdf + f'\r\n--{b}--\r\n'.encode())
        status, to, _ = self.req("POST", "/send", b"".join(parts),
                                 {"Content-Type": f"multipart/form-data; boundary={b}"})
        return status if status != 303 or to.startswith("/drafts/") else f"303-to-{to}"

browsers = [Browser() for _ in range(n)]
for i, b in enumerate(browsers, 1):
    b.login(f"bench{i}")
for _ in range(rounds):
    got = [None] * n
    def one(i):
        try:
            got[i] = browsers[i].send()
        except Exception as e:
            got[i] = f"error:{type(e).__name__}"
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads: t.start()
    for t in threads: t.join()
    codes.write("".join(f"{c}\n" for c in got))
PY
else
  for r in $(seq "$ROUNDS"); do
    CURLS=()
    for i in $(seq "$N"); do
      curl -s -o /dev/null -w '%{http_code}\n' -X POST "http://127.0.0.1:$PORT/fax" \
        -H "X-API-Key: $ENV_KEY" -F to=+15551234567 -F "file=@$WORK/big.pdf;type=application/pdf" \
        >> "$WORK/codes.txt" &
      CURLS+=($!)
    done
    wait "${CURLS[@]}" || true
  done
fi
ok=$(grep -c "^$EXPECT\$" "$WORK/codes.txt" || true)
echo "storage=$STORAGE via=$VIA encrypt=$ENCRYPT uploads=$((N * ROUNDS)) ($N at once) of $(stat -c %s "$WORK/big.pdf") bytes: $EXPECT for $ok; others: $(grep -v "^$EXPECT\$" "$WORK/codes.txt" | sort | uniq -c | tr '\n' ' ')"
echo "API RSS after start: $((START_RSS / 1024)) MiB; peak RSS (VmHWM): $(( $(rss VmHWM) / 1024 )) MiB"
# A measurement of refused uploads means nothing (and CI runs this in a short form): fail loudly.
if [ "$ok" -ne $((N * ROUNDS)) ]; then
  echo "upload_memory: $((N * ROUNDS - ok)) of $((N * ROUNDS)) uploads were not accepted" >&2
  exit 1
fi
