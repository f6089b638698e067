#!/usr/bin/env python3
"""Benchmark (not a test): the built-in suite's wall time and memory against the embedded target.

Builds ft in release mode, then runs it ROUNDS times (default 5) in each configuration,
interleaved so machine noise spreads over all of them, and prints per configuration:
the median, min and max wall time, the ratio to the first configuration, the median
session start (from ft's console), ft's own peak RSS (VmHWM of the ft process, read
from /proc until it exits) and the browsers' peak RSS (the largest sum of VmRSS over
every process below ft, or below the Grid's java for Grid runs; java itself is shown
apart). Then the per-scenario medians, where the scenario time goes by step kind (from
the step log in the JUnit XML), how much the poll interval costs, and a probe of raw
WebDriver costs (session start, round trip, page load, typing) without ft.

Configurations: Chromium and Firefox; 1 and 2 workers; reused and fresh sessions; a
local driver and a Selenium Grid 4 standalone (started here with scripts/grid.sh on a
free port and stopped at the end).

    scripts/bench.py [--rounds N] [--no-build] [--only TEXT] [--no-grid] [--no-probe] [--no-poll]

To judge a change, keep the old binary and compare, interleaved, in the same minutes:

    cp target/release/ft /tmp/ft-before   # then make the change
    scripts/bench.py --ab /tmp/ft-before --only "chrome  local 1w" --rounds 10

WebDriver commands per suite (`--count`): the built-in suite once with 1 worker, through a
chromedriver started with `--verbose --log-path` (by a wrapper given as ft's `--driver`),
counted by command type from that log; with `--ab OLD_FT`, for both binaries:

    scripts/bench.py --no-build --count --ab /tmp/ft-before

Signals on against `--no-signals` (`--signals`), paired within each round, for the fresh
build and with `--ab OLD_FT` for the old one too (extra ft arguments after `--`):

    scripts/bench.py --no-build --signals --rounds 8 --ab /tmp/ft-before [-- --browser firefox]

Wait overshoot (`--overshoot`): a fixture page (served here) that shows an element at a
time the page records (performance.now), and records when an inspection first found it
("seen": a poll, or the page's own look in a wait held there) and when the next step's
look reached the page ("noticed": ft judged the wait over, confirmed it where it waits in
the page, and moved on; the next step looks for another element, so a confirming look of
the same element does not count; a wait held in the page may make that look in its own
answer) and when the page was left ("left": the next wait's visit reached the browser, so
ft had read the answer, judged both expectations and sent its next command). Each minus
the change; medians and p90 over ROUNDS runs of 8 waits, the binaries alternating:

    scripts/bench.py --no-build --overshoot --rounds 5 [--ab /tmp/ft-before]

An expectation that never holds (`--never`: `--max-wait 10`), its wall time and the CPU
seconds of ft and everything it started, the binaries alternating, paired ratios:

    scripts/bench.py --no-build --never --rounds 4 --ab /tmp/ft-before

How late an answer held in the page comes back (`--held`, no ft): a promise resolved by a
timer, through chromedriver's execute/async, the DevTools endpoint and BiDi:

    scripts/bench.py --no-build --held --browser-binary /usr/lib/chromium/chromium-headless-shell
ft against Playwright Test and a hand-written thirtyfour program (`--versus [FT]`; FT
defaults to the release build): the book's six scenarios (scripts/versus/: a Playwright
Test project, `npm ci` there on first use, and a thirtyfour program built into
target/versus), one `ft serve` for all runs; first each runner once against two apps with
deliberate defects (each must fail exactly the scenarios they break), then ROUNDS rounds
alternating ft, ft `--no-signals`, ft `--isolation user-context` (a browser context per
scenario, as Playwright gives each test), Playwright and the hand-written program; wall and CPU
(of the whole process tree, orphans included) medians and the per-pair ratios:

    scripts/bench.py --no-build --versus /tmp/ft-before --rounds 7
"""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FT = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "ft")
GRID = "$GRID"  # replaced by the Grid's URL


def configs(grid):
    local = [
        ("chrome  local 1w reused", ["--workers", "1"]),
        # The cost of the browser's signals (BiDi) and of the filmstrip, A/B on one binary.
        ("chrome  local 1w reused signals off", ["--workers", "1", "--no-signals"]),
        ("chrome  local 1w reused filmstrip 5", ["--workers", "1", "--filmstrip", "5"]),
        ("chrome  local 2w reused", ["--workers", "2"]),
        ("chrome  local 1w fresh", ["--workers", "1", "--fresh-session"]),
        ("chrome  local 2w fresh", ["--workers", "2", "--fresh-session"]),
        ("firefox local 1w reused", ["--browser", "firefox", "--workers", "1"]),
        ("firefox local 2w reused", ["--browser", "firefox", "--workers", "2"]),
        ("firefox local 1w fresh", ["--browser", "firefox", "--workers", "1", "--fresh-session"]),
    ]
    remote = [
        ("chrome  grid  1w reused", ["--webdriver", GRID, "--workers", "1"]),
        ("chrome  grid  2w reused", ["--webdriver", GRID, "--workers", "2"]),
        ("firefox grid  1w reused", ["--webdriver", GRID, "--browser", "firefox", "--workers", "1"]),
        ("firefox grid  2w reused", ["--webdriver", GRID, "--browser", "firefox", "--workers", "2"]),
    ]
    return local + (remote if grid else [])


POLL_SWEEP = [("poll 5ms", ["--poll", "5"]), ("poll 25ms", ["--poll", "25"]), ("poll 100ms", ["--poll", "100"])]


