#!/usr/bin/env python3
"""Helpers for bench/cluster-vs-knot.sh (Python 3 standard library only).

The generic parts (free port, CPU and memory of a process, running dnsperf, dig checks) come
from bench/benchlib.py; this file adds what the cluster benchmark needs.

Subcommands:
  gen DIR N NS     write DIR/cluster.local.zone and DIR/in-addr.arpa.zone (what the
                   kubernetes plugin answers for `fakeapi --services N --namespace NS`)
                   and DIR/queries (the dnsperf mix)
  wait-url FILE PID SECONDS
                   wait until FILE holds a line (fakeapi prints its URL once loaded) while
                   PID lives; print the line
  wait-answer PORT NAME ADDRESS T0 SECONDS
                   ask NAME A at 127.0.0.1@PORT every 2 ms until an answer holds
                   ADDRESS; print the seconds since T0 (a time.time() value) and the number
                   of answers seen before (by rcode)
  settle PID T0 SECONDS
                   wait until PID has used no CPU for 300 ms (background work after the
                   sync done); print the seconds since T0 when it went quiet, or "timeout"
  fresh OUT URL PORT NS N CHANGES MODE SECONDS BUDGET
                   apply CHANGES changes through the fake's API, one at a time, and time
                   each until DNS shows it (MODE: patch, create or mixed), waiting at most
                   SECONDS for one and stopping after BUDGET seconds in all; write OUT
                   (summary) and OUT.csv (one line per change)
  softirq          print the seconds the machine has spent in interrupts and softirqs
                   (loopback packet delivery is mostly softirq time, charged to no process)
  svc-ip I         print the cluster IP fakeapi gives svc-I
  endpoint-ip I    print the address of svc-I's endpoint
  status PID       print VmRSS and VmHWM of PID in MiB ("rss_mb=.. hwm_mb=..")
  checks PORT NS N print the spot checks (rcode and counts for each query kind) as
                   key=value lines
  report DIR       print the tables for every result file in DIR
"""

import http.client
import json
import math
import os
import random
import socket
import statistics
import struct
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402  (bench/benchlib.py: free_port, cpu_seconds, rss_mib, dnsperf)

ZONE = "cluster.local"
TTL = 5  # the kubernetes plugin's default TTL
QUERIES = 100_000
SEED = 20261122
SERVICE_BASE = (10 << 24) | (96 << 16)  # fakeapi: svc-I has 10.96.0.0 + I + 1
ENDPOINT_BASE = (10 << 24) | (128 << 16)  # ... and its endpoint 10.128.0.0 + I + 1
PATCH_BASE = (10 << 24) | (100 << 16)  # fresh cluster IPs for patched Services
CREATE_BASE = (10 << 24) | (101 << 16)  # cluster IPs of created Services

# dnsperf mix, percent of the query file.
MIX = [("a", 60), ("nxdomain", 10), ("nodata", 10), ("srv", 10), ("ptr", 10)]


def svc_ip(i):
    return benchlib.offset_ip(SERVICE_BASE, i)


def query_line(kind, i, ns):
    name = f"svc-{i}.{ns}.svc.{ZONE}"
    if kind == "a":
        return f"{name} A"
    if kind == "nxdomain":
        return f"missing-{i}.{ns}.svc.{ZONE} A"
    if kind == "nodata":
        return f"{name} AAAA"
    if kind == "srv":
        return f"_http._tcp.{name} SRV"
    return f"{benchlib.ptr_name(svc_ip(i))} PTR"


