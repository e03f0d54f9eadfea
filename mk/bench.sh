#!/usr/bin/env bash
# The vouch benchmark run behind `make bench` (see mk/bench.mk, docs/BENCHMARKS.md).
#
# Prepares databases with vouch-seed, starts vouchd (release) and redis-server
# (no persistence) on Unix sockets in a temporary directory, runs the
# scenarios with vouch-bench, alternating vouch and Redis, stops both, and
# prints one `RESULT key=value ...` line per scenario and a Markdown table.
# Exit status: 0 when every run was free of errors (targets may be missed), 1 otherwise.
set -uo pipefail

USERS=${USERS:-100000}
TOKENS=${TOKENS:-$USERS}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
ROUNDS=${ROUNDS:-2}
BENCH=${BENCH:-build/vouch-bench}
VOUCHD=${VOUCHD:-.build/release/vouchd}
SEED=${SEED:-.build/release/vouch-seed}
BENCH=$(realpath "$BENCH") VOUCHD=$(realpath "$VOUCHD") SEED=$(realpath "$SEED")

T=$(mktemp -d /tmp/vouch-bench.XXXXXX)
VOUCHD_PID="" REDIS_PID="" FAILED=0
cleanup() {
    [ -n "$VOUCHD_PID" ] && kill "$VOUCHD_PID" 2>/dev/null && wait_gone "$VOUCHD_PID"
    [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null && wait_gone "$REDIS_PID"
    rm -rf "$T"
}
wait_gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $*" >&2; }
# field NAME < RESULT line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# mean of numbers on stdin
mean() { awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print "nan" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
yn() { if "$@"; then echo yes; else echo NO; fi; }

write_config() { # db
    cat >"$T/vouchd.conf" <<EOF
socket_path = $T/vouchd.sock
socket_mode = 0666
socket_group = none
admin_group = none
database_path = $1
hooks_dir = none
max_connections = 4096
max_connections_per_uid = 4096
log_level = warning
EOF
}

# Starts vouchd on database $1 (label $2); prints the startup RESULT line.
start_vouchd() {
    write_config "$1"
    local line
    line=$("$BENCH" startup --label "$2" --notify-socket "$T/notify.sock" --pidfile "$T/vouchd.pid" \
        --log "$T/vouchd.log" --settle-ms 500 -- "$VOUCHD" --config "$T/vouchd.conf" --log-to stderr) || {
        cat "$T/vouchd.log" >&2
        exit 1
    }
    echo "$line"
}
stop_vouchd() {
    kill "$VOUCHD_PID" 2>/dev/null
    wait_gone "$VOUCHD_PID"
    VOUCHD_PID=""
}

# run LABEL MODE ARGS... : one vouch-bench run; appends its RESULT line to $T/runs
run() {
    local label=$1 mode=$2
    shift 2
    local pid=$VOUCHD_PID sock=$T/vouchd.sock
    if [ "$mode" = redis-get ]; then pid=$REDIS_PID sock=$T/redis.sock; fi
    local line
    line=$("$BENCH" "$mode" --label "$label" --socket "$sock" --server-pid "$pid" --warmup "$WARMUP" \
        --duration "$DURATION" --users "$USERS" --tokens "$TOKENS" --token-users "$USERS" "$@")
    [ $? = 0 ] || FAILED=1
    echo "$line" | tee -a "$T/runs"
}
# agg LABEL FIELD: mean of FIELD over the runs labelled LABEL
agg() { grep " scenario=$1 " "$T/runs" | field "$2" | mean; }
errs() { grep " scenario=$1 " "$T/runs" | field errors | awk '{ s += $1 } END { print s + 0 }'; }

ROWS=()
row() { ROWS+=("| $* |"); }

# ---- 8: fairness: one uid floods correct logins beside a normal client -----------------
# The flooder runs as uid 65534 (needs root; skipped otherwise), 16 connections x 64
# logins in flight; the victim (this uid) logs in one at a time.  Reported: the
# victim's p99 alone and beside the flood, and what the flooder got (mostly busy).
fair_login() {
    if [ "$(id -u)" != 0 ]; then
        log "scenario 8 skipped: running the flooder as another uid needs root"
        return
    fi
    run login_alone login --conns 1
    chmod 755 "$T"  # the flooder's uid must reach the socket (mode 0666)
    setpriv --reuid=65534 --regid=65534 --clear-groups "$BENCH" login --label login_flood --socket "$T/vouchd.sock" \
        --server-pid "$VOUCHD_PID" --warmup "$WARMUP" --users "$USERS" --conns 16 --depth 64 \
        --duration "$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { print d + w + 1 }')" >"$T/s8_flood" &
    local flood=$!
    sleep "$(awk -v w="$WARMUP" 'BEGIN { print w + 0.5 }')"
    run login_beside_flood login --conns 1
    wait "$flood"  # the flooder's busy answers are the point: its status is not ours
    tee -a "$T/runs" <"$T/s8_flood" >/dev/null
    echo "RESULT scenario=s8_fair_login alone_p99_us=$(agg login_alone p99_us) beside_flood_p99_us=$(agg login_beside_flood p99_us) alone_rps=$(agg login_alone rps) beside_flood_rps=$(agg login_beside_flood rps) victim_errors=$(( $(errs login_alone) + $(errs login_beside_flood) )) flood_rps=$(agg login_flood rps) flood_busy=$(grep " scenario=login_flood " "$T/runs" | field busy | awk '{ s += $1 } END { print s + 0 }')"
}

log "vouch benchmark: USERS=$USERS TOKENS=$TOKENS DURATION=${DURATION}s WARMUP=${WARMUP}s ROUNDS=$ROUNDS"
log "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
log "vouchd $("$VOUCHD" --version 2>/dev/null || echo '?'), $(redis-server --version | cut -d' ' -f3)"

# ---- data --------------------------------------------------------------------
write_config "$T/empty.db"
read -r M_KIB T_COST PAR < <("$VOUCHD" --config "$T/vouchd.conf" --check-config |
    awk -F' *= *' '/^argon2_memory_kib/ { m = $2 } /^argon2_iterations/ { t = $2 } /^argon2_parallelism/ { p = $2 } END { print m, t, p }')
log "argon2id m=$M_KIB KiB t=$T_COST p=$PAR"
t0=$(date +%s.%N)
"$SEED" --database "$T/empty.db" --users 0 >/dev/null 2>&1 || exit 1
"$SEED" --database "$T/users.db" --config "$T/vouchd.conf" --users "$USERS" 2>/dev/null >&2 || exit 1
cp "$T/users.db" "$T/main.db"
"$SEED" --database "$T/main.db" --users 0 --tokens "$TOKENS" --token-users "$USERS" 2>/dev/null >&2 || exit 1
log "seeded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

# ---- 6. memory and start-up ------------------------------------------------------
# start_vouchd runs in a subshell: the pid comes from the pid file.
L_EMPTY=$(start_vouchd "$T/empty.db" mem_empty) && VOUCHD_PID=$(cat "$T/vouchd.pid") || exit 1
echo "$L_EMPTY"; stop_vouchd
L_USERS=$(start_vouchd "$T/users.db" mem_users) && VOUCHD_PID=$(cat "$T/vouchd.pid") || exit 1
echo "$L_USERS"; stop_vouchd
# stays up for the load scenarios
L_MAIN=$(start_vouchd "$T/main.db" mem_users_tokens) && VOUCHD_PID=$(cat "$T/vouchd.pid") || exit 1
echo "$L_MAIN"
BASE=$(echo "$L_EMPTY" | field rss_bytes)
RSS_U=$(echo "$L_USERS" | field rss_bytes)
RSS_UT=$(echo "$L_MAIN" | field rss_bytes)
PER_USER=$(awk -v a="$RSS_U" -v b="$BASE" -v n="$USERS" 'BEGIN { printf "%.0f", (a - b) / n }')
PER_TOKEN=$(awk -v a="$RSS_UT" -v b="$RSS_U" -v n="$TOKENS" 'BEGIN { printf "%.0f", (a - b) / n }')
READY_MS=$(echo "$L_MAIN" | field ready_ms)
READY_U_MS=$(echo "$L_USERS" | field ready_ms)
BASE_MB=$(awk -v b="$BASE" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "RESULT scenario=s6_memory users=$USERS tokens=$TOKENS base_rss_bytes=$BASE rss_users_bytes=$RSS_U rss_users_tokens_bytes=$RSS_UT bytes_per_user=$PER_USER bytes_per_token=$PER_TOKEN ready_ms_users=$READY_U_MS ready_ms_users_tokens=$READY_MS"

if [ "${FAIR_ONLY:-0}" = 1 ]; then  # make bench-fair: scenario 8 alone
    fair_login
    stop_vouchd
    exit $FAILED
fi

if [ "${MEMORY_ONLY:-0}" = 1 ]; then  # make bench-memory: scenario 6 alone
    stop_vouchd
    echo
    echo "| memory and start-up ($USERS users, $TOKENS tokens) | measured | target | met |"
    echo "|---|---|---|---|"
    echo "| base RSS, empty daemon | $BASE_MB MiB | ≤ 30 MiB | $(yn ge 31457280 "$BASE") |"
    echo "| RSS per cached user | $PER_USER B | ≤ 400 B | $(yn ge 400 "$PER_USER") |"
    echo "| RSS per cached token | $PER_TOKEN B | ≤ 200 B | $(yn ge 200 "$PER_TOKEN") |"
    echo "| start to READY=1 with the users | $READY_U_MS ms | < 3000 ms at 1,000,000 users | $(yn ge 3000 "$READY_U_MS") |"
    echo "| start to READY=1 with the users and tokens | $READY_MS ms | (reported) | — |"
    exit 0
fi

# ---- redis ---------------------------------------------------------------------
redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
    --daemonize yes --pidfile "$T/redis.pid" --logfile "$T/redis.log" --dir "$T" || exit 1
for _ in $(seq 50); do [ -S "$T/redis.sock" ] && [ -s "$T/redis.pid" ] && break; sleep 0.1; done
REDIS_PID=$(cat "$T/redis.pid")

# ---- 1 and 3: not pipelined, 16 and 64 connections ------------------------------------
for c in 16 64; do
    for r in $(seq "$ROUNDS"); do
        run "redis_c$c" redis-get --conns "$c"
        run "verify_c$c" verify --conns "$c"
        run "get_user_c$c" get_user --conns "$c"
    done
done
# ---- 2: 16 connections x 16 in flight -------------------------------------------------
for r in $(seq "$ROUNDS"); do
    run redis_c16_d16 redis-get --conns 16 --depth 16
    run verify_c16_d16 verify --conns 16 --depth 16
done
# ---- 4: login vs the same argon2id in a tight loop on all cores -------------------------
for r in $(seq "$ROUNDS"); do
    run hashloop hashloop --threads "$(nproc)" --m "$M_KIB" --t "$T_COST" --p "$PAR"
    run login_c16 login --conns 16
done
# ---- 5: verify_token while logins saturate the hashing pool ----------------------------
"$BENCH" login --label login_under_s5 --socket "$T/vouchd.sock" --server-pid "$VOUCHD_PID" --warmup "$WARMUP" \
    --duration "$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN { print d + w + 1 }')" --users "$USERS" \
    >"$T/s5_login" &
S5_LOGIN=$!
sleep "$(awk -v w="$WARMUP" 'BEGIN { print w + 0.5 }')"
run verify_c16_hashing verify --conns 16
wait "$S5_LOGIN" || FAILED=1
tee -a "$T/runs" <"$T/s5_login"
# ---- 7: a new connection per login ---------------------------------------------------
run churn_c16 churn --conns 16
# ---- 8: a flooding uid beside a normal client ----------------------------------------
fair_login

stop_vouchd
kill "$REDIS_PID" 2>/dev/null; wait_gone "$REDIS_PID"; REDIS_PID=""

# ---- summary ------------------------------------------------------------------------
echo
echo "RESULT lines per scenario (means over $ROUNDS rounds):"
summary() { # name vouch-label ref-label target
    local v_rps r_rps v_p99 r_p99 q p99ok e
    v_rps=$(agg "$2" rps) r_rps=$(agg "$3" rps) v_p99=$(agg "$2" p99_us) r_p99=$(agg "$3" p99_us)
    q=$(ratio "$v_rps" "$r_rps")
    e=$(( $(errs "$2") + $(errs "$3") ))
    p99ok=$(yn ge "$r_p99" "$v_p99")
    echo "RESULT scenario=$1 vouch_rps=$v_rps ref_rps=$r_rps ratio=$q target_ratio=$4 met=$(yn ge "$q" "$4") vouch_p99_us=$v_p99 ref_p99_us=$r_p99 p99_met=$p99ok errors=$e server_us_per_req=$(agg "$2" server_us_per_req) ref_server_us_per_req=$(agg "$3" server_us_per_req)"
    row "$1 | $v_rps | $r_rps | **$q×** (≥ $4×: $(yn ge "$q" "$4")) | $v_p99 | $r_p99 | $p99ok | $e"
}
summary s1_verify_c16 verify_c16 redis_c16 1.2
summary s1_verify_c64 verify_c64 redis_c64 1.2
summary s2_verify_c16_d16 verify_c16_d16 redis_c16_d16 1.0
summary s3_get_user_c16 get_user_c16 redis_c16 1.0
summary s3_get_user_c64 get_user_c64 redis_c64 1.0
L_RPS=$(agg login_c16 rps) H_RPS=$(agg hashloop rps) LQ=$(ratio "$(agg login_c16 rps)" "$(agg hashloop rps)")
L_BUSY=$(grep " scenario=login_c16 " "$T/runs" | field busy | awk '{ s += $1 } END { print s + 0 }')
echo "RESULT scenario=s4_login_c16 vouch_rps=$L_RPS hashloop_rps=$H_RPS ratio=$LQ target_ratio=0.9 met=$(yn ge "$LQ" 0.9) vouch_p99_us=$(agg login_c16 p99_us) errors=$(errs login_c16) busy=$L_BUSY"
row "s4_login_c16 (vs hashloop on $(nproc) threads) | $L_RPS | $H_RPS | **$LQ×** (≥ 0.9×: $(yn ge "$LQ" 0.9)) | $(agg login_c16 p99_us) | — | — | $(errs login_c16), busy $L_BUSY"
S5_P99=$(agg verify_c16_hashing p99_us)
echo "RESULT scenario=s5_verify_while_hashing vouch_rps=$(agg verify_c16_hashing rps) s1_rps=$(agg verify_c16 rps) vouch_p99_us=$S5_P99 s1_p99_us=$(agg verify_c16 p99_us) target_p99_us=10000 met=$(yn ge 10000 "$S5_P99") login_rps=$(agg login_under_s5 rps) errors=$(( $(errs verify_c16_hashing) + $(errs login_under_s5) ))"
row "s5_verify_c16 while 16 logins hash (vs s1) | $(agg verify_c16_hashing rps) | $(agg verify_c16 rps) | p99 < 10 ms: $(yn ge 10000 "$S5_P99") | $S5_P99 | $(agg verify_c16 p99_us) | — | $(( $(errs verify_c16_hashing) + $(errs login_under_s5) ))"
echo "RESULT scenario=s7_churn_c16 vouch_rps=$(agg churn_c16 rps) vouch_p50_us=$(agg churn_c16 p50_us) vouch_p99_us=$(agg churn_c16 p99_us) errors=$(errs churn_c16)"
row "s7_churn_c16 (connect + login + close) | $(agg churn_c16 rps) | — | — | $(agg churn_c16 p99_us) | — | — | $(errs churn_c16)"
if grep -q " scenario=login_beside_flood " "$T/runs"; then
    row "s8 login c1 beside another uid's c16×d64 login flood (reference: the same client alone) | $(agg login_beside_flood rps) | $(agg login_alone rps) | — | $(agg login_beside_flood p99_us) | $(agg login_alone p99_us) | — | $(( $(errs login_alone) + $(errs login_beside_flood) ))"
fi
MEM_OK_U=$(yn ge 400 "$PER_USER") MEM_OK_T=$(yn ge 200 "$PER_TOKEN") BASE_OK=$(yn ge 31457280 "$BASE")
START_OK=$(yn ge 3000 "$READY_U_MS")

echo
echo "| scenario | vouch req/s | reference req/s | ratio (target) | vouch p99 µs | reference p99 µs | p99 ≤ ref | errors |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "| memory and start-up ($USERS users, $TOKENS tokens) | measured | target | met |"
echo "|---|---|---|---|"
echo "| base RSS, empty daemon | $BASE_MB MiB | ≤ 30 MiB | $BASE_OK |"
echo "| RSS per cached user | $PER_USER B | ≤ 400 B | $MEM_OK_U |"
echo "| RSS per cached token | $PER_TOKEN B | ≤ 200 B | $MEM_OK_T |"
echo "| start to READY=1 with the users | $READY_U_MS ms | < 3000 ms at 1,000,000 users | $START_OK$([ "$USERS" -lt 1000000 ] && echo " (run with USERS=1000000)") |"
echo "| start to READY=1 with the users and tokens | $READY_MS ms | (reported) | — |"
echo
if [ "$FAILED" != 0 ]; then
    echo "make bench: FAILED: a run had errors (see the RESULT lines)"
    exit 1
fi
echo "make bench: done (every run free of errors; targets: see the table)"