# ---------------------------------------------------------------- /proc sampling


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), or 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def parents():
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z":
            out[int(name)] = int(fields[1])
    return out


def descendants(root):
    ppid = parents()
    kids = {}
    for pid, parent in ppid.items():
        kids.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            found.append(k)
            todo.append(k)
    return found


class Sampler(threading.Thread):
    """Samples ft's VmHWM and the browsers' summed VmRSS every 50 ms until stopped."""

    def __init__(self, ft_pid, browsers_root):
        super().__init__(daemon=True)
        self.ft_pid, self.root = ft_pid, browsers_root
        self.ft_hwm = self.browsers = self.java = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            self.ft_hwm = max(self.ft_hwm, proc_status(self.ft_pid, "VmHWM"))
            rss = sum(proc_status(p, "VmRSS") for p in descendants(self.root))
            self.browsers = max(self.browsers, rss)
            if self.root != self.ft_pid:
                self.java = max(self.java, proc_status(self.root, "VmRSS"))
            self.done.wait(0.05)


# ---------------------------------------------------------------- runs


STEP = re.compile(r"^ok\s+\S+ (\w+)\b.*\((\d+\.\d+)s\)$")


# `--browser-binary`: the Chromium binary a Chrome run starts (e.g. the headless shell).
CHROME_BINARY = []


def chrome_args(args):
    """`args`, with `--browser-binary` where the run starts a local Chromium."""
    firefox = "firefox" in args or "--webdriver" in args
    return list(args) if firefox else [*args, *CHROME_BINARY]