def gen(out_dir, n, ns):
    os.makedirs(out_dir, exist_ok=True)
    soa = f"ns.dns.{ZONE}. hostmaster.{ZONE}. 1 7200 1800 86400 {TTL}"
    with open(os.path.join(out_dir, f"{ZONE}.zone"), "w") as f:
        f.write(f"$ORIGIN {ZONE}.\n$TTL {TTL}\n")
        f.write(f"@ IN SOA {soa}\n@ IN NS ns.dns\nns.dns IN A 127.0.0.1\n")
        for i in range(n):
            f.write(f"svc-{i}.{ns}.svc IN A {svc_ip(i)}\n")
            f.write(f"_http._tcp.svc-{i}.{ns}.svc IN SRV 0 100 80 svc-{i}.{ns}.svc.{ZONE}.\n")
    with open(os.path.join(out_dir, "in-addr.arpa.zone"), "w") as f:
        f.write(f"$ORIGIN in-addr.arpa.\n$TTL {TTL}\n")
        f.write(f"@ IN SOA {soa}\n@ IN NS ns.dns.{ZONE}.\n")
        for i in range(n):
            f.write(f"{benchlib.ptr_name(svc_ip(i))}. IN PTR svc-{i}.{ns}.svc.{ZONE}.\n")
    rng = random.Random(SEED)
    lines = []
    for kind, pct in MIX:
        lines += [query_line(kind, rng.randrange(n), ns) for _ in range(QUERIES * pct // 100)]
    rng.shuffle(lines)
    with open(os.path.join(out_dir, "queries"), "w") as f:
        f.write("\n".join(lines) + "\n")


# --- DNS over UDP ---------------------------------------------------------------------------

def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def a_records(msg):
    """(rcode, [IPv4 strings in the answer section]) of a response."""
    _, flags, qd, an = struct.unpack("!HHHH", msg[:8])
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    addrs = []
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off : off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(msg[off : off + 4]))
        off += rdlen
    return flags & 0xF, addrs


RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


class Prober:
    """Asks one A question over and over on one UDP socket (a new id each time)."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", int(port)))
        self.sock.settimeout(0.2)
        self.qid = random.randrange(65536)

    def ask(self, name):
        """(rcode name, addresses), or (None, []) on a timeout or a refused port."""
        self.qid = (self.qid + 1) & 0xFFFF
        q = struct.pack("!HHHHHH", self.qid, 0, 1, 0, 0, 0) + encode_name(name)
        q += struct.pack("!HH", 1, 1)
        try:
            self.sock.send(q)
            while True:
                msg = self.sock.recv(4096)
                if len(msg) >= 12 and struct.unpack("!H", msg[:2])[0] == self.qid:
                    rcode, addrs = a_records(msg)
                    return RCODES.get(rcode, str(rcode)), addrs
        except (socket.timeout, ConnectionRefusedError):
            return None, []

    def wait_for(self, name, addr, deadline, pause=0.0):
        """Seconds (perf_counter) when an answer held addr, or None at the deadline; and the
        count of other answers seen by rcode. `pause` between questions keeps the prober from
        taking CPU from the server (on a small machine) when a few ms of resolution do."""
        seen = {}
        while time.perf_counter() < deadline:
            rcode, addrs = self.ask(name)
            if addr in addrs:
                return time.perf_counter(), seen
            key = rcode or "no-answer"
            if rcode == "NOERROR":
                key = "NOERROR-other"
            seen[key] = seen.get(key, 0) + 1
            if rcode is None:
                time.sleep(max(pause, 0.005))  # nothing listening yet: no spinning on ICMP
            elif pause:
                time.sleep(pause)
        return None, seen


def wait_answer(port, name, addr, t0, seconds):
    # Map the wall-clock start (taken by the shell) onto perf_counter.
    start = time.perf_counter() - (time.time() - float(t0))
    # Asked every 2 ms: the initial sync takes seconds, and a tight loop would compete with
    # the server for the CPU.
    deadline = time.perf_counter() + float(seconds)
    got, seen = Prober(port).wait_for(name, addr, deadline, pause=0.002)
    others = ",".join(f"{k}:{v}" for k, v in sorted(seen.items())) or "none"
    if got is None:
        print(f"timeout before={others}")
        return 1
    print(f"{got - start:.3f} before={others}")
    return 0


def settle(pid, t0, seconds):
    deadline = time.time() + float(seconds)
    quiet_since, last = None, benchlib.cpu_seconds(int(pid))
    while time.time() < deadline:
        time.sleep(0.1)
        now = benchlib.cpu_seconds(int(pid))
        if now == last:
            quiet_since = quiet_since or time.time() - 0.1
            if time.time() - quiet_since >= 0.3:
                print(f"{quiet_since - float(t0):.3f}")
                return 0
        else:
            quiet_since, last = None, now
    print("timeout")
    return 0


def wait_url(path, pid, seconds):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        try:
            with open(path) as f:
                line = f.readline()
            if line.endswith("\n"):
                print(line.strip())
                return 0
        except FileNotFoundError:
            pass
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            sys.stderr.write("fakeapi exited before printing its URL\n")
            return 1
        time.sleep(0.05)
    sys.stderr.write(f"fakeapi printed no URL within {seconds} s\n")
    return 1


# --- freshness ------------------------------------------------------------------------------

class Api:
    """Writes to the fake API over one kept-alive HTTP/1.1 connection."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)

    def call(self, method, path, body, ctype):
        self.conn.request(method, path, body=json.dumps(body), headers={"Content-Type": ctype})
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status >= 300:
            raise SystemExit(f"{method} {path}: {resp.status} {data[:300]!r}")

    def patch_cluster_ip(self, ns, name, addr):
        body = {"spec": {"clusterIP": addr, "clusterIPs": [addr]}}
        self.call("PATCH", f"/api/v1/namespaces/{ns}/services/{name}", body,
                  "application/merge-patch+json")

    def create_service(self, ns, name, addr):
        body = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "ClusterIP", "clusterIP": addr, "clusterIPs": [addr],
                     "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
        }
        self.call("POST", f"/api/v1/namespaces/{ns}/services", body, "application/json")


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def fresh(out, url, port, ns, n, changes, mode, seconds, budget):
    n, changes, seconds = int(n), int(changes), float(seconds)
    stop_at = time.perf_counter() + float(budget)
    if mode not in ("patch", "create", "mixed"):
        raise SystemExit(f"unknown FRESH_MODE {mode}")
    api, probe = Api(url), Prober(port)
    results = {"patch": [], "create": []}
    http_ms = []
    timeouts = 0
    stamp = int(time.time())  # unique names when run twice against one fake
    done = 0
    rows = ["change,kind,http_ms,visible_ms"]
    for i in range(changes):
        if time.perf_counter() > stop_at:
            break
        done += 1
        kind = mode if mode != "mixed" else ("patch" if i % 2 == 0 else "create")
        if kind == "patch":
            name, addr = f"svc-{i % n}", benchlib.offset_ip(PATCH_BASE, i)
        else:
            name, addr = f"new-{stamp}-{i}", benchlib.offset_ip(CREATE_BASE, i)
        qname = f"{name}.{ns}.svc.{ZONE}"
        t0 = time.perf_counter()
        if kind == "patch":
            api.patch_cluster_ip(ns, name, addr)
        else:
            api.create_service(ns, name, addr)
        t1 = time.perf_counter()
        http_ms.append((t1 - t0) * 1000)
        got, _ = probe.wait_for(qname, addr, t0 + seconds)
        visible = None if got is None else (got - t0) * 1000
        rows.append(f"{i},{kind},{http_ms[-1]:.3f},{'' if visible is None else f'{visible:.3f}'}")
        if visible is None:
            timeouts += 1
            continue
        results[kind].append(visible)
    with open(out + ".csv", "w") as f:
        f.write("\n".join(rows) + "\n")
    with open(out, "w") as f:
        f.write(f"changes={done}\nasked={changes}\nmode={mode}\ntimeouts={timeouts}\n")
        f.write(f"http_p50_ms={pct(http_ms, 50):.3f}\n")
        everything = results["patch"] + results["create"]
        for label, vals in [("all", everything)] + list(results.items()):
            if not vals:
                continue
            f.write(f"{label}_n={len(vals)}\n")
            f.write(f"{label}_p50_ms={pct(vals, 50):.3f}\n")
            f.write(f"{label}_p99_ms={pct(vals, 99):.3f}\n")
            f.write(f"{label}_max_ms={max(vals):.3f}\n")
            f.write(f"{label}_mean_ms={statistics.fmean(vals):.3f}\n")
    return 0


