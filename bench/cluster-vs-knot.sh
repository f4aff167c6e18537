#!/usr/bin/env bash
# Cluster DNS: signpost's kubernetes plugin, fed by the fake API server (`fakeapi`), against
# Knot DNS serving the same names from zone files. Three phases:
#
#   throughput  BENCH_SERVICES Services with one ready endpoint each; the same dnsperf mix
#               (A, NXDOMAIN, NODATA AAAA, SRV, PTR) against each server in turn; queries
#               answered per second of server CPU, and the ratio signpost/Knot.
#   memory      MEM_SERVICES Services + as many EndpointSlices: signpost's initial sync time
#               (start until the last Service answers) and its VmRSS after the sync.
#   freshness   FRESH_CHANGES changes made through the fake's API one at a time (a Service's
#               cluster IP patched, or a Service created); the time until DNS answers with
#               the new address, p50 and p99.
#
# Environment:
#   SIGNPOST_BIN    signpost binary (default: `cargo build --release`, then
#                   ${CARGO_TARGET_DIR:-target}/release/signpost)
#   FAKEAPI_BIN     fakeapi binary (default: `cargo build --release -p signpost-fakeapi
#                   --bin fakeapi`, then .../release/fakeapi)
#   BENCH_PHASES    phases to run, in order (default "throughput memory freshness")
#   BENCH_SERVICES  Services for the throughput and freshness phases (default 10000)
#   BENCH_SECONDS   dnsperf run length per server, seconds (default 10)
#   BENCH_QPS       pass -Q BENCH_QPS to dnsperf (default: unlimited)
#   BENCH_ROUNDS    throughput: run the servers in turn this many times (default 1)
#   BENCH_SERVERS   throughput: which servers, in order (default "signpost knot")
#   MEM_SERVICES    Services (and EndpointSlices) for the memory phase (default 100000)
#   SYNC_TIMEOUT    longest wait for an initial sync, seconds (default 300)
#   FRESH_CHANGES   changes in the freshness phase (default 1000)
#   FRESH_MODE      patch, create or mixed (alternating; default mixed)
#   FRESH_TIMEOUT   longest wait for one change to show, seconds (default 5)
#   FRESH_BUDGET    stop the freshness phase after this many seconds (default 300)
#   BENCH_OUT       copy the raw results and logs into this folder (default: none)
#   KNOTD           knotd binary (default: knotd from PATH, else /usr/sbin/knotd)
#
# Needs dnsperf, knotd, dig and python3. Everything listens on 127.0.0.1 only, on free
# ports; every wait is bounded; the temporary folder and every process started are removed
# on exit (Ctrl-C included).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=bench/kubelib.sh
. "$here/kubelib.sh"
lib="$here/clusterlib.py"
benchlib="$here/benchlib.py"

phases=${BENCH_PHASES:-throughput memory freshness}
services=${BENCH_SERVICES:-10000}
seconds=${BENCH_SECONDS:-10}
qps_limit=${BENCH_QPS:-}
rounds=${BENCH_ROUNDS:-1}
servers=${BENCH_SERVERS:-signpost knot}
mem_services=${MEM_SERVICES:-100000}
sync_timeout=${SYNC_TIMEOUT:-300}
fresh_changes=${FRESH_CHANGES:-1000}
fresh_mode=${FRESH_MODE:-mixed}
fresh_timeout=${FRESH_TIMEOUT:-5}
fresh_budget=${FRESH_BUDGET:-300}
knotd=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}
ns=bench

for tool in dnsperf dig python3; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
for p in $phases; do
    case "$p" in throughput | memory | freshness) ;; *) echo "unknown phase: $p" >&2; exit 2 ;; esac
done
for s in $servers; do
    case "$s" in signpost | knot) ;; *) echo "unknown server: $s" >&2; exit 2 ;; esac
done
case " $phases " in *" throughput "*)
    case " $servers " in *" knot "*)
        [ -x "$knotd" ] || { echo "missing tool: knotd ($knotd)" >&2; exit 1; } ;;
    esac ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/signpost-cluster-bench.XXXXXX")
results="$tmp/results"
mkdir -p "$results"
fake_pid=""
server_pid=""
client_pid=""

stop_server() { local p=$server_pid; server_pid=""; stop_pid "$p"; }
stop_fake() { local p=$fake_pid; fake_pid=""; stop_pid "$p"; }

