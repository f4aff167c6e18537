#!/usr/bin/env python3
"""Helpers for bench/gateway-vs-knot.sh (Python 3 standard library only).

Subcommands:
  gen DIR N        write DIR/ingresses.json (N Ingresses for the fake API server: host-I in
                   example.com with load-balancer address 198.18.0.0 + I + 1),
                   DIR/example.com.zone and DIR/18.198.in-addr.arpa.zone (the same names
                   for Knot, as k8s_gateway answers them) and DIR/queries (the dnsperf mix)
  host-ip I        print the address of host-I
  checks PORT N    print the spot checks (rcode and counts per query kind) as key=value lines

The mix follows the cluster benchmark's: 60% A hits, 10% NXDOMAIN, 10% NODATA AAAA, 10%
NODATA TXT, 10% PTR.
"""

import json
import os
import random
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ZONE = "example.com"
REVERSE = "18.198.in-addr.arpa"
TTL = 60  # k8s_gateway's default TTL (and its SOA/NS TTL)
QUERIES = 100_000
SEED = 20261122
BASE = (198 << 24) | (18 << 16)
MIX = [("a", 60), ("nxdomain", 10), ("nodata", 10), ("txt", 10), ("ptr", 10)]
APEX = "dns1.kube-system"


def host_ip(i):
    return benchlib.offset_ip(BASE, i)


def query_line(kind, i):
    name = f"host-{i}.{ZONE}"
    if kind == "a":
        return f"{name} A"
    if kind == "nxdomain":
        return f"missing-{i}.{ZONE} A"
    if kind == "nodata":
        return f"{name} AAAA"
    if kind == "txt":
        return f"{name} TXT"
    return f"{benchlib.ptr_name(host_ip(i))} PTR"


def soa(zone):
    return (f"{zone}. {TTL} IN SOA {APEX}.{zone}. hostmaster.{APEX}.{zone}. 1 7200 1800 86400 {TTL}\n"
            f"{zone}. {TTL} IN NS {APEX}.{zone}.\n")


def gen(out_dir, n):
    n = int(n)
    if n > 65534:
        raise SystemExit("at most 65534 hosts (one /16)")
    os.makedirs(out_dir, exist_ok=True)
    items = []
    for i in range(n):
        items.append({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": f"ing-{i}", "namespace": "bench"},
            "spec": {"ingressClassName": "nginx",
                     "rules": [{"host": f"host-{i}.{ZONE}",
                                "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                    "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": host_ip(i)}]}},
        })
    with open(os.path.join(out_dir, "ingresses.json"), "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
    with open(os.path.join(out_dir, f"{ZONE}.zone"), "w") as f:
        f.write(soa(ZONE))
        for i in range(n):
            f.write(f"host-{i}.{ZONE}. {TTL} IN A {host_ip(i)}\n")
    with open(os.path.join(out_dir, f"{REVERSE}.zone"), "w") as f:
        f.write(soa(REVERSE))
        for i in range(n):
            f.write(f"{benchlib.ptr_name(host_ip(i))}. {TTL} IN PTR host-{i}.{ZONE}.\n")
    rnd = random.Random(SEED)
    kinds = [k for k, pct in MIX for _ in range(pct)]
    with open(os.path.join(out_dir, "queries"), "w") as f:
        for _ in range(QUERIES):
            f.write(query_line(rnd.choice(kinds), rnd.randrange(n)) + "\n")


def checks(port, n):
    i = int(n) - 1
    for key, line in [("check_hit", query_line("a", i)), ("check_nx", query_line("nxdomain", i)),
                      ("check_nodata", query_line("nodata", i)), ("check_txt", query_line("txt", i)),
                      ("check_ptr", query_line("ptr", i))]:
        name, qtype = line.split()
        print(f"{key}={benchlib.dig_rcode(port, name, qtype)}")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "gen":
        gen(rest[0], rest[1])
    elif cmd == "host-ip":
        print(host_ip(int(rest[0])))
    elif cmd == "checks":
        checks(rest[0], rest[1])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
