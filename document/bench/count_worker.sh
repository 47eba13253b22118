#!/usr/bin/env bash
# CPU of page counts in a pooled render worker: N requests (default 2000) of the same PDF piped into one
# `faxline render-worker` as the API's pool sends them (a header line with `len=`, then the document); the
# worker's user + system CPU per count. Fails unless every answer is `ok <pages>`.
# Usage: document/bench/count_worker.sh [N] [PDF]   (env: BIN=path/to/faxline, else the release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000}
PDF=${2:-fixtures/pdf/dummy.pdf}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p faxline-agent
  BIN="${CARGO_TARGET_DIR:-target}/release/faxline"
fi
python3 - "$BIN" "$N" "$PDF" <<'PY'
import os, resource, subprocess, sys, tempfile
binary, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pdf = open(path, 'rb').read()
# The header of a pooled page count (document/src/worker.rs `header_with`), default render budget.
head = (f"faxline-render-1 job=count len={len(pdf)} paper=letter res=fine enc=mmr max_pages=100 "
        f"max_bytes=52428800 page_ms=20000 memory=536870912 cpu_s=100000 threads=1\n").encode()
with tempfile.TemporaryFile() as requests:
    for _ in range(n):
        requests.write(head + pdf)
    requests.seek(0)
    env = dict(os.environ, MALLOC_ARENA_MAX="1", RUST_LOG="off")
    out = subprocess.run([binary, "render-worker"], stdin=requests, capture_output=True, env=env,
                         check=True).stdout.decode()
answers = out.splitlines()
if len(answers) != n or not all(a.startswith("ok ") for a in answers):
    sys.exit(f"expected {n} answers 'ok <pages>', got {len(answers)}: {answers[:3]}")
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
print(f"== {n} pooled page counts of {os.path.basename(path)} ({answers[0]}): "
      f"{cpu:.2f} s worker CPU = {cpu / n * 1e6:.0f} us per count")
PY
