# The Knot DNS configuration every benchmark compares signpost against. Sourced; uses the
# script's `tmp`.

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
