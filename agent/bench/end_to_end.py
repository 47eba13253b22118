#!/usr/bin/env python3
"""One box, N faxes, through the real product path.

Starts three real processes on this machine: `faxline api` on SQLite, a sending `faxline agent` on its own
SIP/T.38 line, and a second, receive-only `faxline agent` as the far end, answering on its own SIP line and
uploading what it receives to the same API as inbound faxes. Submits N jobs through `POST /fax` (a 2-page
PDF by default), waits until every job is final and every fax has arrived, and reports: success (every job
SUCCESS with every page sent, every fax received with every page and stored), the time until the last result
was stored, CPU seconds and peak memory per fax of each process, and the media threads' step lateness (p99)
of both agents.

Usage: agent/bench/end_to_end.py [N ...] [--profile release|dev] [--speed S] [--pdf FILE] [--keep]
Exit status 1 when any fax was lost, failed or arrived incomplete (CI runs a short form: a few faxes).
Needs python3 (standard library only) and the faxline binary, built by this script with cargo.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# Random-looking test values, used nowhere real (every command refuses weak secrets).
AGENT_SECRET = "e2e-agent-secret-7c1f9a3b5d2e8046f1a9c3b7d5e2"
API_KEY = "e2e-bootstrap-key-4b8e1d6a9c2f7035"
TO = "+15550199"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proc:
    """A started faxline process, its log, and what /proc says about it."""

    def __init__(self, name, args, env, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, f"{name}.log")
        self.log = open(self.log_path, "wb")
        self.p = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)

    def alive(self):
        return self.p.poll() is None

    def cpu_seconds(self):
        """User + system time of the process and of its waited-for children (the render workers)."""
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # After ")": state is field 3, so utime (14) is index 11.
        return sum(int(x) for x in fields[11:15]) / CLK_TCK

    def status(self, key):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        return 0

    def tree_rss(self):
        """Resident memory of the process and its children (the render workers it started)."""
        children = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                    children.setdefault(ppid, []).append(int(d))
                except (OSError, ValueError, IndexError):
                    pass
        total, todo = 0, [self.p.pid]
        while todo:
            pid = todo.pop()
            try:
                with open(f"/proc/{pid}/statm") as f:
                    total += int(f.read().split()[1]) * PAGE
            except (OSError, ValueError, IndexError):
                pass
            todo += children.get(pid, [])
        return total

    def rss(self):
        return self.status("VmRSS")

    def peak(self):
        return self.status("VmHWM")

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def http(method, url, body=None, headers=None, timeout=60):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def multipart(fields, file_name, file_bytes):
    boundary = uuid.uuid4().hex
    out = bytearray()
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode()
    out += file_bytes + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def pdf_pages(pdf):
    out = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    return int(next(l for l in out.splitlines() if l.startswith("Pages:")).split()[1])


def metric(text, name, labels):
    """The value of one sample in a Prometheus text exposition (None when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def agent_config(path, *, sip_port, peer_port, spool, api, metrics_port, rtp, udptl, n, speed,
                 receive_only, log_level):
    with open(path, "w") as f:
        f.write(f"""[agent]
log_level = "{log_level}"
lease_poll_secs = 1
shutdown_grace_secs = 0
metrics_listen = "127.0.0.1:{metrics_port}"
receive_only = {"true" if receive_only else "false"}

[line]
kind = "sip"
speed = {speed}

[sip]
trunk_host = "127.0.0.1"
trunk_port = {peer_port}
register = false
qualify_seconds = 0
from_user = "15550100"
caller_id = "+15550100"
numbers = ["{TO}"]
bind_address = "127.0.0.1"
bind_port = {sip_port}
rtp_port_min = {rtp[0]}
rtp_port_max = {rtp[1]}
udptl_port_min = {udptl[0]}
udptl_port_max = {udptl[1]}

[fax]
local_station_id = "+1 555 0100"

[spool]
dir = "{spool}"

[retry]
max_attempts = 1

[limits]
max_calls = {n}
max_calls_per_trunk = {n}

[api_client]
base_url = "{api}"
allow_http = true
agent_id = "{"far-end" if receive_only else "sender"}"
""")


def run(n, binary, pdf, speed, keep, log_level):
    work = tempfile.mkdtemp(prefix="faxline-e2e-")
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    with open(os.path.join(work, "api.toml"), "w") as f:
        f.write(f"""listen = "127.0.0.1:{api_port}"
data_dir = "{work}/data"
agent_secret = "{AGENT_SECRET}"
api_key = "{API_KEY}"
inbound_enabled = true
max_requests_per_minute = 1000000
inbound_list_rpm = 1000000
max_connections_per_address = 4096
max_connections = 8192
lease_seconds = 300
""")
    env = dict(os.environ, FAXLINE_API_CLIENT__AGENT_SECRET=AGENT_SECRET)
    env.pop("RUST_LOG", None)
    env.pop("FAXLINE_CONFIG", None)
    # Every call holds a few sockets in each agent.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8 * n + 1024)), hard))
    sender_sip, far_sip = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    ports_per_range = 2 * n + 64
    ranges = [(10000 + i * ports_per_range, 10000 + (i + 1) * ports_per_range - 1) for i in range(4)]
    if ranges[-1][1] >= 32768:
        sys.exit(f"{n} calls need more media ports than 10000-32767 hold")
    procs = []
    try:
        apip = Proc("api", [binary, "api", "--config", f"{work}/api.toml"], env, work)
        procs.append(apip)
        for _ in range(100):
            try:
                http("GET", api + "/health", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        else:
            sys.exit(f"the API did not start; see {apip.log_path}")
        m_sender, m_far = free_port(), free_port()
        agent_config(f"{work}/sender.toml", sip_port=sender_sip, peer_port=far_sip, spool=f"{work}/spool-sender",
                     api=api, metrics_port=m_sender, rtp=ranges[0], udptl=ranges[1], n=n, speed=speed,
                     receive_only=False, log_level=log_level)
        agent_config(f"{work}/far.toml", sip_port=far_sip, peer_port=sender_sip, spool=f"{work}/spool-far",
                     api=api, metrics_port=m_far, rtp=ranges[2], udptl=ranges[3], n=n, speed=speed,
                     receive_only=True, log_level=log_level)
        far = Proc("far-end", [binary, "agent", "--config", f"{work}/far.toml"], env, work)
        sender = Proc("sender", [binary, "agent", "--config", f"{work}/sender.toml"], env, work)
        procs += [far, sender]
        # Both agents polling: the API's readiness says so.
        deadline = time.time() + 60
        while True:
            try:
                http("GET", api + "/health/ready", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline or not (far.alive() and sender.alive()):
                    sys.exit(f"the agents did not become ready; see the logs in {work}")
                time.sleep(0.2)
        time.sleep(2)
        base = {p.name: (p.cpu_seconds(), p.rss()) for p in procs}

        doc = open(pdf, "rb").read()
        key = {"X-API-Key": API_KEY}

        def submit(_):
            body, ctype = multipart({"to": TO}, os.path.basename(pdf), doc)
            for attempt in range(5):
                try:
                    status, out = http("POST", api + "/fax", body, dict(key, **{"Content-Type": ctype}))
                    return json.loads(out)["id"]
                except (urllib.error.URLError, ConnectionError) as e:
                    if attempt == 4:
                        raise RuntimeError(f"POST /fax failed: {e}")
                    time.sleep(0.5)

        # The peak of each process with its render workers, sampled while the faxes run.
        tree_peak = {p.name: 0 for p in procs}
        # Each agent's most simultaneous calls, and its memory then.
        calls_peak = {"sender": (0, 0), "far-end": (0, 0)}
        metrics_port = {"sender": m_sender, "far-end": m_far}
        sampling = threading.Event()

        def sample():
            while not sampling.wait(0.5):
                for p in procs:
                    if p.alive():
                        tree_peak[p.name] = max(tree_peak[p.name], p.tree_rss())
                        if p.name in metrics_port:
                            try:
                                _, text = http("GET", f"http://127.0.0.1:{metrics_port[p.name]}/metrics")
                            except (urllib.error.URLError, ConnectionError):
                                continue
                            calls = int(metric(text.decode(), "faxline_agent_calls_active", {}) or 0)
                            if calls >= calls_peak[p.name][0]:
                                calls_peak[p.name] = (calls, p.rss())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.time()
        with ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(submit, range(n)))
        submitted = time.time() - t0
        print(f"== {n} jobs submitted in {submitted:.1f} s", flush=True)

        def count(status):
            _, out = http("GET", f"{api}/fax?status={status}&limit=1", headers=key)
            return json.loads(out)["total"]

        def inbound():
            faxes, offset = [], 0
            while True:
                _, out = http("GET", f"{api}/inbound?limit=100&offset={offset}", headers=key)
                page = json.loads(out)
                faxes += page
                if len(page) < 100:
                    return faxes
                offset += 100

        peak_calls = 0
        last_change, last_state = time.time(), None
        while True:
            done = count("SUCCESS") + count("FAILED")
            received = inbound()
            state = (done, len(received))
            if state != last_state:
                last_state, last_change = state, time.time()
                print(f"   {time.time() - t0:6.1f} s: {done}/{n} final, {len(received)} received", flush=True)
            if done >= n and len(received) >= n:
                break
            if time.time() - last_change > 300 / speed + 60:
                print("== no progress for too long; giving up", flush=True)
                break
            if not all(p.alive() for p in procs):
                print("== a process exited", flush=True)
                break
            time.sleep(1)
        wall = time.time() - t0
        sampling.set()
        sampler.join()
        # Per process, before anything stops: CPU since the jobs were submitted, and the peak memory.
        usage = {p.name: (p.cpu_seconds() - base[p.name][0], p.peak(), base[p.name][1]) for p in procs
                 if p.alive()}
        lateness = {}
        for name, port in (("sender", m_sender), ("far-end", m_far)):
            try:
                _, text = http("GET", f"http://127.0.0.1:{port}/metrics")
                text = text.decode()
                lateness[name] = (metric(text, "faxline_agent_media_step_lateness_seconds",
                                         {"quantile": "0.99"}),
                                  metric(text, "faxline_agent_media_step_lateness_seconds", {"quantile": "1"}),
                                  metric(text, "faxline_agent_media_steps_skipped_total", {}))
            except (urllib.error.URLError, ConnectionError):
                pass

        def job(i):
            _, out = http("GET", f"{api}/fax/{i}", headers=key)
            return json.loads(out)

        with ThreadPoolExecutor(8) as pool:
            jobs = list(pool.map(job, ids))
        pages = pdf_pages(pdf)
        ok_jobs = [j for j in jobs if j["status"] == "SUCCESS" and j.get("pages") == pages]
        ok_in = [f for f in received if f.get("pages") == pages and f.get("status") == "received"]
        failures = {}
        for j in jobs:
            if j["status"] != "SUCCESS" or j.get("pages") != pages:
                k = f'{j["status"]}: {j.get("error")} (pages {j.get("pages")})'
                failures[k] = failures.get(k, 0) + 1
        for f in received:
            if f not in ok_in:
                k = f'inbound {f.get("status")} (pages {f.get("pages")})'
                failures[k] = failures.get(k, 0) + 1

        print(f"== {n} faxes of {pages} pages, speed {speed}: {len(ok_jobs)}/{n} jobs SUCCESS with every page, "
              f"{len(ok_in)}/{n} received and stored with every page "
              f"({100.0 * min(len(ok_jobs), len(ok_in)) / n:.1f} %)")
        print(f"== last result stored after {wall:.1f} s (submission took {submitted:.1f} s)")
        for k, v in sorted(failures.items()):
            print(f"   {v} x {k}")
        for name, (cpu, peak, rss0) in usage.items():
            print(f"== {name:8}: {cpu:7.1f} CPU s = {cpu / n * 1000:6.1f} ms per fax; peak RSS "
                  f"{peak / 2**20:7.1f} MiB (at start {rss0 / 2**20:.1f} MiB) = "
                  f"{(peak - rss0) / n / 1024:6.0f} KiB per fax in flight; with its children at most "
                  f"{tree_peak[name] / 2**20:.1f} MiB")
        for name, (calls, rss) in calls_peak.items():
            if calls:
                print(f"== {name:8}: at most {calls} calls at once, RSS then {rss / 2**20:.1f} MiB = "
                      f"{(rss - base[name][1]) / calls / 1024:.0f} KiB per call")
        for name, (p99, worst, skipped) in lateness.items():
            if p99 is not None:
                print(f"== {name:8}: media step lateness p99 {p99 * 1000:.2f} ms, max {worst * 1000:.1f} ms, "
                      f"{int(skipped or 0)} steps skipped")
        return len(ok_jobs) == n and len(ok_in) == n
    finally:
        for p in reversed(procs):
            p.stop()
        if keep:
            print(f"== kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="*", type=int, default=[250])
    ap.add_argument("--profile", choices=["release", "dev"], default="release")
    ap.add_argument("--speed", type=int, default=1, help="time compression of both SIP lines (1 = real time)")
    ap.add_argument("--pdf", default=os.path.join(ROOT, "fixtures/pdf/gs-man-groff-2-pages.pdf"))
    ap.add_argument("--log-level", default="warn", help="the agents' [agent] log_level")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (configs, logs, database)")
    a = ap.parse_args()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    cmd = ["cargo", "build", "-q", "--locked", "-p", "faxline-agent"]
    if a.profile == "release":
        cmd.append("--release")
    subprocess.run(cmd, cwd=ROOT, check=True)
    binary = os.path.join(target, "release" if a.profile == "release" else "debug", "faxline")
    ok = True
    for n in a.n:
        print(f"== {time.strftime('%H:%M:%S')} {os.getloadavg()[0]:.2f} load, {n} faxes", flush=True)
        ok = run(n, binary, a.pdf, a.speed, a.keep, a.log_level) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
