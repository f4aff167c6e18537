# Shell helpers every benchmark shares: stopping a process, and the Knot DNS configuration
# signpost is compared against. Sourced; uses the script's `tmp`.

stop_pid() { # PID: TERM, then KILL after 5 s
    local pid=$1
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Writes $tmp/knot/knot.conf: Knot on 127.0.0.1@PORT with one UDP worker per CPU, serving
# each ZONE from ZONEDIR/ZONE.zone, loaded whole, without a journal.
write_knot_conf() { # PORT ZONEDIR ZONE...
    local port=$1 zonedir=$2 zone
    shift 2
    mkdir -p "$tmp/knot/run" "$tmp/knot/storage"
    cat >"$tmp/knot/knot.conf" <<EOF
server:
    rundir: "$tmp/knot/run"
    listen: 127.0.0.1@$port
    udp-workers: $(nproc)

database:
    storage: "$tmp/knot/storage"

log:
  - target: stderr
    any: warning

template:
  - id: default
    storage: "$zonedir"
    zonefile-load: whole
    zonefile-sync: -1
    journal-content: none

zone:
EOF
    for zone in "$@"; do
        printf '  - domain: %s.\n    file: %s.zone\n' "$zone" "$zone" >>"$tmp/knot/knot.conf"
    done
}
