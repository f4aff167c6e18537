# Shell helpers shared by the benchmarks that run signpost against the fake Kubernetes API
# (cluster-vs-knot.sh, gateway-vs-knot.sh). Sourced after the script has set `root` and
# `here`; uses the script's `tmp` and sets its `client_pid`.

# shellcheck source=bench/benchlib.sh
. "$here/benchlib.sh"

die() { echo "$*" >&2; exit 1; }

# Runs a helper in the background and waits for it, so that a signal is handled at once.
bg_run() { # OUTFILE TIMEOUT CMD...
    local out=$1 limit=$2
    shift 2
    timeout "$limit" "$@" >"$out" &
    client_pid=$!
    if ! wait "$client_pid"; then
        client_pid=""
        cat "$out" >&2
        return 1
    fi
    client_pid=""
}

# Sets SIGNPOST_BIN and FAKEAPI_BIN, building them (release) when not given.
find_binaries() {
    local target_dir=${CARGO_TARGET_DIR:-target}
    case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
    if [ -z "${SIGNPOST_BIN:-}" ]; then
        echo "building signpost (cargo build --release)..." >&2
        (cd "$root" && cargo build --release --quiet)
        SIGNPOST_BIN="$target_dir/release/signpost"
    fi
    if [ -z "${FAKEAPI_BIN:-}" ]; then
        echo "building fakeapi (cargo build --release -p signpost-fakeapi --bin fakeapi)..." >&2
        (cd "$root" && cargo build --release --quiet -p signpost-fakeapi --bin fakeapi)
        FAKEAPI_BIN="$target_dir/release/fakeapi"
    fi
    [ -x "$SIGNPOST_BIN" ] || die "signpost binary not found: $SIGNPOST_BIN"
    [ -x "$FAKEAPI_BIN" ] || die "fakeapi binary not found: $FAKEAPI_BIN"
}