cleanup() {
    local p=$client_pid
    client_pid=""
    stop_pid "$p"
    stop_server
    stop_fake
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

# --- the fake API -----------------------------------------------------------------------
fake_url=""
start_fake() { # SERVICES
    stop_fake
    rm -f "$tmp/fake.url" "$tmp/kubeconfig"
    "$FAKEAPI_BIN" --services "$1" --namespace "$ns" --kubeconfig "$tmp/kubeconfig" \
        >"$tmp/fake.url" 2>"$tmp/fake.log" &
    fake_pid=$!
    fake_url=$(python3 "$lib" wait-url "$tmp/fake.url" "$fake_pid" 600) \
        || { cat "$tmp/fake.log" >&2; exit 1; }
    echo "   fakeapi $fake_url: $(grep -o '[0-9]* objects loaded in [0-9.]*s' "$tmp/fake.log")" >&2
}

# --- signpost ---------------------------------------------------------------------------
start_signpost() { # PORT SERVICES -> sets sync_line ("SECONDS before=...") and sync_t0
    cat >"$tmp/Corefile" <<EOF
cluster.local:$1 in-addr.arpa:$1 {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa {
        kubeconfig $tmp/kubeconfig
    }
}
EOF
    local last=$(($2 - 1)) addr t0
    addr=$(python3 "$lib" svc-ip "$last")
    t0=$(date +%s.%N)
    sync_t0=$t0
    "$SIGNPOST_BIN" -conf "$tmp/Corefile" >"$tmp/signpost.log" 2>&1 &
    server_pid=$!
    if ! bg_run "$tmp/sync.out" $((sync_timeout + 30)) python3 "$lib" wait-answer "$1" \
        "svc-$last.$ns.svc.cluster.local" "$addr" "$t0" "$sync_timeout"; then
        echo "signpost: svc-$last did not answer $addr within $sync_timeout s; log:" >&2
        tail -20 "$tmp/signpost.log" >&2
        exit 1
    fi
    sync_line=$(cat "$tmp/sync.out")
    kill -0 "$server_pid" 2>/dev/null || die "signpost exited"
}

# --- Knot -------------------------------------------------------------------------------
start_knot() { # PORT SERVICES
    write_knot_conf "$1" "$tmp/zones" cluster.local in-addr.arpa
    local last=$(($2 - 1)) addr t0
    addr=$(python3 "$lib" svc-ip "$last")
    t0=$(date +%s.%N)
    "$knotd" -c "$tmp/knot/knot.conf" >"$tmp/knot.log" 2>&1 &
    server_pid=$!
    bg_run "$tmp/sync.out" 90 python3 "$lib" wait-answer "$1" \
        "svc-$last.$ns.svc.cluster.local" "$addr" "$t0" 60 \
        || { cat "$tmp/knot.log" >&2; die "knot did not answer within 60 s"; }
    kill -0 "$server_pid" 2>/dev/null || die "knotd exited"
}

log_warnings() { # NAME
    if grep -qiE 'error|panic|warn' "$tmp/$1.log"; then
        echo "-- $1 log has errors or warnings:" >&2
        grep -iE 'error|panic|warn' "$tmp/$1.log" | head -10 >&2
    fi
}

# --- phases -----------------------------------------------------------------------------
phase_throughput() {
    echo "== throughput: $services Services, dnsperf ${seconds}s per server" >&2
    start_fake "$services"
    python3 "$lib" gen "$tmp/zones" "$services" "$ns"
    local round name port out before after si_before si_after
    for round in $(seq "$rounds"); do
        for name in $servers; do
            port=$(python3 "$benchlib" port)
            out="$results/throughput.$name.$round"
            echo "-- $name (round $round/$rounds) on 127.0.0.1:$port" >&2
            if [ "$name" = signpost ]; then
                start_signpost "$port" "$services"
                echo "   synced in ${sync_line%% *} s" >&2
            else
                start_knot "$port" "$services"
            fi
            before=$(python3 "$benchlib" cpu "$server_pid")
            si_before=$(python3 "$lib" softirq)
            local args=(-s 127.0.0.1 -p "$port" -d "$tmp/zones/queries" -l "$seconds" -c 4 -T 1)
            if [ -n "$qps_limit" ]; then args+=(-Q "$qps_limit"); fi
            bg_run "$tmp/dnsperf.out" $((seconds + 60)) python3 "$benchlib" dnsperf "$out" \
                "${args[@]}" || { cat "$out.log" >&2 || true; die "dnsperf failed"; }
            after=$(python3 "$benchlib" cpu "$server_pid")
            si_after=$(python3 "$lib" softirq)
            {
                echo "cpu_before=$before"
                echo "cpu_after=$after"
                echo "softirq_before=$si_before"
                echo "softirq_after=$si_after"
                echo "rss_mb=$(python3 "$benchlib" rss "$server_pid")"
                python3 "$lib" checks "$port" "$ns" "$services"
            } >>"$out"
            stop_server
            log_warnings "$name"
            grep -E 'Queries (sent|completed|lost)|Response codes' "$out.log" | sed 's/^/   /' >&2
        done
    done
    stop_fake
}

phase_memory() {
    echo "== memory: $mem_services Services + $mem_services EndpointSlices" >&2
    start_fake "$mem_services"
    local port out last cpu
    port=$(python3 "$benchlib" port)
    out="$results/memory"
    start_signpost "$port" "$mem_services"
    local now_status quiet_status late_status settle=5 ep_line quiet_s ep_addr
    now_status=$(python3 "$lib" status "$server_pid")
    last=$((mem_services - 1))
    # The endpoint name of the last Service needs its EndpointSlice.
    ep_addr=$(python3 "$lib" endpoint-ip "$last")
    bg_run "$tmp/ep.out" $((sync_timeout + 30)) python3 "$lib" wait-answer "$port" \
        "${ep_addr//./-}.svc-$last.$ns.svc.cluster.local" "$ep_addr" "$sync_t0" \
        "$sync_timeout" || true
    ep_line=$(cat "$tmp/ep.out")
    quiet_s=$(python3 "$lib" settle "$server_pid" "$sync_t0" "$sync_timeout")
    cpu=$(python3 "$benchlib" cpu "$server_pid")
    quiet_status=$(python3 "$lib" status "$server_pid")
    sleep "$settle"
    late_status=$(python3 "$lib" status "$server_pid")
    {
        echo "services=$mem_services"
        echo "fake_load=$(grep -o '[0-9]* objects loaded in [0-9.]*s' "$tmp/fake.log")"
        echo "sync_s=${sync_line%% *}"
        echo "sync_before=${sync_line#* before=}"
        echo "endpoints_s=${ep_line%% *}"
        echo "quiet_s=$quiet_s"
        echo "cpu_s=$cpu"
        echo "$now_status" | tr ' ' '\n'
        echo "$quiet_status" | sed 's/rss_mb=/rss_quiet_mb=/; s/hwm_mb=/hwm_quiet_mb=/' | tr ' ' '\n'
        echo "settle_s=$settle"
        echo "rss_late_mb=$(echo "$late_status" | sed 's/rss_mb=\([0-9.]*\).*/\1/')"
        echo "fake_rss_mb=$(python3 "$benchlib" rss "$fake_pid")"
        echo "check_last=$(python3 "$benchlib" dig-rcode "$port" "svc-$last.$ns.svc.cluster.local" A)"
    } >"$out"
    echo "   synced in ${sync_line%% *} s ($now_status); endpoints ${ep_line%% *} s;" \
        "quiet at $quiet_s s ($quiet_status)" >&2
    stop_server
    cp "$tmp/signpost.log" "$tmp/signpost-memory.log"
    log_warnings signpost
    stop_fake
}

phase_freshness() {
    echo "== freshness: $fresh_changes changes ($fresh_mode) on $services Services" >&2
    start_fake "$services"
    local port out before after
    port=$(python3 "$benchlib" port)
    out="$results/fresh"
    start_signpost "$port" "$services"
    # Work left after the last Service answers (the rest of the index) would be charged to
    # the first changes.
    python3 "$lib" settle "$server_pid" "$sync_t0" "$sync_timeout" >/dev/null
    before=$(python3 "$benchlib" cpu "$server_pid")
    bg_run "$tmp/fresh.out" $((fresh_budget + 2 * fresh_timeout + 60)) python3 "$lib" fresh \
        "$out" "$fake_url" "$port" "$ns" "$services" "$fresh_changes" "$fresh_mode" \
        "$fresh_timeout" "$fresh_budget" || die "freshness run failed"
    after=$(python3 "$benchlib" cpu "$server_pid")
    {
        echo "services=$services"
        echo "cpu_s=$(python3 -c "print(f'{$after - $before:.2f}')")"
    } >>"$out"
    stop_server
    cp "$tmp/signpost.log" "$tmp/signpost-freshness.log"
    log_warnings signpost
    stop_fake
}

for p in $phases; do
    "phase_$p"
done

python3 "$lib" report "$results"
echo
echo "$(nproc) CPUs; server CPU = utime+stime from /proc/PID/stat; dnsperf -c 4 -T 1" \
    "-l $seconds${qps_limit:+ -Q $qps_limit}; $rounds round(s)"