# --- checks and report ----------------------------------------------------------------------

def softirq_seconds():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq ...
    return (v[5] + v[6]) / os.sysconf("SC_CLK_TCK")


def status(pid):
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                vals[k] = int(v.split()[0]) / 1024
    print(f"rss_mb={vals['VmRSS']:.1f} hwm_mb={vals['VmHWM']:.1f}")


CHECKS = ["a", "nxdomain", "nodata", "srv", "ptr"]


def checks(port, ns, n):
    i = int(n) // 2
    for kind in CHECKS:
        name, qtype = query_line(kind, i, ns).split()
        print(f"check_{kind}={benchlib.dig_rcode(port, name, qtype)}")


def report(result_dir):
    def files(prefix):
        return sorted(p for p in os.listdir(result_dir) if p.startswith(prefix)
                      and not p.endswith((".log", ".csv")))

    tp = files("throughput.")
    if tp:
        print("\n== throughput (dnsperf mix: 60% A, 10% NXDOMAIN, 10% NODATA AAAA, 10% SRV,"
              " 10% PTR)")
        several = any(p.split(".")[2] != "1" for p in tp)
        specs = []
        for p in tp:
            _, server, rnd = p.split(".")
            label = f"{server}#{rnd}" if several else server
            specs.append(f"{label}={os.path.join(result_dir, p)}")
        throughput_report(specs)
    for p in files("memory"):
        kv = benchlib.read_kv(os.path.join(result_dir, p))
        print(f"\n== memory and initial sync ({kv['services']} Services + "
              f"{kv['services']} EndpointSlices)")
        print(f"  fakeapi: {kv.get('fake_load', '?')}")
        print(f"  initial sync (start -> last Service answers): {kv['sync_s']} s"
              f"  (answers before: {kv.get('sync_before', '?')})")
        print(f"  last endpoint answers: {kv.get('endpoints_s', '?')} s; signpost CPU quiet from:"
              f" {kv.get('quiet_s', '?')} s (work after the sync)")
        print(f"  signpost VmRSS when the last Service answers: {kv['rss_mb']} MiB; when quiet:"
              f" {kv.get('rss_quiet_mb', '?')} MiB (peak VmHWM {kv.get('hwm_quiet_mb', '?')} MiB);"
              f" {kv['settle_s']} s later: {kv['rss_late_mb']} MiB")
        print(f"  signpost CPU until quiet: {kv['cpu_s']} s;"
              f" fakeapi VmRSS {kv.get('fake_rss_mb', '?')} MiB")
        if kv.get("check_last"):
            print(f"  check svc-{int(kv['services']) - 1}: {kv['check_last']}")
    for p in files("fresh"):
        kv = benchlib.read_kv(os.path.join(result_dir, p))
        print(f"\n== freshness ({kv['changes']} changes, mode {kv['mode']}, one at a time;"
              f" {kv.get('services', '?')} Services in the fake)")
        print(f"  {'change':<8} {'n':>5} {'p50_ms':>8} {'p99_ms':>8} {'max_ms':>8} {'mean_ms':>8}")
        for label in ("all", "patch", "create"):
            if f"{label}_n" in kv:
                print(f"  {label:<8} {kv[label + '_n']:>5} {float(kv[label + '_p50_ms']):>8.2f} "
                      f"{float(kv[label + '_p99_ms']):>8.2f} {float(kv[label + '_max_ms']):>8.2f} "
                      f"{float(kv[label + '_mean_ms']):>8.2f}")
        print(f"  timeouts: {kv['timeouts']}; the API write itself (HTTP round trip) p50 "
              f"{float(kv['http_p50_ms']):.2f} ms")
        print(f"  signpost CPU over the run: {kv.get('cpu_s', '?')} s")


