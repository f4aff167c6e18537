#!/usr/bin/env bash
# External DNS: signpost's k8s_gateway plugin, fed by the fake API server (`fakeapi`) with
# BENCH_HOSTS Ingresses (one host each), against Knot DNS serving the same names (and their
# PTR records) from zone files. The same dnsperf mix (60% A, 10% NXDOMAIN, 10% NODATA AAAA,
# 10% NODATA TXT, 10% PTR) runs against each server in turn; the report gives queries
# answered per second of server CPU and the ratio signpost/Knot.
#
# Environment:
#   SIGNPOST_BIN   signpost binary (default: `cargo build --release`, then
#                  ${CARGO_TARGET_DIR:-target}/release/signpost)
#   FAKEAPI_BIN    fakeapi binary (default: built with cargo likewise)
#   BENCH_HOSTS    Ingress hosts (default 10000, at most 65534)
#   BENCH_SECONDS  dnsperf run length per server, seconds (default 10)
#   BENCH_QPS      pass -Q BENCH_QPS to dnsperf (default: unlimited)
#   BENCH_ROUNDS   run the two servers in turn this many times; ratios use medians (default 1)
#   BENCH_OUT      copy the raw results and logs into this folder (default: none)
#   KNOTD          knotd binary (default: knotd from PATH, else /usr/sbin/knotd)
#
# Needs dnsperf, knotd, dig and python3. Everything listens on 127.0.0.1 only, on free
# ports; every wait is bounded; the temporary folder and every process started are removed
# on exit (Ctrl-C included).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=bench/kubelib.sh
. "$here/kubelib.sh"
lib="$here/gatewaylib.py"
clusterlib="$here/clusterlib.py"
benchlib="$here/benchlib.py"

hosts=${BENCH_HOSTS:-10000}
seconds=${BENCH_SECONDS:-10}
qps_limit=${BENCH_QPS:-}
rounds=${BENCH_ROUNDS:-1}
knotd=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}

for tool in dnsperf dig python3; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
[ -x "$knotd" ] || { echo "missing tool: knotd ($knotd)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/signpost-gateway-bench.XXXXXX")
results="$tmp/results"
mkdir -p "$results"
fake_pid=""
server_pid=""
client_pid=""

stop_server() { local p=$server_pid; server_pid=""; stop_pid "$p"; }

cleanup() {
    local p=$client_pid
    client_pid=""
    stop_pid "$p"
    stop_server
    p=$fake_pid
    fake_pid=""
    stop_pid "$p"
    if [ -n "${BENCH_OUT:-}" ]; then
        mkdir -p "$BENCH_OUT" && cp -r "$results"/. "$tmp"/*.log "$BENCH_OUT"/ 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- binaries ---------------------------------------------------------------------------
find_binaries

echo "== throughput: $hosts Ingress hosts, dnsperf ${seconds}s per server" >&2
python3 "$lib" gen "$tmp/zones" "$hosts"
last=$((hosts - 1))
last_name="host-$last.example.com"
last_addr=$(python3 "$lib" host-ip "$last")

# --- the fake API with the Ingresses ----------------------------------------------------
"$FAKEAPI_BIN" --kubeconfig "$tmp/kubeconfig" "$tmp/zones/ingresses.json" \
    >"$tmp/fake.url" 2>"$tmp/fake.log" &
fake_pid=$!
fake_url=$(python3 "$clusterlib" wait-url "$tmp/fake.url" "$fake_pid" 600) \
    || { cat "$tmp/fake.log" >&2; exit 1; }
echo "   fakeapi $fake_url: $(grep -o '[0-9]* objects loaded in [0-9.]*s' "$tmp/fake.log")" >&2

start_signpost() { # PORT
    cat >"$tmp/Corefile" <<EOC
example.com:$1 18.198.in-addr.arpa:$1 {
    bind 127.0.0.1
    k8s_gateway example.com 18.198.in-addr.arpa {
        kubeconfig $tmp/kubeconfig
        resources Ingress
    }
}
EOC
    local t0
    t0=$(date +%s.%N)
    "$SIGNPOST_BIN" -conf "$tmp/Corefile" >"$tmp/signpost.log" 2>&1 &
    server_pid=$!
    bg_run "$tmp/sync.out" 330 python3 "$clusterlib" wait-answer "$1" "$last_name" \
        "$last_addr" "$t0" 300 || { tail -20 "$tmp/signpost.log" >&2; die "signpost did not sync"; }
    echo "   synced in $(cut -d' ' -f1 "$tmp/sync.out") s" >&2
}

start_knot() { # PORT
    write_knot_conf "$1" "$tmp/zones" example.com 18.198.in-addr.arpa
    local t0
    t0=$(date +%s.%N)
    "$knotd" -c "$tmp/knot/knot.conf" >"$tmp/knot.log" 2>&1 &
    server_pid=$!
    bg_run "$tmp/sync.out" 90 python3 "$clusterlib" wait-answer "$1" "$last_name" \
        "$last_addr" "$t0" 60 || { cat "$tmp/knot.log" >&2; die "knot did not answer"; }
}

specs=()
for round in $(seq "$rounds"); do
    for name in signpost knot; do
        port=$(python3 "$benchlib" port)
        out="$results/throughput.$name.$round"
        echo "-- $name (round $round/$rounds) on 127.0.0.1:$port" >&2
        "start_$name" "$port"
        kill -0 "$server_pid" 2>/dev/null || die "$name exited"
        before=$(python3 "$benchlib" cpu "$server_pid")
        args=(-s 127.0.0.1 -p "$port" -d "$tmp/zones/queries" -l "$seconds" -c 4 -T 1)
        if [ -n "$qps_limit" ]; then args+=(-Q "$qps_limit"); fi
        bg_run "$tmp/dnsperf.out" $((seconds + 60)) python3 "$benchlib" dnsperf "$out" \
            "${args[@]}" || { cat "$out.log" >&2 || true; die "dnsperf failed"; }
        after=$(python3 "$benchlib" cpu "$server_pid")
        {
            echo "cpu_before=$before"
            echo "cpu_after=$after"
            echo "rss_mb=$(python3 "$benchlib" rss "$server_pid")"
            python3 "$lib" checks "$port" "$hosts"
        } >>"$out"
        stop_server
        grep -E 'Queries (sent|completed|lost)|Response codes' "$out.log" | sed 's/^/   /' >&2
        specs+=("$name=$out")
    done
done

python3 "$benchlib" report "${specs[@]}" | sed "/hosts plugin does not/d"
echo
echo "extra spot checks (dig):"
for key in check_txt check_ptr; do
    printf '  %-12s signpost: %-34s knot: %s\n' "$key" \
        "$(grep "^$key=" "$results/throughput.signpost.$rounds" | cut -d= -f2-)" \
        "$(grep "^$key=" "$results/throughput.knot.$rounds" | cut -d= -f2-)"
done
echo
echo "$(nproc) CPUs; $hosts Ingress hosts; server CPU = utime+stime from /proc/PID/stat;" \
    "dnsperf -c 4 -T 1 -l $seconds${qps_limit:+ -Q $qps_limit}; $rounds round(s)"
