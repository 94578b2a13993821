#!/usr/bin/env python3
"""The overload benchmark of issue 16 part 2: measure the intake's ceiling, drive it far past it, and print a report.

Run through scripts/overload.sh (which builds the release binary and uses .venv-test's Python, for grpcio and the
OTLP protobuf classes). Not a test: it needs minutes and a quiet machine, and it reports figures rather than pass or
fail, though it exits 1 when an invariant breaks (memory over the limit plus the overhead allowed, a refusal that is
not retryable, an accepted item missing from the recording, no recovery within a second, a slow client not cut off).

Phases:
  1. ceiling: `otelbench generate` (HTTP and gRPC, many workers, rate 0) against a fresh `otelbench receive` with
     the same flags as phase 2; the ceiling is the spans per second accepted.
  2. overload: a fresh receiver (--memory-limit, a proto recording) gets FACTOR x the ceiling offered for DURATION
     seconds by `otelbench generate` (HTTP and gRPC at FACTOR x ceiling between them, many workers), wrk (HTTP) and
     h2load (gRPC), while IDLE idle connections, slow-header and slow-body clients hold connections, a prober sends
     one HTTP and one gRPC export every 0.2 s and checks each refusal's retry signal, and the receiver's RSS is
     sampled every 0.25 s.
  3. after: the time until the receiver answers an HTTP and a gRPC export with success again; then SIGTERM, its
     summary against its recording, and the clients' acknowledgements against both.

With --receiver-cpus the receiver runs on those CPUs and everything else on the rest, in both phases: the ceiling
is that of the receiver's CPU budget, and the senders do not take their CPU from it. With --receiver-cpu-quota the
receiver gets that fraction of a core's time (a cgroup CPU quota, as a container's CPU limit), in both phases: on a
machine too small for senders that offer 10x what the receiver takes, the receiver is made small instead. Either way
the senders are closed-loop, so what is offered is what the receiver answers, refusals included.
"""
import argparse
import http.client
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
RETRYABLE_HTTP = {429, 503}
RETRYABLE_GRPC = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_size(text):
    match = re.fullmatch(r"(\d+)(KiB|MiB|GiB)?", text)
    if not match:
        raise SystemExit(f"--memory-limit {text}: give a size such as 256MiB")
    return int(match.group(1)) * {None: 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[match.group(2)]


def parse_cpus(text):
    """A CPU list as taskset takes it: 0 or 0,2 or 0-3."""
    cpus = set()
    for part in text.split(","):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part.strip())
        if not match:
            raise argparse.ArgumentTypeError(f"{text}: give CPUs as 0, 0,2 or 0-3")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        cpus.update(range(first, last + 1))
    return cpus