def throughput_report(specs):
    rows = []
    for spec in specs:
        name, path = spec.split("=", 1)
        kv = benchlib.read_kv(path)
        cpu = float(kv["cpu_after"]) - float(kv["cpu_before"])
        completed = int(kv["completed"])
        rows.append((name, kv, completed, cpu, completed / cpu if cpu > 0 else float("inf")))
    print(f"{'server':<12} {'qps':>9} {'cpu_s':>7} {'q_per_cpu_s':>12} {'lost':>6} "
          f"{'rss_mb':>7} {'client_cpu_s':>12} {'other_cpu_s':>11} {'softirq_s':>9} "
          f"{'q_per_cpu+si':>12}")
    with_si = {}
    for name, kv, completed, cpu, per_cpu in rows:
        si = float(kv["softirq_after"]) - float(kv["softirq_before"])
        with_si[name] = completed / (cpu + si) if cpu + si > 0 else float("inf")
        print(f"{name:<12} {float(kv['qps']):>9.0f} {cpu:>7.2f} {per_cpu:>12.0f} "
              f"{int(kv['lost']):>6} {float(kv['rss_mb']):>7.1f} "
              f"{float(kv['client_cpu_s']):>12.2f} {benchlib.other_cpu(kv, cpu):>11.2f} "
              f"{si:>9.2f} {with_si[name]:>12.0f}")
    servers = list(dict.fromkeys(r[0].split("#")[0] for r in rows))
    per_cpu = {s: statistics.median(r[4] for r in rows if r[0].split("#")[0] == s)
               for s in servers}
    qps = {s: statistics.median(float(r[1]["qps"]) for r in rows if r[0].split("#")[0] == s)
           for s in servers}
    if "signpost" in per_cpu and "knot" in per_cpu:
        print(f"ratio signpost/knot, queries per server CPU-second (median): "
              f"{per_cpu['signpost'] / per_cpu['knot']:.2f}")
        si = {s: statistics.median(v for k, v in with_si.items() if k.split("#")[0] == s)
              for s in servers}
        print(f"ratio signpost/knot, queries per (server CPU + all softirq) second (median): "
              f"{si['signpost'] / si['knot']:.2f}")
        print(f"ratio signpost/knot, queries per wall second (median): "
              f"{qps['signpost'] / qps['knot']:.2f}")
    worst = max(benchlib.other_cpu(r[1], r[3]) / float(r[1]["run_time_s"]) for r in rows)
    if worst > 0.25:
        print(f"warning: up to {worst:.2f} CPUs were busy with other work during a run:"
              " figures are noisy")
    last = {}
    for r in rows:
        last[r[0].split("#")[0]] = r
    print("response codes seen by dnsperf:")
    for s, r in last.items():
        print(f"  {s:<10} {r[1].get('rcodes', '?')}")
    print("spot checks (dig; rcode, answer and authority counts):")
    for kind in CHECKS:
        line = f"  {kind:<9}"
        for s, r in last.items():
            line += f" {s}: {r[1].get('check_' + kind, '?'):<32}"
        print(line.rstrip())
    if len(last) == 2:
        a, b = list(last.values())
        same = all(a[1].get("check_" + k) == b[1].get("check_" + k) for k in CHECKS)
        print(f"  identical rcodes and counts: {'yes' if same else 'NO'}")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "gen":
        gen(rest[0], int(rest[1]), rest[2])
    elif cmd == "wait-url":
        return wait_url(*rest)
    elif cmd == "wait-answer":
        return wait_answer(*rest)
    elif cmd == "settle":
        return settle(*rest)
    elif cmd == "fresh":
        return fresh(*rest)
    elif cmd == "softirq":
        print(f"{softirq_seconds():.2f}")
    elif cmd == "endpoint-ip":
        print(benchlib.offset_ip(ENDPOINT_BASE, int(rest[0])))
    elif cmd == "svc-ip":
        print(svc_ip(int(rest[0])))
    elif cmd == "status":
        status(int(rest[0]))
    elif cmd == "checks":
        checks(*rest)
    elif cmd == "report":
        report(rest[0])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