def run_once(args, browsers_root=None, ft=FT):
    args = chrome_args(args)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.monotonic()
        p = subprocess.Popen([ft, *args], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = Sampler(p.pid, browsers_root or p.pid)
        sampler.start()
        out = p.communicate()[0]
        wall = time.monotonic() - t0
        sampler.done.set()
        sampler.join()
        if p.returncode != 0:
            sys.exit(f"ft {' '.join(args)} exited {p.returncode}:\n{out}")
        m = re.search(r"session started in ([\d.]+)s", out)
        cases, steps = {}, {}
        for tc in ET.parse(os.path.join(d, "reports", "junit.xml")).getroot().iter("testcase"):
            cases[tc.get("name")] = float(tc.get("time"))
            for line in (tc.findtext("system-out") or "").splitlines():
                s = STEP.match(line)
                if s:
                    steps[s.group(1)] = steps.get(s.group(1), 0.0) + float(s.group(2))
        return {
            "wall": wall,
            "session": float(m.group(1)) if m else 0.0,
            "ft_mb": sampler.ft_hwm / 1024,
            "browsers_mb": sampler.browsers / 1024,
            "java_mb": sampler.java / 1024,
            "cases": cases,
            "steps": steps,
        }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Grid:
    """A Selenium Grid 4 standalone from scripts/grid.sh, on a free port, in a temp folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ft-bench-grid-")
        self.env = dict(os.environ, FT_GRID_DIR=self.dir, FT_GRID_PORT=str(free_port()))
        out = subprocess.run([os.path.join(ROOT, "scripts", "grid.sh"), "start", "standalone"], env=self.env,
                             check=True, stdout=subprocess.PIPE, text=True)
        self.url = out.stdout.strip().splitlines()[-1]
        with open(os.path.join(self.dir, "standalone.pid")) as f:
            self.pid = int(f.read())

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "grid.sh"), "stop"], env=self.env, check=False)


# ---------------------------------------------------------------- raw WebDriver probe


class Wd:
    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        self.conn.request(method, path, body=data, headers=headers)
        reply = json.loads(self.conn.getresponse().read() or b"{}")
        return reply.get("value")


def start_driver(cmd, pattern):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    for line in p.stdout:
        m = re.search(pattern, line)
        if m:
            threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
            return p, int(m.group(1))
    sys.exit(f"{cmd[0]} did not say its port")


def probe(kind, target, n=20):
    """Median milliseconds of raw WebDriver operations, without ft."""
    if kind == "chrome":
        drv, port = start_driver(["chromedriver", "--port=0"], r"successfully on port (\d+)")
        caps = {"browserName": "chrome", "goog:chromeOptions": {"args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
            "--window-size=1280,800"]}}
    else:
        drv, port = start_driver(["geckodriver", "--port", "0", "--websocket-port", "0"], r"Listening on [\d.]+:(\d+)")
        caps = {"browserName": "firefox", "moz:firefoxOptions": {"args": ["-headless"]}}
    wd = Wd(port)
    try:
        t = time.monotonic()
        sid = wd.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        times = {"session start": [(time.monotonic() - t) * 1000]}
        s = f"/session/{sid}"

        def timed(name, method, path, body=None):
            t = time.monotonic()
            v = wd.call(method, path, body)
            times.setdefault(name, []).append((time.monotonic() - t) * 1000)
            return v

        for _ in range(n):
            timed("page load (GET /)", "POST", f"{s}/url", {"url": target + "/"})
            timed("round trip (execute 'return 1')", "POST", f"{s}/execute/sync", {"script": "return 1", "args": []})
            timed("round trip (current URL)", "GET", f"{s}/url")
            el = timed("find element #id_text", "POST", f"{s}/element", {"using": "css selector", "value": "#id_text"})
            eid = list(el.values())[0]
            timed("type 11 characters", "POST", f"{s}/element/{eid}/value", {"text": "Buy wellies"})
            timed("reset: delete cookies", "DELETE", f"{s}/cookie")
            timed("reset: about:blank", "POST", f"{s}/url", {"url": "about:blank"})
            timed("reset: window rect", "POST", f"{s}/window/rect", {"x": 0, "y": 0, "width": 1280, "height": 800})
        t = time.monotonic()
        wd.call("DELETE", s)
        times["session end"] = [(time.monotonic() - t) * 1000]
        return {k: statistics.median(v) for k, v in times.items()}
    finally:
        os.killpg(drv.pid, 9)
        drv.wait()


# ---------------------------------------------------------------- an answer held in the page


class Ws:
    """A minimal WebSocket client (text frames) for the DevTools and BiDi probes."""

    def __init__(self, url):
        host, port, path = re.match(r"wss?://([^:/]+):(\d+)(/.*)?", url).groups()
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        self.sock.sendall((f"GET {path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        self.buf = self.buf.split(b"\r\n\r\n", 1)[1]
        self.id = 0

    def _take(self, n):
        while len(self.buf) < n:
            self.buf += self.sock.recv(65536)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def call(self, method, params, **extra):
        self.id += 1
        data = json.dumps(dict(id=self.id, method=method, params=params, **extra)).encode()
        n = len(data)
        size = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big")
        self.sock.sendall(bytes([0x81]) + size + b"\0\0\0\0" + data)  # a zero mask
        while True:
            n = self._take(2)[1] & 0x7F
            n = int.from_bytes(self._take(2 if n == 126 else 8), "big") if n >= 126 else n
            m = json.loads(self._take(n))
            if m.get("id") == self.id:
                return m


def held(opts, n=24):
    """How long after the page answers a command that was held in it (a promise resolved
    by a timer HELD ms later) the answer reaches the client: chromedriver's execute/async,
    the same promise over the DevTools endpoint chromedriver opened (Runtime.evaluate,
    awaitPromise), and over BiDi (script.callFunction, awaitPromise). Page time is
    Date.now() at the resolve, read back afterwards; medians in ms."""
    drv, port = start_driver(["chromedriver", "--port=0"], r"successfully on port (\d+)")
    caps = {"browserName": "chrome", "webSocketUrl": True, "goog:chromeOptions": {
        "args": ["--headless=new", "--no-sandbox"], **({"binary": opts.browser_binary} if opts.browser_binary else {})}}
    wd = Wd(port)
    try:
        v = wd.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        s = f"/session/{v['sessionId']}"
        wd.call("POST", f"{s}/url", {"url": "data:text/html,<p>held</p>"})
        dbg = v["capabilities"]["goog:chromeOptions"]["debuggerAddress"]
        conn = http.client.HTTPConnection(*dbg.split(":"))
        conn.request("GET", "/json")
        page = [t for t in json.loads(conn.getresponse().read()) if t["type"] == "page" and t["url"].startswith("data:")][0]
        cdp = Ws(page["webSocketDebuggerUrl"])
        bidi = Ws(v["capabilities"]["webSocketUrl"])
        ctx = bidi.call("browsingContext.getTree", {})["result"]["contexts"][0]["context"]
        body = "setTimeout(() => { window.__at = Date.now(); done(1); }, %d)"
        ways = {
            "WebDriver execute/async": lambda d: wd.call("POST", f"{s}/execute/async",
                                                         {"script": "const done = arguments[0]; " + body % d, "args": []}),
            "DevTools awaitPromise": lambda d: cdp.call("Runtime.evaluate", {
                "expression": "new Promise(done => { %s })" % (body % d), "awaitPromise": True}),
            "BiDi script.callFunction": lambda d: bidi.call("script.callFunction", {
                "functionDeclaration": "() => new Promise(done => { %s })" % (body % d), "awaitPromise": True,
                "target": {"context": ctx}}),
        }
        print(f"answer of a command held in the page -> at the client, median ms over {n} (chromedriver, "
              f"{opts.browser_binary or 'its default Chromium'}):")
        print(f"  {'held':>6} " + " ".join(f"{w:>26}" for w in ways))
        for d in (0, 10, 50, 100, 300):
            row = []
            for way in ways.values():
                xs = []
                for _ in range(n):
                    way(d)
                    got = time.time() * 1000
                    xs.append(got - wd.call("POST", f"{s}/execute/sync", {"script": "return window.__at", "args": []}))
                row.append(statistics.median(xs))
            print(f"  {d:4} ms " + " ".join(f"{x:26.2f}" for x in row))
        wd.call("DELETE", s)
    finally:
        os.killpg(drv.pid, 9)
        drv.wait()


# ---------------------------------------------------------------- WebDriver commands per suite


COMMAND = re.compile(r"\] COMMAND (\w+)")
SCRIPT = re.compile(r'\] COMMAND ExecuteScript \{.*?"script": "((?:[^"\\]|\\.)*)"', re.S)
SCRIPT_BYTES = "script bytes"


def count_commands(ft=FT):
    """The built-in suite once (1 worker, embedded target) through a logging chromedriver:
    its WebDriver commands by type, from chromedriver's own log."""
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "chromedriver.log")
        wrapper = os.path.join(d, "chromedriver")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec /usr/bin/chromedriver --verbose --log-path={log} \"$@\"\n")
        os.chmod(wrapper, 0o755)
        out = subprocess.run([ft, "--workers", "1", "--driver", wrapper, *CHROME_BINARY], cwd=d, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        if out.returncode != 0:
            sys.exit(f"{ft} exited {out.returncode}:\n{out.stdout}")
        counts = {}
        with open(log, errors="replace") as f:
            text = f.read()
        for m in COMMAND.finditer(text):
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        # The bytes of each ExecuteScript's script as sent (the JSON string chromedriver
        # logs, escapes and all): what a look costs on the wire.
        scripts = [len(m.group(1)) for m in SCRIPT.finditer(text)]
        counts[SCRIPT_BYTES] = (sum(scripts), len(scripts))
        return counts


def commands(opts):
    binaries = [("before", opts.ab), ("after", FT)] if opts.ab else [("ft", FT)]
    counts = {label: count_commands(ft) for label, ft in binaries}
    scripts = {label: c.pop(SCRIPT_BYTES) for label, c in counts.items()}
    kinds = sorted({k for c in counts.values() for k in c}, key=lambda k: -max(c.get(k, 0) for c in counts.values()))
    print("WebDriver commands for the built-in suite (1 worker, Chromium, embedded target), from chromedriver's log:")
    print(f"  {'command':20} " + " ".join(f"{label:>7}" for label, _ in binaries))
    for k in kinds:
        print(f"  {k:20} " + " ".join(f"{counts[label].get(k, 0):7d}" for label, _ in binaries))
    print(f"  {'total':20} " + " ".join(f"{sum(counts[label].values()):7d}" for label, _ in binaries))
    print("Bytes of the scripts ExecuteScript sent (each as the JSON string chromedriver logs):")
    print(f"  {'total':20} " + " ".join(f"{scripts[label][0]:7d}" for label, _ in binaries))
    print(f"  {'per ExecuteScript':20} " + " ".join(
        f"{scripts[label][0] // max(scripts[label][1], 1):7d}" for label, _ in binaries))


# ---------------------------------------------------------------- wait overshoot


LATE_PAGE = """<!doctype html><title>late</title><p id="early">waiting</p><script>
// The element appears AFTER ms after load. Seen: the first inspection that finds it
// (through Document.prototype.querySelectorAll, which ft's inspection script binds when
// it runs). Noticed: the first look for #early after that (the next step's look reached
// the page): ft has judged the wait over and moved on.
const after = Number(new URLSearchParams(location.search).get("after"));
// Again: the first look for #late after the one that found it (a wait held in the page
// found it, and this is ft's look through WebDriver confirming it); none where polling
// found it. Left: the page is left (the next wait's visit reached the browser): ft judged
// both expectations and moved on. A wait held in the page may make the next step's look
// in its own answer (then "noticed" is when the page answered, and "left" tells when ft
// had read it, judged both and sent the next command).
let shownAt = null, seenAt = null, againAt = null, nextAt = null, sent = false;
const qsa = Document.prototype.querySelectorAll;
Document.prototype.querySelectorAll = function (css) {
  const found = qsa.call(this, css);
  if (seenAt !== null && againAt === null && css === "#late") againAt = performance.now();
  if (shownAt !== null && seenAt === null && found.length && css === "#late") seenAt = performance.now();
  if (seenAt !== null && nextAt === null && css === "#early") nextAt = performance.now();
  return found;
};
addEventListener("pagehide", () => {
  if (nextAt === null || sent) return;
  sent = true;
  const again = againAt === null ? -1 : againAt - shownAt;
  navigator.sendBeacon("/over?ms=" + (seenAt - shownAt).toFixed(2) + "&next=" + (nextAt - shownAt).toFixed(2) +
    "&again=" + again.toFixed(2) + "&left=" + (performance.now() - shownAt).toFixed(2));
});
setTimeout(() => { const p = document.createElement("p"); p.id = "late"; p.textContent = "here";
  document.body.append(p); shownAt = performance.now(); }, after);
</script>"""


def late_server():
    """The overshoot page on a loopback server: the server, and the (seen, noticed,
    confirming, left) times its pages report."""
    import http.server
    seen = []

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = LATE_PAGE.encode() if self.path.startswith("/late") else b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            m = re.search(r"ms=([\d.]+)&next=([\d.]+)&again=(-?[\d.]+)&left=([\d.]+)", self.path)
            if m:
                seen.append(tuple(float(m.group(i)) for i in range(1, 5)))
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def run_spec(ft, server, scenario, extra=()):
    """ft on one scenario (`scenario`: its steps' TOML) against `server`; the output, the
    wall time and the CPU seconds of ft and everything it started (/proc, sampled every
    20 ms: each process's last utime+stime)."""
    with tempfile.TemporaryDirectory() as d:
        spec = os.path.join(d, "late.toml")
        with open(spec, "w") as f:
            f.write('[suite]\ndescription = "waits"\n\n[[scenario]]\nname = "late element"\n'
                    'tags = ["bench"]\nsteps = [\n  ' + ",\n  ".join(scenario) + ",\n]\n")
        url = f"http://127.0.0.1:{server.server_address[1]}"
        tick = os.sysconf("SC_CLK_TCK")
        cpu = {}
        t0 = time.monotonic()
        p = subprocess.Popen([ft, "--liveserver", url, "--specs", spec, "--workers", "1", *CHROME_BINARY, *extra],
                             cwd=d, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = []
        reader = threading.Thread(target=lambda: out.append(p.stdout.read()), daemon=True)
        reader.start()
        while p.poll() is None:
            for pid in [p.pid, *descendants(p.pid)]:
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
                except (OSError, IndexError, ValueError):
                    pass
            time.sleep(0.02)
        wall = time.monotonic() - t0
        reader.join()
        return p.returncode, "".join(out), wall, sum(cpu.values())


def overshoot_once(ft, waits=8):
    """(seen, noticed, confirming or -1, left) ms after the element appeared, for `waits` waits of one run."""
    server, seen = late_server()
    try:
        steps = []
        for i in range(waits):
            # Delays that do not line up with the poll interval.
            steps += [f'{{ visit = "/late?after={150 + 37 * i}" }}', '{ expect_present = "#late" }',
                      '{ expect_present = "#early" }']
        # The last wait's page is left too.
        steps.append('{ visit = "/done" }')
        code, out, _, _ = run_spec(ft, server, steps)
        if code != 0:
            sys.exit(f"{ft} exited {code}:\n{out}")
        deadline = time.monotonic() + 5
        while len(seen) < waits and time.monotonic() < deadline:
            time.sleep(0.05)
        return seen
    finally:
        server.shutdown()


def never(opts):
    """An expectation that never holds (`expect_text` of text the page never shows,
    `--max-wait 10`): wall and CPU of the whole run, OLD_FT and the fresh build alternating."""
    binaries = [("before", opts.ab), ("after", FT)] if opts.ab else [("ft", FT)]
    got = {label: [] for label, _ in binaries}
    server, _ = late_server()
    try:
        for i in range(opts.rounds):
            for label, ft in binaries if i % 2 == 0 else list(reversed(binaries)):
                steps = ['{ visit = "/late?after=100" }', '{ expect_text = "gone", in = "#late" }']
                code, out, wall, cpu = run_spec(ft, server, steps, ["--max-wait", "10"])
                if code != 1 or "still not true after" not in out:
                    sys.exit(f"{ft} was to fail at its deadline, exited {code}:\n{out}")
                got[label].append((wall, cpu))
                print(f"  round {i + 1} {label:7} wall {wall:6.2f} s  cpu {cpu:5.2f} s", flush=True)
    finally:
        server.shutdown()
    print(f"a never-holding expectation (--max-wait 10), {opts.rounds} rounds, alternating, load {os.getloadavg()[0]:.1f}:")
    for label, _ in binaries:
        print(f"  {label:8} wall median {med([w for w, _ in got[label]]):6.2f} s   "
              f"cpu median {med([c for _, c in got[label]]):5.2f} s")
    if opts.ab:
        for name, i in [("wall", 0), ("cpu", 1)]:
            pairs = [a[i] / b[i] for a, b in zip(got["after"], got["before"]) if b[i]]
            print(f"  {name} after/before, median of the per-pair ratios: {med(pairs):.3f}")


def overshoot(opts):
    binaries = [("before", opts.ab), ("after", FT)] if opts.ab else [("ft", FT)]
    got = {label: [] for label, _ in binaries}
    for i in range(opts.rounds):
        for label, ft in binaries if i % 2 == 0 else list(reversed(binaries)):
            got[label] += overshoot_once(ft)
    print(f"wait overshoot, {opts.rounds} rounds x 8 waits, interleaved (ms after the element was shown):")
    print("  seen: an inspection found it; confirming: ft's WebDriver look confirming what a wait in the page saw")
    print("  reached the page (ft had noticed before it sent it); noticed: the next step's look reached the page")
    print("  (or the page made it in its answer); left: the next visit reached the page (ft judged both and moved on)")
    for label, _ in binaries:
        for name, i in [("seen", 0), ("confirming", 2), ("noticed", 1), ("left", 3)]:
            xs = sorted(x[i] for x in got[label] if x[i] >= 0)
            if not xs:
                continue
            p90 = xs[int(len(xs) * 0.9) - 1] if xs else 0
            print(f"  {label:8} {name:8} median {med(xs):6.1f}   p90 {p90:6.1f}   max {max(xs or [0]):6.1f}   n={len(xs)}")
    if opts.ab:
        for name, i in [("noticed", 1), ("left", 3)]:
            pairs = [a[i] / b[i] for a, b in zip(got["after"], got["before"]) if b[i]]
            print(f"  {name}, after/before per pair (median): {med(pairs):.3f}")
    print(f"  load {os.getloadavg()[0]:.1f}")


# ---------------------------------------------------------------- main


def signals_cost(opts):
    """Signals on against --no-signals, for the fresh build and (with --ab) OLD_FT: each
    round runs every (binary, signals) pair once, the order rotated from round to round,
    so each ratio is taken within the same minutes. Chromium by default, local, 1 worker."""
    base = ["--workers", "1", *opts.args]
    bins = [("after", FT)] + ([("before", opts.ab)] if opts.ab else [])
    cells = [(b, ft, on) for b, ft in bins for on in (True, False)]
    runs = {(b, on): [] for b, _, on in cells}
    for i in range(opts.rounds):
        k = i % len(cells)
        for b, ft, on in cells[k:] + cells[:k]:
            runs[(b, on)].append(run_once(base + ([] if on else ["--no-signals"]), None, ft))
    print(f"signals on vs --no-signals, ft {' '.join(base)}, {opts.rounds} rounds, rotated, {os.cpu_count()} cores")
    print(f"{'binary':8} {'on':>7} {'off':>7} {'on/off':>7} {'paired on/off':>14} {'session on/off':>15}")
    for b, _ in bins:
        on = [x["wall"] for x in runs[(b, True)]]
        off = [x["wall"] for x in runs[(b, False)]]
        paired = med([a / o for a, o in zip(on, off)])
        son, soff = med([x["session"] for x in runs[(b, True)]]), med([x["session"] for x in runs[(b, False)]])
        print(f"{b:8} {med(on):6.2f}s {med(off):6.2f}s {med(on) / med(off):7.3f} {paired:14.3f} "
              f"{son:7.2f}s/{soff:.2f}s")
    if opts.ab:
        on_a, on_b = [x["wall"] for x in runs[("after", True)]], [x["wall"] for x in runs[("before", True)]]
        print(f"signals on, after/before: {med(on_a) / med(on_b):.3f} (paired {med([a / b for a, b in zip(on_a, on_b)]):.3f})")


def med(xs):
    return statistics.median(xs) if xs else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--no-grid", action="store_true", help="skip the Selenium Grid configurations")
    ap.add_argument("--no-probe", action="store_true", help="skip the raw WebDriver probe")
    ap.add_argument("--no-poll", action="store_true", help="skip the poll-interval sweep")
    ap.add_argument("--only", action="append", default=[], help="only configurations whose name contains TEXT")
    ap.add_argument("--ab", metavar="OLD_FT", help="compare this ft binary (before) with the fresh build (after)")
    ap.add_argument("--count", action="store_true", help="only count the WebDriver commands of one suite run")
    ap.add_argument("--overshoot", action="store_true", help="only measure how late waits return")
    ap.add_argument("--never", action="store_true",
                    help="only time an expectation that never holds (wall and CPU; with --ab, paired)")
    ap.add_argument("--held", action="store_true",
                    help="only time how late a command held in the page answers (WebDriver, DevTools, BiDi)")
    ap.add_argument("--browser-binary", metavar="BIN",
                    help="the Chromium binary local Chrome runs start (e.g. /usr/lib/chromium/chromium-headless-shell)")
    ap.add_argument("--signals", action="store_true",
                    help="only signals on vs --no-signals, paired (and for OLD_FT with --ab); extra ft arguments after --")
    ap.add_argument("--versus", nargs="?", const=FT, metavar="FT",
                    help="only ft (this binary; default the release build) against Playwright Test and a "
                         "hand-written thirtyfour program, on the book's six scenarios")
    ap.add_argument("args", nargs="*", help="with --signals: more ft arguments (after --), e.g. -- --browser firefox")
    opts = ap.parse_args()
    if opts.browser_binary:
        CHROME_BINARY[:] = ["--browser-binary", opts.browser_binary]
    if not opts.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=ROOT, check=True)
    if opts.versus:
        return versus(opts)
    if opts.count:
        return commands(opts)
    if opts.overshoot:
        return overshoot(opts)
    if opts.never:
        return never(opts)
    if opts.held:
        return held(opts)
    if opts.signals:
        return signals_cost(opts)
    if opts.ab:
        return ab(opts)
    grid = None if opts.no_grid else Grid()
    try:
        confs = [(n, a) for n, a in configs(grid) if not opts.only or any(o in n for o in opts.only)]
        if not opts.no_poll:
            confs += [(f"chrome  local 1w {n}", a) for n, a in POLL_SWEEP]
        runs = {name: [] for name, _ in confs}
        for _ in range(opts.rounds):
            for name, args in confs:
                args = [grid.url if (grid and a == GRID) else a for a in args]
                root = grid.pid if (grid and "--webdriver" in args) else None
                runs[name].append(run_once(args, root))
        report(confs, runs, opts)
        if not opts.no_probe:
            served = subprocess.Popen([FT, "serve", "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
            try:
                target = re.search(r"http://[\d.:]+", served.stdout.readline()).group(0)
                print("\nraw WebDriver costs, median ms over 20 (no ft; Python http.client, keep-alive):")
                results = {k: probe(k, target) for k in ("chrome", "firefox")}
                print(f"  {'operation':34} {'chrome':>8} {'firefox':>8}")
                for op in results["chrome"]:
                    print(f"  {op:34} {results['chrome'][op]:8.1f} {results['firefox'].get(op, 0):8.1f}")
            finally:
                served.kill()
                served.wait()
    finally:
        if grid:
            grid.stop()


def ab(opts):
    """Before/after: OLD_FT and the fresh build, alternating, on the selected configurations."""
    grid = None if opts.no_grid else Grid()
    try:
        confs = [(n, a) for n, a in configs(grid) if not opts.only or any(o in n for o in opts.only)]
        runs = {(n, b): [] for n, _ in confs for b in ("before", "after")}
        for i in range(opts.rounds):
            for name, args in confs:
                args = [grid.url if (grid and a == GRID) else a for a in args]
                root = grid.pid if (grid and "--webdriver" in args) else None
                order = [("before", opts.ab), ("after", FT)]
                for label, ft in order if i % 2 == 0 else reversed(order):
                    runs[(name, label)].append(run_once(args, root, ft))
        print(f"before: {opts.ab}\nafter:  {FT}\n{opts.rounds} rounds, alternating, {os.cpu_count()} cores")
        print(f"{'configuration':28} {'before':>8} {'after':>8} {'after/before':>12}   wall minus scenarios before/after")
        for name, _ in confs:
            b = [x["wall"] for x in runs[(name, "before")]]
            a = [x["wall"] for x in runs[(name, "after")]]
            ob = med([x["wall"] - sum(x["cases"].values()) for x in runs[(name, "before")]])
            oa = med([x["wall"] - sum(x["cases"].values()) for x in runs[(name, "after")]])
            print(f"{name:28} {med(b):7.2f}s {med(a):7.2f}s {med(a) / med(b):12.3f}   {ob:.2f}s / {oa:.2f}s")
            verbs = sorted({k for x in runs[(name, "before")] + runs[(name, "after")] for k in x["steps"]})
            for k in verbs:
                vb = med([x["steps"].get(k, 0) for x in runs[(name, "before")]])
                va = med([x["steps"].get(k, 0) for x in runs[(name, "after")]])
                print(f"  steps: {k:19} {vb:7.3f}s {va:7.3f}s {va / vb if vb else 0:12.3f}")
    finally:
        if grid:
            grid.stop()


def report(confs, runs, opts):
    base = med([r["wall"] for r in runs[confs[0][0]]])
    print(f"ft built-in suite vs embedded target, {opts.rounds} rounds, {os.cpu_count()} cores, release build")
    print(f"{'configuration':28} {'median':>7} {'min':>7} {'max':>7} {'ratio':>5} {'session':>7} "
          f"{'ft MB':>6} {'browsers MB':>11} {'grid MB':>7}")
    for name, _ in confs:
        r = runs[name]
        w = [x["wall"] for x in r]
        java = med([x["java_mb"] for x in r])
        grid_mb = f"{java:7.0f}" if java else f"{'-':>7}"
        print(f"{name:28} {med(w):6.2f}s {min(w):6.2f}s {max(w):6.2f}s {med(w) / base:5.2f} "
              f"{med([x['session'] for x in r]):6.2f}s {max(x['ft_mb'] for x in r):6.1f} "
              f"{max(x['browsers_mb'] for x in r):11.0f} {grid_mb}")
    one_worker = [n for n, _ in confs if "1w reused" in n or "1w poll" in n]
    cases = sorted({c for n in one_worker for x in runs[n] for c in x["cases"]})
    print("\nper-scenario median seconds (1 worker, reused session):")
    print(f"  {'scenario':48} " + " ".join(f"{n.replace(' 1w reused', ''):>14}" for n in one_worker))
    for c in sorted(cases, key=lambda c: -med([x["cases"].get(c, 0) for x in runs[one_worker[0]]])):
        print(f"  {c:48} " + " ".join(f"{med([x['cases'].get(c, 0) for x in runs[n]]):14.3f}" for n in one_worker))
    sums = {n: med([sum(x["cases"].values()) for x in runs[n]]) for n in one_worker}
    walls = {n: med([x["wall"] for x in runs[n]]) for n in one_worker}
    print(f"  {'sum of scenarios':48} " + " ".join(f"{sums[n]:14.3f}" for n in one_worker))
    print(f"  {'wall minus scenarios (start, session, end)':48} "
          + " ".join(f"{walls[n] - sums[n]:14.3f}" for n in one_worker))
    kinds = sorted({k for n in one_worker for x in runs[n] for k in x["steps"]})
    print("\nwhere the scenario time goes: median seconds per run, by step verb (1 worker, reused):")
    print(f"  {'verb':20} " + " ".join(f"{n.replace(' 1w reused', ''):>14}" for n in one_worker))
    for k in sorted(kinds, key=lambda k: -med([x["steps"].get(k, 0) for x in runs[one_worker[0]]])):
        print(f"  {k:20} " + " ".join(f"{med([x['steps'].get(k, 0) for x in runs[n]]):14.3f}" for n in one_worker))


# ---------------------------------------------------------------- ft against Playwright and by hand


VERSUS = os.path.join(ROOT, "scripts", "versus")
# The book's six scenarios in ft's built-in suite ("the server itself refuses empty list
# items" is ft's own, and the accounts ones are the book's later chapters).
SIX = ["can start a to-do list", "multiple users can start lists at different urls", "layout and styling",
       "cannot add empty list items", "cannot add duplicate items", "error messages are cleared on input"]
# Two apps broken on purpose, and the scenarios each must fail (the others must pass). A
# duplicate item no longer shows the error "error messages are cleared on input" starts
# from, so accept-duplicates fails that one too and is an app of its own; shared-list would
# break every scenario's row numbers, so "multiple users" is not among them.
BROKEN = [
    (["wrong-title", "off-centre", "accept-empty", "error-not-cleared"],
     {"can start a to-do list", "layout and styling", "cannot add empty list items",
      "error messages are cleared on input"}),
    (["accept-duplicates"], {"cannot add duplicate items", "error messages are cleared on input"}),
]
PW_RESULT = re.compile(r"^\s*([✓✘-]|ok|x)\s+\d+\s+.*? › (.+?)(?: \(\d.*\))?$")


def versus_setup():
    """Playwright's packages (npm ci, once) and the hand-written program's release build."""
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    if not os.path.exists(os.path.join(VERSUS, "node_modules", "@playwright", "test")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=VERSUS, env=env, check=True)
    target = os.path.join(ROOT, "target", "versus")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=os.path.join(VERSUS, "handwritten"),
                   env=dict(os.environ, CARGO_TARGET_DIR=target), check=True)
    return os.path.join(target, "release", "versus-handwritten")


def serve(ft, defects=()):
    """`ft serve` on a free port (its own fresh temporary database); returns it and its URL."""
    args = [a for d in defects for a in ("--defect", d)]
    p = subprocess.Popen([ft, "serve", "--addr", "127.0.0.1:0", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    url = re.search(r"http://[\d.:]+", p.stdout.readline()).group(0)
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p, url


def versus_runners(ft, hand, url, ft_extra=()):
    """name -> (command, env) for one run of the six scenarios against `url`."""
    filters = [a for name in SIX for a in ("--filter", name)]
    ft_cmd = [ft, "--liveserver", url, "--workers", "1", "--no-progress", *filters, *CHROME_BINARY, *ft_extra]
    env = dict(os.environ, VERSUS_BASE_URL=url)
    return {
        "ft": (ft_cmd, env),
        "ft --no-signals": ([*ft_cmd, "--no-signals"], env),
        # Isolated as Playwright isolates each test (a new browser context), not ft's default reset.
        "ft user-context": ([*ft_cmd, "--isolation", "user-context"], env),
        "playwright": ([os.path.join(VERSUS, "node_modules", ".bin", "playwright"), "test"], env),
        "handwritten": ([hand, url], env),
    }


# Runs a command as a child subreaper (Linux's PR_SET_CHILD_SUBREAPER): every process below it
# that its parent leaves behind (a browser outliving a killed driver) is reaped here, so the
# children's rusage holds the CPU of the whole tree, which /usr/bin/time's misses for
# orphans. Writes "wall user sys" (the wall until the command itself exited) to argv[1].
TREE_TIME = """
import ctypes, os, resource, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
t0 = time.monotonic()
code = subprocess.Popen(sys.argv[2:]).wait()
wall = time.monotonic() - t0
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{wall} {r.ru_utime} {r.ru_stime}")
sys.exit(code)
"""


def versus_once(name, cmd, env):
    """Runs one runner: wall (until it exits), CPU (user+sys of every process below it, to
    the last one reaped), exit code, output, and the scenarios it passed and failed."""
    with tempfile.TemporaryDirectory() as d:
        timing = os.path.join(d, "time")
        cwd = VERSUS if name == "playwright" else d
        p = subprocess.run([sys.executable, "-c", TREE_TIME, timing, *cmd], cwd=cwd, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        with open(timing) as f:
            wall, user, sys_ = map(float, f.read().split())
        passed, failed = set(), set()
        if name.startswith("ft"):
            junit = os.path.join(d, "reports", "junit.xml")
            for tc in ET.parse(junit).getroot().iter("testcase") if os.path.exists(junit) else []:
                bad = tc.find("failure") is not None or tc.find("error") is not None
                (failed if bad else passed).add(tc.get("name"))
        else:
            for line in p.stdout.splitlines():
                m = PW_RESULT.match(line) if name == "playwright" else re.match(r"^(ok|FAIL) +(.+?) \(", line)
                if m:
                    (passed if m.group(1) in ("✓", "ok") else failed).add(m.group(2))
        return {"wall": wall, "cpu": user + sys_, "code": p.returncode, "out": p.stdout,
                "passed": passed, "failed": failed}


def versus(opts):
    """ft against Playwright Test and a hand-written thirtyfour program, paired and alternating."""
    ft = opts.versus
    hand = versus_setup()
    good, good_url = serve(ft)
    broken = [serve(ft, defects) + (want,) for defects, want in BROKEN]
    try:
        print(f"ft: {ft}\nload at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}, {os.cpu_count()} cores")
        # Each runner fails exactly the broken scenarios against each broken app (waits cut to
        # 5 s, as Playwright's and the hand-written program's own) and later passes all six
        # against the good one: a runner that tests nothing cannot be compared.
        wrong = False
        for (defects, _), (_, url, want) in zip(BROKEN, broken):
            print(f"against the app with {', '.join(defects)}: each must fail exactly {len(want)} scenarios")
            for name, (cmd, env) in versus_runners(ft, hand, url, ["--max-wait", "5"]).items():
                if name in ("ft --no-signals", "ft user-context"):
                    continue
                r = versus_once(name, cmd, env)
                ok = r["code"] != 0 and r["failed"] == want and r["passed"] == set(SIX) - want
                wrong |= not ok
                print(f"  {name:16} exit {r['code']}, failed {len(r['failed'])}, passed {len(r['passed'])}: "
                      f"{'as it must' if ok else 'WRONG'} ({r['wall']:.1f}s)", flush=True)
                if not ok:
                    print(r["out"])
        if wrong:
            sys.exit("a runner did not catch the broken apps' defects: no comparison")
        runners = versus_runners(ft, hand, good_url)
        runs = {name: [] for name in runners}
        loads = []
        for i in range(opts.rounds):
            order = list(runners) if i % 2 == 0 else list(reversed(runners))
            loads.append(os.getloadavg()[0])
            for name in order:
                r = versus_once(name, *runners[name])
                if r["code"] != 0 or r["passed"] != set(SIX):
                    sys.exit(f"{name} did not pass the six against the good app (exit {r['code']}):\n{r['out']}")
                runs[name].append(r)
            print(f"  round {i + 1} (load {loads[-1]:.1f}): " + ", ".join(f"{n} {runs[n][-1]['wall']:.2f}s/{runs[n][-1]['cpu']:.2f} CPU-s"
                                                  for n in runners), flush=True)
        loads.append(os.getloadavg()[0])
        print(f"\nthe book's six scenarios, 1 worker, {opts.rounds} rounds alternating, "
              f"1-min load {min(loads):.1f}-{max(loads):.1f}:")
        print(f"  {'runner':16} {'wall median':>11} {'p90':>6} {'CPU median':>10} ")
        for name in runners:
            w, c = [x["wall"] for x in runs[name]], [x["cpu"] for x in runs[name]]
            p90 = sorted(w)[min(len(w) - 1, int(0.9 * len(w)))]
            print(f"  {name:16} {med(w):10.2f}s {p90:5.2f}s {med(c):9.2f}s")
        print("\nper-pair ratios (each round's runs against each other), and their median:")
        for a, b in [("ft", "playwright"), ("ft", "handwritten"), ("ft --no-signals", "playwright"),
                     ("ft --no-signals", "handwritten"), ("ft user-context", "playwright"),
                     ("ft", "ft --no-signals"), ("ft user-context", "ft")]:
            for what in ("wall", "cpu"):
                ratios = [x[what] / y[what] for x, y in zip(runs[a], runs[b])]
                print(f"  {a + ' / ' + b:34} {what:4} median {med(ratios):.3f}   "
                      + " ".join(f"{r:.2f}" for r in ratios))
    finally:
        for p in [good, *(b[0] for b in broken)]:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