def export_request(spans, seed):
    """An ExportTraceServiceRequest of `spans` spans with 10 attributes each (like `otelbench generate`)."""
    request = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(common_pb2.KeyValue(key="service.name", value=common_pb2.AnyValue(string_value="overload")))
    scope = resource_spans.scope_spans.add()
    now = time.time_ns()
    for index in range(spans):
        span = scope.spans.add()
        span.trace_id = struct.pack(">QQ", seed, index // 8 + 1)
        span.span_id = struct.pack(">Q", (seed << 20) + index + 1)
        span.name = f"op-{index % 7}"
        span.kind = trace_pb2.Span.SPAN_KIND_SERVER
        span.start_time_unix_nano = now
        span.end_time_unix_nano = now + 1_000_000
        for attribute in range(10):
            span.attributes.append(common_pb2.KeyValue(key=f"attr.{attribute}", value=common_pb2.AnyValue(string_value=f"value-{index % 13}-{attribute}")))
    return request.SerializeToString()


class CPUQuota:
    """A cgroup (v2, or v1's cpu controller) whose processes get `cores` of a core's time: `cores` 0.25 is 25 ms of
    every 100 ms, as a container's CPU limit of 250m. Needs write access to /sys/fs/cgroup (root)."""

    PERIOD_US = 100_000

    def __init__(self, cores):
        name = f"otelbench-overload-{os.getpid()}"
        quota_us = max(1000, int(cores * self.PERIOD_US))
        if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            if "cpu" not in open("/sys/fs/cgroup/cgroup.controllers").read().split():
                raise SystemExit("--receiver-cpu-quota: this cgroup v2 hierarchy has no cpu controller")
            with open("/sys/fs/cgroup/cgroup.subtree_control", "w") as control:
                control.write("+cpu")
            self.path = os.path.join("/sys/fs/cgroup", name)
            os.mkdir(self.path)
            self.write("cpu.max", f"{quota_us} {self.PERIOD_US}")
        elif os.path.isdir("/sys/fs/cgroup/cpu"):
            self.path = os.path.join("/sys/fs/cgroup/cpu", name)
            os.mkdir(self.path)
            self.write("cpu.cfs_period_us", str(self.PERIOD_US))
            self.write("cpu.cfs_quota_us", str(quota_us))
        else:
            raise SystemExit("--receiver-cpu-quota: no cgroup CPU controller at /sys/fs/cgroup (v2) or /sys/fs/cgroup/cpu (v1)")
        self.cores = quota_us / self.PERIOD_US

    def write(self, file, text):
        with open(os.path.join(self.path, file), "w") as handle:
            handle.write(text)

    def enter(self):
        """Moves the calling process into the cgroup (run in the child before exec, so every thread is in it)."""
        self.write("cgroup.procs", str(os.getpid()))

    def remove(self):
        try:
            os.rmdir(self.path)
        except OSError as error:
            print(f"overload: could not remove the cgroup {self.path}: {error}", file=sys.stderr)


def parse_cores(text):
    cores = float(text)
    if not 0.01 <= cores <= os.cpu_count():
        raise argparse.ArgumentTypeError(f"{text}: give a share of cores between 0.01 and {os.cpu_count()}, e.g. 0.25")
    return cores


class Receiver:
    """`otelbench receive` as a child process, on ports of our choosing."""

    def __init__(self, binary, memory_limit, folder, name, extra=(), cpus=None, quota=None):
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.recording = os.path.join(folder, f"{name}.recording")
        self.summary = os.path.join(folder, f"{name}.summary.json")
        self.log = open(os.path.join(folder, f"{name}.log"), "w")
        self.process = subprocess.Popen(
            [binary, "receive", "--otlp-grpc", f"127.0.0.1:{self.grpc_port}", "--otlp-http", f"127.0.0.1:{self.http_port}",
             "--memory-limit", str(memory_limit), "--record", self.recording, "--record-format", "proto",
             "--summary-json", self.summary, "--quiet", *extra],
            stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=lambda: self.confine(cpus, quota))
        deadline = time.monotonic() + 60
        for port in (self.grpc_port, self.http_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit(f"otelbench receive did not listen; see {self.log.name}")
                    time.sleep(0.05)

    @staticmethod
    def confine(cpus, quota):
        if cpus:
            os.sched_setaffinity(0, cpus)
        if quota:
            quota.enter()

    def cpu_seconds(self):
        """User and system CPU time the receiver has used so far."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            return None

    def rss_bytes(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise SystemExit("otelbench receive did not stop within 120 s of SIGTERM")
        self.log.close()
        with open(self.summary) as file:
            return json.load(file)


def generate(binary, protocol, port, rate, seconds, workers, folder, name):
    summary = os.path.join(folder, f"{name}.json")
    process = subprocess.Popen(
        [binary, "generate", "traces", "--endpoint", f"127.0.0.1:{port}", "--protocol", protocol, "--rate", str(rate),
         "--duration", f"{seconds}s", "--workers", str(workers), "--batch-size", "512", "--summary-json", summary],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, summary


def read_json(path):
    with open(path) as file:
        return json.load(file)


def measure_ceiling(args, folder):
    receiver = Receiver(args.binary, args.memory_limit, folder, "ceiling", args.receive_args.split(), args.receiver_cpus, args.quota)
    runs = [generate(args.binary, protocol, port, 0, args.ceiling_seconds, 32, folder, f"ceiling-{protocol}")
            for protocol, port in (("http", receiver.http_port), ("grpc", receiver.grpc_port))]
    for process, _ in runs:
        process.wait()
    reports = [read_json(summary) for _, summary in runs]
    receiver.stop()
    return sum(report["acceptedItems"] for report in reports) / args.ceiling_seconds


class Prober(threading.Thread):
    """One HTTP and one gRPC export every 0.2 s; every refusal must carry its protocol's retry signal."""

    def __init__(self, receiver, body):
        super().__init__(daemon=True)
        self.receiver, self.body = receiver, body
        self.stop_event = threading.Event()
        self.counts = {}
        self.not_retryable = []
        self.unanswered = 0
        self.accepted_spans = 0
        self.spans = trace_service_pb2.ExportTraceServiceRequest.FromString(body).resource_spans[0].scope_spans[0].spans.__len__()

    def count(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    def http_probe(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.receiver.http_port, timeout=10)
        try:
            connection.request("POST", "/v1/traces", body=self.body, headers={"Content-Type": "application/x-protobuf"})
            response = connection.getresponse()
            response.read()
            self.count(f"HTTP {response.status}")
            if response.status == 200:
                self.accepted_spans += self.spans
            elif response.status not in RETRYABLE_HTTP or not (response.getheader("Retry-After") or "").isdigit():
                self.not_retryable.append(f"HTTP {response.status} Retry-After={response.getheader('Retry-After')}")
        except (OSError, http.client.HTTPException) as error:
            self.unanswered += 1
            self.count(f"HTTP no answer ({type(error).__name__})")
        finally:
            connection.close()

    def grpc_probe(self, channel):
        call = channel.unary_unary(EXPORT_METHOD, request_serializer=None, response_deserializer=None)
        try:
            call(self.body, timeout=10)
            self.count("gRPC OK")
            self.accepted_spans += self.spans
        except grpc.RpcError as error:
            code = error.code()
            self.count(f"gRPC {code.name}")
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                self.unanswered += 1
                return
            trailers = dict(error.trailing_metadata() or ())
            if code not in RETRYABLE_GRPC or "grpc-status-details-bin" not in trailers:
                self.not_retryable.append(f"gRPC {code.name} without RetryInfo: {error.details()}")

    def run(self):
        with grpc.insecure_channel(f"127.0.0.1:{self.receiver.grpc_port}") as channel:
            while not self.stop_event.is_set():
                self.http_probe()
                self.grpc_probe(channel)
                self.stop_event.wait(0.2)


class RSSSampler(threading.Thread):
    def __init__(self, receiver):
        super().__init__(daemon=True)
        self.receiver = receiver
        self.samples = []
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            rss = self.receiver.rss_bytes()
            if rss is not None:
                self.samples.append(rss)
            self.stop_event.wait(0.25)


class HeldConnections(threading.Thread):
    """Idle, slow-header and slow-body clients; records how long each connection stays open."""

    def __init__(self, port, idle, slow_header, slow_body, watch_seconds):
        super().__init__(daemon=True)
        self.port, self.watch_seconds = port, watch_seconds
        self.kinds = {"idle": idle, "slow-header": slow_header, "slow-body": slow_body}
        self.open_failures = 0
        self.open_seconds = 0.0
        self.lifetimes = {kind: [] for kind in self.kinds}
        self.still_open = {kind: 0 for kind in self.kinds}

    def run(self):
        started = time.monotonic()
        sockets = []
        for kind, count in self.kinds.items():
            for _ in range(count):
                try:
                    connection = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    connection.setblocking(False)
                    sockets.append([kind, connection, time.monotonic()])
                except OSError:
                    self.open_failures += 1
        self.open_seconds = time.monotonic() - started
        for entry in sockets:
            if entry[0] == "slow-header":
                self.send(entry, b"POST /v1/traces HTTP/1.1\r\nHost: overload\r\n")
            elif entry[0] == "slow-body":
                self.send(entry, b"POST /v1/traces HTTP/1.1\r\nHost: overload\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000000\r\n\r\n")
        tick = 0
        # The watch starts once every connection is open (under overload the server accepts slowly).
        watch_started = time.monotonic()
        while sockets and time.monotonic() - watch_started < self.watch_seconds:
            time.sleep(0.5)
            tick += 1
            for entry in list(sockets):
                kind, connection, opened = entry
                closed = False
                try:
                    if connection.recv(65536) == b"":
                        closed = True
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                if not closed and tick % 2 == 0 and kind != "idle":
                    closed = not self.send(entry, b"X-Slow: 1\r\n" if kind == "slow-header" else b"\0")
                if closed:
                    self.lifetimes[kind].append(time.monotonic() - opened)
                    connection.close()
                    sockets.remove(entry)
        for kind, connection, _ in sockets:
            self.still_open[kind] += 1
            connection.close()

    @staticmethod
    def send(entry, data):
        try:
            entry[1].send(data)
            return True
        except BlockingIOError:
            return True
        except OSError:
            return False


def wrk_run(port, body_path, seconds, folder):
    script = os.path.join(folder, "wrk.lua")
    with open(script, "w") as file:
        file.write(f"""
local body_file = io.open("{body_path}", "rb")
wrk.method = "POST"
wrk.body = body_file:read("*a")
wrk.headers["Content-Type"] = "application/x-protobuf"
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; retryable = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif (status == 429 or status == 503) and headers["Retry-After"] ~= nil then retryable = retryable + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local t = {{ok = 0, retryable = 0, other = 0}}
  for _, thread in ipairs(threads) do
    t.ok = t.ok + thread:get("ok"); t.retryable = t.retryable + thread:get("retryable"); t.other = t.other + thread:get("other")
  end
  io.write(string.format("WRK-COUNTS ok=%d retryable=%d other=%d errors=%d\\n", t.ok, t.retryable, t.other,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
""")
    return subprocess.Popen(["wrk", "-t", "2", "-c", "64", "-d", f"{seconds}s", "--timeout", "10s", "-s", script, f"http://127.0.0.1:{port}/v1/traces"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def h2load_run(port, grpc_body_path, seconds):
    return subprocess.Popen(
        ["h2load", "-c", "16", "-m", "16", "-t", "1", "-D", str(seconds), "-d", grpc_body_path,
         "-H", "content-type: application/grpc", "-H", "te: trailers", f"http://127.0.0.1:{port}{EXPORT_METHOD}"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def recorded_spans(path):
    requests = spans = 0
    truncated = False
    with open(path, "rb") as file:
        while True:
            prefix = file.read(4)
            if not prefix:
                break
            if len(prefix) < 4:
                truncated = True
                break
            (length,) = struct.unpack(">I", prefix)
            message = file.read(length)
            if len(message) < length:
                truncated = True
                break
            request = trace_service_pb2.ExportTraceServiceRequest.FromString(message)
            requests += 1
            spans += sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
    return requests, spans, truncated


def recovery_seconds(receiver, body):
    """Seconds from now until one HTTP and one gRPC export are both accepted (at most 30)."""
    started = time.monotonic()
    http_ok = grpc_ok = None
    with grpc.insecure_channel(f"127.0.0.1:{receiver.grpc_port}") as channel:
        call = channel.unary_unary(EXPORT_METHOD, request_serializer=None, response_deserializer=None)
        while (http_ok is None or grpc_ok is None) and time.monotonic() - started < 30:
            if http_ok is None:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", receiver.http_port, timeout=5)
                    connection.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
                    if connection.getresponse().status == 200:
                        http_ok = time.monotonic() - started
                    connection.close()
                except (OSError, http.client.HTTPException):
                    pass
            if grpc_ok is None:
                try:
                    call(body, timeout=5)
                    grpc_ok = time.monotonic() - started
                except grpc.RpcError:
                    pass
            if http_ok is None or grpc_ok is None:
                time.sleep(0.01)
    return http_ok, grpc_ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--ceiling-seconds", type=int, default=15)
    parser.add_argument("--factor", type=float, default=10)
    parser.add_argument("--memory-limit", type=parse_size, default=parse_size("256MiB"))
    parser.add_argument("--overhead-allowed", type=parse_size, default=parse_size("256MiB"),
                        help="RSS allowed beyond --memory-limit: the overhead measured and documented in the README "
                             "(188-196 MiB with this script's 5,400 held connections and load clients)")
    parser.add_argument("--idle", type=int, default=5000)
    parser.add_argument("--slow", type=int, default=200, help="slow-header clients, and as many slow-body clients")
    parser.add_argument("--watch", type=int, default=90,
                        help="seconds the held connections are watched once all are open (more than the longest timeout)")
    parser.add_argument("--receiver-cpus", type=parse_cpus, default=None,
                        help="pin the receiver to these CPUs (e.g. 0) and everything else (senders, held connections, "
                             "this script) to the others, in both phases: a receiver with a CPU budget, as in a "
                             "container, facing senders that do not take their CPU from it")
    parser.add_argument("--receiver-cpu-quota", type=parse_cores, default=None, metavar="CORES",
                        help="give the receiver this share of a core's time (e.g. 0.25), with a cgroup CPU quota, in "
                             "both phases: a receiver with a container's CPU limit, so that senders on the same "
                             "machine can offer it 10x what it takes (needs root)")
    parser.add_argument("--receive-args", default="", help="more flags for otelbench receive, e.g. '--idle-timeout 5s'")
    args, passed_on = parser.parse_known_args()
    # Flags this script does not know (--idle-timeout 10s, --max-requests-in-flight 64, ...) go to otelbench receive.
    args.receive_args = " ".join([args.receive_args, *passed_on]).strip()
    args.sender_cpus = None
    if args.receiver_cpus:
        available = os.sched_getaffinity(0)
        args.sender_cpus = available - args.receiver_cpus
        if not args.receiver_cpus <= available or not args.sender_cpus:
            raise SystemExit(f"--receiver-cpus: give some of the CPUs {sorted(available)}, and leave at least one for the senders")
        os.sched_setaffinity(0, args.sender_cpus)  # the senders and held connections inherit it
    try:
        args.quota = CPUQuota(args.receiver_cpu_quota) if args.receiver_cpu_quota else None
    except OSError as error:
        raise SystemExit(f"--receiver-cpu-quota: could not make a cgroup with a CPU quota ({error}); it needs root and "
                         "a writable /sys/fs/cgroup")
    try:
        measure(args)
    finally:
        if args.quota:
            args.quota.remove()


def measure(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    problems = []
    folder = tempfile.mkdtemp(prefix="otelbench-overload-")

    body = export_request(512, 1)
    body_path = os.path.join(folder, "export.binpb")
    with open(body_path, "wb") as file:
        file.write(body)
    grpc_body_path = os.path.join(folder, "export.grpc")
    with open(grpc_body_path, "wb") as file:
        file.write(b"\0" + struct.pack(">I", len(body)) + body)

    print(f"overload: working in {folder}", flush=True)
    ceiling = measure_ceiling(args, folder)
    target = ceiling * args.factor
    print(f"overload: ceiling {ceiling:,.0f} spans/s; offering {target:,.0f} spans/s for {args.duration} s", flush=True)

    receiver = Receiver(args.binary, args.memory_limit, folder, "overload", args.receive_args.split(), args.receiver_cpus, args.quota)
    sampler = RSSSampler(receiver)
    sampler.start()
    baseline_rss = receiver.rss_bytes()
    held = HeldConnections(receiver.http_port, args.idle, args.slow, args.slow, watch_seconds=args.watch)
    held.start()
    prober = Prober(receiver, body)
    prober.start()
    cpu_at_start, load_started = receiver.cpu_seconds(), time.monotonic()
    generators = [generate(args.binary, protocol, port, target / 2, args.duration, 64, folder, f"overload-{protocol}")
                  for protocol, port in (("http", receiver.http_port), ("grpc", receiver.grpc_port))]
    wrk = wrk_run(receiver.http_port, body_path, args.duration, folder)
    h2load = h2load_run(receiver.grpc_port, grpc_body_path, args.duration)
    for process, _ in generators:
        process.wait()
    wrk_output, _ = wrk.communicate()
    h2load_output, _ = h2load.communicate()
    prober.stop_event.set()
    prober.join()
    receiver_cores = (receiver.cpu_seconds() - cpu_at_start) / (time.monotonic() - load_started)
    load_stopped_rss = receiver.rss_bytes()
    http_recovery, grpc_recovery = recovery_seconds(receiver, body)
    recovery_accepted = (http_recovery is not None) + (grpc_recovery is not None)
    held.join()
    # Settled: the held connections are gone and the receiver has been idle for more than two of its 2 s trims.
    time.sleep(5)
    settled_rss = receiver.rss_bytes()
    sampler.stop_event.set()
    sampler.join()
    summary = receiver.stop()

    reports = [read_json(summary_path) for _, summary_path in generators]
    wrk_counts = dict(re.findall(r"(\w+)=(\d+)", (re.search(r"WRK-COUNTS (.*)", wrk_output) or [""])[0]))
    wrk_counts = {key: int(value) for key, value in wrk_counts.items()}
    h2load_requests = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", h2load_output)
    h2load_succeeded = int(h2load_requests.group(4)) if h2load_requests else 0
    # Requests h2load started and stopped waiting for when its time was up: the receiver may have accepted them.
    h2load_succeeded += int(h2load_requests.group(2)) - int(h2load_requests.group(3)) if h2load_requests else 0
    recorded_requests, recorded, truncated = recorded_spans(receiver.recording + ".traces.binpb")
    server_accepted = sum(entry["itemsAccepted"] for entry in summary["channels"] if entry["signal"] == "traces")
    server_requests = sum(entry["requestsAccepted"] for entry in summary["channels"] if entry["signal"] == "traces")
    server_refused = sum(entry["requestsRejected"] for entry in summary["channels"] if entry["signal"] == "traces")
    # Requests a client gave up on (its 10 s deadline) may still have been accepted after it stopped waiting.
    unanswered_requests = (sum(report["refusalsByStatus"].get("gRPC deadlineExceeded", 0) + sum(report["failuresByReason"].values()) for report in reports)
                           + wrk_counts.get("errors", 0) + prober.unanswered)
    known_accepted = (sum(report["acceptedItems"] for report in reports) + wrk_counts.get("ok", 0) * 512 + prober.accepted_spans
                      + 512 * recovery_accepted)
    unattributed = server_accepted - known_accepted
    peak_rss = max(sampler.samples) if sampler.samples else 0
    offered = (sum(report["sentItems"] for report in reports) + 512 * (sum(wrk_counts.get(k, 0) for k in ("ok", "retryable", "other")) + h2load_succeeded)) / args.duration

    print()
    print("## otelbench overload report")
    if args.receiver_cpus:
        print(f"CPUs: the receiver on {sorted(args.receiver_cpus)}, senders and held connections on {sorted(args.sender_cpus)} (both phases)")
    if args.quota:
        print(f"CPU quota: the receiver gets {args.quota.cores:g} of a core's time (cgroup {args.quota.path}, both phases)")
    print(f"ceiling (generate, HTTP + gRPC, 32 workers each, rate 0, {args.ceiling_seconds} s): {ceiling:,.0f} spans/s accepted")
    print(f"overload: {args.duration} s at a target of {target:,.0f} spans/s ({args.factor:g}x): generate HTTP + gRPC (64 workers each), wrk -c64, h2load -c16 -m16")
    print(f"  offered (answered requests x spans): {offered:,.0f} spans/s = {offered / ceiling:.1f}x the ceiling; "
          f"the receiver used {receiver_cores:.2f} cores")
    # What the receiver took while refusing the rest (the last few exports after the load are in it too).
    print(f"  accepted: {server_accepted / args.duration:,.0f} spans/s = {server_accepted / args.duration / ceiling:.0%} of the ceiling; "
          f"the rest was refused or waited")
    for report in reports:
        print(f"  generate {report['transport']}: sent {report['sentItems']:,} accepted {report['acceptedItems']:,} refused {report['refusedItems']:,} "
              f"unanswered {report['failedItems']:,}; refusals {report['refusalsByStatus']}; failures {report['failuresByReason']}")
        for status in report["refusalsByStatus"]:
            # The client's own deadline (10 s) is no answer, not a refusal: it is counted as unanswered below.
            if status not in ("HTTP 429", "HTTP 503", "gRPC unavailable", "gRPC resourceExhausted", "gRPC deadlineExceeded"):
                problems.append(f"generate {report['transport']} saw a refusal that is not retryable: {status}")
    print(f"  wrk: {wrk_counts} (retryable = 429/503 with Retry-After)")
    if wrk_counts.get("other", 0):
        problems.append(f"wrk saw {wrk_counts['other']} answers that were neither 200 nor 429/503 with Retry-After")
    print(f"  h2load: {h2load_requests.group(0) if h2load_requests else h2load_output[-400:]}")
    print(f"  prober (1 HTTP + 1 gRPC export every 0.2 s): {prober.counts}; unanswered {prober.unanswered}")
    if prober.not_retryable:
        problems.append(f"prober saw refusals without the retry signal: {prober.not_retryable[:5]}")
    print(f"memory: limit {args.memory_limit / 2**20:.0f} MiB; RSS at start {baseline_rss / 2**20:.0f} MiB, peak {peak_rss / 2**20:.0f} MiB "
          f"(limit + {(peak_rss - args.memory_limit) / 2**20:.0f} MiB), after the load {load_stopped_rss / 2**20:.0f} MiB, "
          f"settled (idle 5 s after the held connections closed) {settled_rss / 2**20:.0f} MiB")
    if peak_rss > args.memory_limit + args.overhead_allowed:
        problems.append(f"peak RSS {peak_rss / 2**20:.0f} MiB is over the limit plus {args.overhead_allowed / 2**20:.0f} MiB")
    print(f"accounting: the receiver accepted {server_accepted:,} spans in {server_requests:,} requests (refused {server_refused:,} requests); "
          f"the recording holds {recorded:,} spans in {recorded_requests:,} requests{' (cut)' if truncated else ''}; lost {server_accepted - recorded:,}")
    if server_accepted != recorded or server_requests != recorded_requests or truncated:
        problems.append("accepted and recorded differ")
    print(f"  acknowledged to generate, wrk and the prober: {known_accepted:,}; the rest ({unattributed:,}) is h2load's "
          f"({h2load_succeeded:,} requests answered or in flight at its end; h2load does not read gRPC status) or in the {unanswered_requests:,} requests whose "
          f"client stopped waiting: at most {(h2load_succeeded + unanswered_requests) * 512:,}")
    if unattributed < 0 or unattributed > (h2load_succeeded + unanswered_requests) * 512:
        problems.append("the clients' acknowledgements do not add up to what the receiver accepted")
    print(f"after the load: HTTP export accepted after {http_recovery if http_recovery is None else f'{http_recovery:.3f} s'}, "
          f"gRPC after {grpc_recovery if grpc_recovery is None else f'{grpc_recovery:.3f} s'}")
    if http_recovery is None or grpc_recovery is None or max(http_recovery, grpc_recovery) > 1:
        problems.append("the receiver did not answer normally within 1 s of the load stopping")
    print(f"held connections to OTLP/HTTP (opened at the start, which took {held.open_seconds:.1f} s; failed to open: {held.open_failures}):")
    for kind, lifetimes in held.lifetimes.items():
        if lifetimes:
            lifetimes.sort()
            print(f"  {kind}: {held.kinds[kind]} opened, {len(lifetimes)} closed by the server after {lifetimes[0]:.1f}-{lifetimes[-1]:.1f} s "
                  f"(median {lifetimes[len(lifetimes) // 2]:.1f} s), {held.still_open[kind]} still open {held.watch_seconds} s after all were open")
        else:
            print(f"  {kind}: {held.kinds[kind]} opened, none closed, {held.still_open[kind]} still open {held.watch_seconds} s after all were open")
        if held.still_open[kind]:
            problems.append(f"{held.still_open[kind]} {kind} connections were still open {held.watch_seconds} s after all were open")
    print(f"files: {folder}")
    if problems:
        print("PROBLEMS:")
        for problem in problems:
            print(f"  - {problem}")
        sys.exit(1)
    print("all invariants held")


if __name__ == "__main__":
    main()
