#!/usr/bin/env bash
# Serve the same 10,000 names with signpost (hosts plugin) and with Knot DNS, load each
# with the same dnsperf query mix, and compare queries answered per second of server CPU.
#
# Environment:
#   SIGNPOST_BIN    signpost binary (default: run `cargo build --release` and use
#                   ${CARGO_TARGET_DIR:-target}/release/signpost)
#   BENCH_SECONDS   dnsperf run length per server, seconds (default 10)
#   BENCH_QPS       pass -Q BENCH_QPS to dnsperf (default: unlimited)
#   BENCH_SERVERS   which servers to run, in order (default "signpost knot")
#   BENCH_ROUNDS    run the servers in turn this many times, report medians (default 1)
#   KNOTD           knotd binary (default: knotd from PATH, else /usr/sbin/knotd)
#
# Needs dnsperf, knotd, dig and python3 (CI: apt-get install -y dnsperf knot dnsutils).
# Everything listens on 127.0.0.1 only; every step is bounded in time.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
lib="$here/benchlib.py"
# shellcheck source=bench/benchlib.sh
. "$here/benchlib.sh"

seconds=${BENCH_SECONDS:-10}
servers=${BENCH_SERVERS:-signpost knot}
rounds=${BENCH_ROUNDS:-1}
qps_limit=${BENCH_QPS:-}
knotd=${KNOTD:-$(command -v knotd || echo /usr/sbin/knotd)}

for tool in dnsperf dig python3; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 1; }
done
case " $servers " in *" knot "*)
    [ -x "$knotd" ] || { echo "missing tool: knotd ($knotd)" >&2; exit 1; } ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/signpost-bench.XXXXXX")
server_pid=""
client_pid=""

stop_server() {
    local pid=$server_pid
    server_pid=""
    stop_pid "$pid"
}

cleanup() {
    if [ -n "$client_pid" ]; then
        kill -TERM "$client_pid" 2>/dev/null || true
        wait "$client_pid" 2>/dev/null || true
    fi
    stop_server
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- signpost binary -------------------------------------------------------------------
case " $servers " in *" signpost "*)
    if [ -z "${SIGNPOST_BIN:-}" ]; then
        echo "building signpost (cargo build --release)..." >&2
        (cd "$root" && cargo build --release --quiet)
        target_dir=${CARGO_TARGET_DIR:-target}
        case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
        SIGNPOST_BIN="$target_dir/release/signpost"
    fi
    [ -x "$SIGNPOST_BIN" ] || { echo "signpost binary not found: $SIGNPOST_BIN" >&2; exit 1; }
    ;;
esac

# --- data -------------------------------------------------------------------------------
python3 "$lib" gen "$tmp"

write_corefile() { # PORT
    cat >"$tmp/Corefile" <<EOF
bench.test:$1 {
    bind 127.0.0.1
    hosts $tmp/bench.hosts {
        ttl 300
        no_reverse
        reload 0
    }
}
EOF
}

start_server() { # NAME PORT
    case "$1" in
        signpost)
            write_corefile "$2"
            "$SIGNPOST_BIN" -conf "$tmp/Corefile" >"$tmp/signpost.log" 2>&1 &
            ;;
        knot)
            write_knot_conf "$2" "$tmp" bench.test
            "$knotd" -c "$tmp/knot/knot.conf" >"$tmp/knot.log" 2>&1 &
            ;;
    esac
    server_pid=$!
    # Ready when the first name resolves (zone loaded), at most 30 s.
    for _ in $(seq 300); do
        if ! kill -0 "$server_pid" 2>/dev/null; then
            echo "$1 exited during start-up:" >&2
            cat "$tmp/$1.log" >&2
            exit 1
        fi
        if dig @127.0.0.1 -p "$2" +time=1 +tries=1 +short name-0.bench.test A 2>/dev/null \
            | grep -q '^10\.'; then
            return 0
        fi
        sleep 0.1
    done
    echo "$1 did not answer within 30 s:" >&2
    cat "$tmp/$1.log" >&2
    exit 1
}

run_one() { # NAME ROUND
    local name=$1 port out
    port=$(python3 "$lib" port)
    out="$tmp/result.$name.$2"
    echo "== $name (round $2/$rounds) on 127.0.0.1:$port, dnsperf for ${seconds}s" >&2
    start_server "$name" "$port"
    local before after
    before=$(python3 "$lib" cpu "$server_pid")
    local args=(-s 127.0.0.1 -p "$port" -d "$tmp/queries" -l "$seconds" -c 4 -T 1)
    if [ -n "$qps_limit" ]; then args+=(-Q "$qps_limit"); fi
    # In the background so that a signal to this script is handled at once.
    timeout $((seconds + 60)) python3 "$lib" dnsperf "$out" "${args[@]}" &
    client_pid=$!
    if ! wait "$client_pid"; then
        client_pid=""
        cat "$out.log" >&2
        exit 1
    fi
    client_pid=""
    after=$(python3 "$lib" cpu "$server_pid")
    {
        echo "cpu_before=$before"
        echo "cpu_after=$after"
        echo "rss_mb=$(python3 "$lib" rss "$server_pid")"
        echo "check_hit=$(python3 "$lib" dig-rcode "$port" name-42.bench.test A)"
        echo "check_nx=$(python3 "$lib" dig-rcode "$port" missing-42.bench.test A)"
        echo "check_nodata=$(python3 "$lib" dig-rcode "$port" name-42.bench.test AAAA)"
    } >>"$out"
    stop_server
    if grep -qiE 'error|panic|warn' "$tmp/$name.log"; then
        echo "-- $name log has errors or warnings:" >&2
        grep -iE 'error|panic|warn' "$tmp/$name.log" | head -20 >&2
    fi
    sed 's/^/   /' "$out.log" | grep -E 'Queries|Response codes|Average Latency|Run time' >&2 || true
}

for s in $servers; do
    case "$s" in
        signpost | knot) ;;
        *) echo "unknown server: $s" >&2; exit 2 ;;
    esac
done
specs=()
for round in $(seq "$rounds"); do
    for s in $servers; do
        run_one "$s" "$round"
        specs+=("$s=$tmp/result.$s.$round")
    done
done

python3 "$lib" report "${specs[@]}"
echo
echo "dnsperf -c 4 -T 1 -l $seconds${qps_limit:+ -Q $qps_limit}; $rounds round(s); $(nproc) CPUs;" \
    "server CPU = utime+stime from /proc/PID/stat over the dnsperf run"
