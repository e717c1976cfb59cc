#!/usr/bin/env bash
# test/bench/run.sh: roost's forwarding throughput and latency, side by side
# with the same backend reached directly, through nginx and through haproxy,
# in one run, with the same wrk settings; and roost's memory use.
#
#   bash test/bench/run.sh
#
# Not part of `go test`. It installs what it lacks (apt: wrk, nginx-light,
# haproxy), builds roost and test/bench/backend into a temporary folder,
# runs everything on 127.0.0.1 only and stops every process it started
# when it exits. With the defaults it measures for about 130 s (20 runs of a
# 1 s warm-up and 5 s), plus the build; 3 min in all on a busy 2-core machine.
#
# Scenarios (BENCH_SCENARIOS, a comma-separated list; default all five):
#   small     keep-alive GETs of the backend's 1 KiB body, BENCH_CONNS
#             connections (the original run; its figures stay comparable)
#   conns256  the same at BENCH_CONNS_HIGH connections; right after it, the
#             memory (VmRSS) of every target, summed over its processes
#   download  keep-alive GETs of 1 MiB bodies (/bytes/1048576), BENCH_CONNS
#   upload    keep-alive POSTs of 64 KiB bodies (a wrk Lua script), the
#             backend reads and discards them and answers its 1 KiB body
#   close     small GETs with "Connection: close": a new client connection
#             for every request, BENCH_CONNS at a time
#
# Settings (environment):
#   BENCH_SCENARIOS which scenarios, in order (default small,conns256,download,upload,close)
#   BENCH_DURATION  wrk -d of each measured run        (default 5s)
#   BENCH_CONNS     wrk -c, concurrent connections      (default 32)
#   BENCH_CONNS_HIGH wrk -c of the conns256 scenario    (default 256)
#   BENCH_THREADS   wrk -t                              (default 1)
#   BENCH_WARMUP    wrk -d of the warm-up before each   (default 1s)
#   BENCH_ROUNDS    rounds; each measures every target, in a rotated
#                   order, and every number shown is the median over the
#                   rounds; use 3 or more for numbers to keep (default 1)
#   BENCH_PORT      first of four consecutive loopback ports: backend,
#                   roost, nginx, haproxy               (default 18080)
#   BENCH_NGINX_WORKERS  nginx worker_processes        (default auto)
#   BENCH_VERBOSE   1: also print every measured wrk output on stderr
#   BENCH_OBSERVE   1: also measure two more copies of roost, side by side:
#                   roost-bare (--admin off: no request metrics) and, if
#                   this roost has --access-log, roost-log (a W3C access
#                   log to a file), on ports BENCH_PORT+4 and +5: what
#                   metrics and the access log cost per request
#   BENCH_ROOST_ARGS more roost run flags, split at spaces, such as
#                   "--access-log /tmp/bench-access.log" (default none)
#
# Fairness: every proxy may use every core. roost and the backends are Go
# programs (GOMAXPROCS = number of CPUs), haproxy runs one thread per CPU by
# default, and nginx gets worker_processes auto (one per CPU). All proxies
# keep idle connections to the backend (nginx keepalive 256, haproxy
# http-reuse always, roost its own pool), lift nginx's default limit of 1000
# requests per connection on both sides (roost and haproxy have none), keep
# nginx off its temporary files (a 64 KiB request body fits its in-memory
# buffer; a 1 MiB response is relayed through its buffers, never to disk;
# neither changes how it handles the small scenarios), and
# do the same header work roost does: pass Host through and add
# X-Forwarded-For and X-Forwarded-Proto. No proxy writes an access log.
# wrk, the proxy and the backend share the machine's cores, so absolute
# numbers mean little; compare the ratios measured side by side in one run.
set -euo pipefail

DURATION=${BENCH_DURATION:-5s}
CONNS=${BENCH_CONNS:-32}
CONNS_HIGH=${BENCH_CONNS_HIGH:-256}
SCENARIOS=${BENCH_SCENARIOS:-small,conns256,download,upload,close}
THREADS=${BENCH_THREADS:-1}
WARMUP=${BENCH_WARMUP:-1s}
ROUNDS=${BENCH_ROUNDS:-1}
BASE_PORT=${BENCH_PORT:-18080}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-auto}
VERBOSE=${BENCH_VERBOSE:-0}
OBSERVE=${BENCH_OBSERVE:-0}
read -r -a ROOST_ARGS <<<"${BENCH_ROOST_ARGS:-}"

BACKEND_PORT=$BASE_PORT
ROOST_PORT=$((BASE_PORT + 1))
NGINX_PORT=$((BASE_PORT + 2))
HAPROXY_PORT=$((BASE_PORT + 3))
BODY_SIZE=1024              # what test/bench/backend answers at /
DOWNLOAD_SIZE=1048576       # the download scenario's body: /bytes/$DOWNLOAD_SIZE
UPLOAD_SIZE=65536           # the upload scenario's request body

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf '%s\n' "$*" >&2; }
die() {
	say "run.sh: $*"
	exit 1
}

case $ROUNDS in '' | *[!0-9]* | 0) die "BENCH_ROUNDS must be a whole number above 0, got '$ROUNDS'" ;; esac
case $CONNS in '' | *[!0-9]* | 0) die "BENCH_CONNS must be a whole number above 0, got '$CONNS'" ;; esac
case $CONNS_HIGH in '' | *[!0-9]* | 0) die "BENCH_CONNS_HIGH must be a whole number above 0, got '$CONNS_HIGH'" ;; esac
IFS=, read -ra scenarios <<<"$SCENARIOS"
[ "${#scenarios[@]}" -gt 0 ] || die "BENCH_SCENARIOS is empty"
for s in "${scenarios[@]}"; do
	case $s in small | conns256 | download | upload | close) ;; *) die "BENCH_SCENARIOS: unknown scenario '$s' (want small, conns256, download, upload, close)" ;; esac
done

# --- temporary folder and cleanup ------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/roost-bench.XXXXXX")
pids=()   # every long-running process started here; each leads its own process group
wrk_pid='' # the wrk running now, if any

cleanup() {
	local rc=$? pid i alive
	set +e
	trap - EXIT INT TERM
	if [ -n "$wrk_pid" ]; then kill -TERM "$wrk_pid" 2>/dev/null; fi
	for pid in "${pids[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done
	# Give them up to 5 s to stop on their own (roost stops its backend
	# gracefully), then kill whatever is left.
	for ((i = 0; i < 50; i++)); do
		alive=0
		for pid in "${pids[@]}"; do
			if kill -0 "$pid" 2>/dev/null; then alive=1; fi
		done
		if [ "$alive" = 0 ]; then break; fi
		sleep 0.1
	done
	for pid in "${pids[@]}"; do
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start LOG CMD...: run CMD in the background in a process group of its own,
# output to LOG; sets started_pid.
start() {
	local logfile=$1
	shift
	setsid "$@" >"$logfile" 2>&1 </dev/null &
	started_pid=$!
	pids+=("$started_pid")
}

# --- tools -------------------------------------------------------------------

SUDO=
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
apt_updated=0

# find_bin NAME: the path of NAME, also looking in the sbin folders that
# a non-root PATH may lack; empty when absent.
find_bin() {
	local p
	p=$(command -v "$1" 2>/dev/null) && { echo "$p"; return; }
	for p in /usr/sbin/"$1" /sbin/"$1" /usr/local/sbin/"$1"; do
		if [ -x "$p" ]; then
			echo "$p"
			return
		fi
	done
}

# ensure NAME PACKAGE: install PACKAGE when NAME is absent; prints the path
# of NAME, or nothing when it cannot be had.
ensure() {
	local name=$1 pkg=$2 p
	p=$(find_bin "$name")
	if [ -z "$p" ]; then
		say "installing $pkg (apt-get install -y $pkg) ..."
		if [ "$apt_updated" = 0 ]; then
			apt_updated=1
			$SUDO apt-get update >"$tmp/apt-update.log" 2>&1 ||
				say "apt-get update failed (see below); trying the install anyway"$'\n'"$(tail -n 5 "$tmp/apt-update.log")"
		fi
		# policy-rc.d / RUNLEVEL=1 keep the package's system service from
		# starting: this script runs its own copy from a config in $tmp.
		if ! $SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y "$pkg" >"$tmp/apt-$pkg.log" 2>&1; then
			say "apt-get install -y $pkg failed:"$'\n'"$(tail -n 5 "$tmp/apt-$pkg.log")"
		fi
		p=$(find_bin "$name")
	fi
	echo "$p"
}

command -v go >/dev/null 2>&1 || die "go is not in PATH"
command -v curl >/dev/null 2>&1 || die "curl is not in PATH"
command -v setsid >/dev/null 2>&1 || die "setsid (util-linux) is not in PATH"
WRK=$(ensure wrk wrk)
[ -n "$WRK" ] || die "wrk is required and could not be installed"
NGINX=$(ensure nginx nginx-light)
HAPROXY=$(ensure haproxy haproxy)
[ -n "$NGINX" ] || say "SKIP nginx: not installed and apt-get install nginx-light failed; its column is left out"
[ -n "$HAPROXY" ] || say "SKIP haproxy: not installed and apt-get install haproxy failed; its column is left out"

# --- build -------------------------------------------------------------------

say "building roost and test/bench/backend into $tmp ..."
(cd "$repo" && go build -o "$tmp/roost" ./cmd/roost && go build -o "$tmp/backend" ./test/bench/backend) ||
	die "go build failed"

# --- helpers -----------------------------------------------------------------

# port_busy PORT: true when something accepts connections on 127.0.0.1:PORT.
port_busy() {
	timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# wait_ready NAME URL PID: wait, at most 100 tries and 15 s, for URL to answer
# 200 with the backend's body; fail when PID exits first.
wait_ready() {
	local name=$1 url=$2 pid=$3 i size deadline=$((SECONDS + 15))
	for ((i = 1; i <= 100 && SECONDS < deadline; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			say "$name exited while starting"
			return 1
		fi
		if size=$(curl -fsS --max-time 1 -o /dev/null -w '%{size_download}' "$url" 2>/dev/null); then
			if [ "$size" = "$BODY_SIZE" ]; then
				say "$name ready after $i tries"
				return 0
			fi
			say "$name answered $size bytes, want $BODY_SIZE"
			return 1
		fi
		sleep 0.1
	done
	say "$name not ready after $((i - 1)) tries"
	return 1
}

# children PID: the child processes of PID.
children() {
	cat /proc/"$1"/task/*/children 2>/dev/null || true
}

# cpu_ticks PID...: user+system CPU clock ticks used so far by the processes.
cpu_ticks() {
	local sum=0 p s fields
	for p in "$@"; do
		s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		s=${s##*) }
		read -ra fields <<<"$s" # from field 3 (state) on: utime and stime are 14 and 15
		sum=$((sum + fields[11] + fields[12]))
	done
	echo "$sum"
}

# mem PID FIELD: FIELD (VmRSS, VmHWM) of PID from /proc, in KiB.
mem() {
	awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/status 2>/dev/null || true
}

# mib KIB: KiB as MiB with one decimal.
mib() {
	if [ -z "$1" ]; then echo "-"; else awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; fi
}

# to_us VALUE: a wrk latency (123.45us, 1.20ms, 1.00s, 1.00m) in microseconds.
to_us() {
	awk -v v="$1" 'BEGIN {
		n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
		m = (u == "us") ? 1 : (u == "ms") ? 1e3 : (u == "s") ? 1e6 : (u == "m") ? 6e7 : (u == "h") ? 3.6e9 : -1
		if (m < 0) print ""; else printf "%.1f", n * m
	}'
}

# ratio A B: A/B with two decimals, "-" when either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

clk_tck=$(getconf CLK_TCK)

# --- start the targets -------------------------------------------------------

for p in "$BACKEND_PORT" "$ROOST_PORT" "$NGINX_PORT" "$HAPROXY_PORT"; do
	if port_busy "$p"; then die "127.0.0.1:$p is already in use; set BENCH_PORT to the first of four free ports"; fi
done

targets=()
declare -A url proc_pids

# (a) the backend, reached directly, and by nginx and haproxy.
start "$tmp/backend.log" "$tmp/backend" "$BACKEND_PORT"
backend_pid=$started_pid
wait_ready backend "http://127.0.0.1:$BACKEND_PORT/" "$backend_pid" ||
	die "the backend did not start: $(tail -n 5 "$tmp/backend.log")"
targets+=(direct)
url[direct]="http://127.0.0.1:$BACKEND_PORT/"
proc_pids[direct]=$backend_pid

# (b) roost, which always starts its own backend: a second copy of the same
# binary, on a port roost chooses.
mkdir -p "$tmp/app"
cat >"$tmp/app/web.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <httpPlatform processPath="$tmp/backend" arguments="%HTTP_PLATFORM_PORT%" stdoutLogEnabled="false" />
  </system.webServer>
</configuration>
EOF
start "$tmp/roost.log" "$tmp/roost" run --listen "127.0.0.1:$ROOST_PORT" "${ROOST_ARGS[@]}" "$tmp/app"
roost_pid=$started_pid
wait_ready roost "http://127.0.0.1:$ROOST_PORT/" "$roost_pid" ||
	die "roost did not start:"$'\n'"$(tail -n 20 "$tmp/roost.log")"
targets+=(roost)
url[roost]="http://127.0.0.1:$ROOST_PORT/"
proc_pids[roost]=$roost_pid

# (b2) with BENCH_OBSERVE=1, roost without request metrics, and roost with
# an access log, each its own process with its own backend.
declare -A extra_args=()
if [ "$OBSERVE" = 1 ]; then
	extra_args[roost-bare]="--admin off"
	if "$tmp/roost" run -h 2>&1 | grep -q -- '-access-log'; then
		extra_args[roost-log]="--access-log $tmp/access.log"
	fi
fi
port=$((BASE_PORT + 4))
for t in roost-bare roost-log; do
	[ -n "${extra_args[$t]:-}" ] || continue
	# shellcheck disable=SC2086 # the arguments are words
	start "$tmp/$t.log" "$tmp/roost" run --listen "127.0.0.1:$port" ${extra_args[$t]} "$tmp/app"
	proc_pids[$t]=$started_pid
	wait_ready "$t" "http://127.0.0.1:$port/" "$started_pid" ||
		die "$t did not start:"$'\n'"$(tail -n 20 "$tmp/$t.log")"
	targets+=("$t")
	url[$t]="http://127.0.0.1:$port/"
	port=$((port + 1))
done

# (c) nginx, from its own config, in the foreground of its own process group.
if [ -n "$NGINX" ]; then
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $NGINX_WORKERS;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events {
    worker_connections 4096;
}
http {
    access_log off;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    keepalive_requests 1000000;
    client_body_buffer_size 128k;
    proxy_max_temp_file_size 0;
    upstream backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 256;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
    }
}
EOF
	nginx_args=(-p "$tmp/nginx/" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log")
	if ! "$NGINX" -t "${nginx_args[@]}" >"$tmp/nginx/test.log" 2>&1; then
		say "SKIP nginx: its config does not load:"$'\n'"$(cat "$tmp/nginx/test.log")"
		NGINX=
	else
		start "$tmp/nginx/stdout.log" "$NGINX" "${nginx_args[@]}"
		nginx_pid=$started_pid
		if wait_ready nginx "http://127.0.0.1:$NGINX_PORT/" "$nginx_pid"; then
			targets+=(nginx)
			url[nginx]="http://127.0.0.1:$NGINX_PORT/"
			proc_pids[nginx]=$nginx_pid # and its workers, found at measurement time
		else
			say "SKIP nginx: it did not become ready:"$'\n'"$(tail -n 5 "$tmp/nginx/error.log" 2>/dev/null)"
			NGINX=
		fi
	fi
fi

# (d) haproxy, from a minimal config, in the foreground (-db).
if [ -n "$HAPROXY" ]; then
	mkdir -p "$tmp/haproxy"
	cat >"$tmp/haproxy/haproxy.cfg" <<EOF
global
    maxconn 4096
    pidfile $tmp/haproxy/haproxy.pid

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    http-reuse always
    option forwardfor

frontend bench
    bind 127.0.0.1:$HAPROXY_PORT
    http-request set-header X-Forwarded-Proto http
    default_backend app

backend app
    server app 127.0.0.1:$BACKEND_PORT
EOF
	if ! "$HAPROXY" -c -f "$tmp/haproxy/haproxy.cfg" >"$tmp/haproxy/check.log" 2>&1; then
		say "SKIP haproxy: its config does not load:"$'\n'"$(cat "$tmp/haproxy/check.log")"
		HAPROXY=
	else
		start "$tmp/haproxy/haproxy.log" "$HAPROXY" -db -f "$tmp/haproxy/haproxy.cfg" -p "$tmp/haproxy/haproxy.pid"
		haproxy_pid=$started_pid
		if wait_ready haproxy "http://127.0.0.1:$HAPROXY_PORT/" "$haproxy_pid"; then
			targets+=(haproxy)
			url[haproxy]="http://127.0.0.1:$HAPROXY_PORT/"
			proc_pids[haproxy]=$haproxy_pid
		else
			say "SKIP haproxy: it did not become ready:"$'\n'"$(tail -n 5 "$tmp/haproxy/haproxy.log")"
			HAPROXY=
		fi
	fi
fi

# roost's own processes: its backend copy and its watchdog.
roost_backend_pid=''
roost_watchdog_pid=''
for c in $(children "$roost_pid"); do
	case $(readlink "/proc/$c/exe" 2>/dev/null || true) in
	"$tmp/backend") roost_backend_pid=$c ;;
	"$tmp/roost") roost_watchdog_pid=$c ;;
	esac
done

sleep 1 # let start-up settle before measuring roost at rest
roost_idle_rss=$(mem "$roost_pid" VmRSS)
roost_idle_hwm=$(mem "$roost_pid" VmHWM)

# --- scenarios -----------------------------------------------------------------

# The upload scenario's wrk script: every request a POST of UPLOAD_SIZE bytes.
cat >"$tmp/upload.lua" <<EOF
wrk.method = "POST"
wrk.body = string.rep("x", $UPLOAD_SIZE)
wrk.headers["Content-Type"] = "application/octet-stream"
EOF

# scen_conns S: wrk -c of scenario S.
scen_conns() { case $1 in conns256) echo "$CONNS_HIGH" ;; *) echo "$CONNS" ;; esac; }

# scen_path S: the path scenario S requests.
scen_path() { case $1 in download) echo "/bytes/$DOWNLOAD_SIZE" ;; *) echo / ;; esac; }

# scen_args S: sets scen_extra to scenario S's extra wrk arguments.
scen_args() {
	scen_extra=()
	case $1 in
	upload) scen_extra=(-s "$tmp/upload.lua") ;;
	close) scen_extra=(-H 'Connection: close') ;;
	esac
}

# scen_desc S: one line on what scenario S sends.
scen_desc() {
	case $1 in
	small) echo "keep-alive GET /, $BODY_SIZE-byte responses, $CONNS connections" ;;
	conns256) echo "keep-alive GET /, $BODY_SIZE-byte responses, $CONNS_HIGH connections; memory right after" ;;
	download) echo "keep-alive GET /bytes/$DOWNLOAD_SIZE, $DOWNLOAD_SIZE-byte responses, $CONNS connections" ;;
	upload) echo "keep-alive POST / with $UPLOAD_SIZE-byte bodies (wrk -s), $BODY_SIZE-byte responses, $CONNS connections" ;;
	close) echo "GET / with 'Connection: close' (a new connection per request), $CONNS connections" ;;
	esac
}

# check_target NAME BASEURL: one request of each selected scenario's kind
# through NAME, with the size of the answer checked; warns on a mismatch.
check_target() {
	local t=$1 base=$2 s size want args
	for s in "${scenarios[@]}"; do
		want=$BODY_SIZE
		args=()
		case $s in
		download) want=$DOWNLOAD_SIZE ;;
		upload) args=(--data-binary "@$tmp/upload.bin" -H 'Content-Type: application/octet-stream') ;;
		close) args=(-H 'Connection: close') ;;
		esac
		size=$(curl -fsS --max-time 5 -o /dev/null -w '%{size_download}' "${args[@]}" "$base$(scen_path "$s")" 2>&1) || size="failed: $size"
		if [ "$size" != "$want" ]; then say "WARNING: $t, scenario $s: answered $size, want $want bytes"; fi
	done
}
head -c "$UPLOAD_SIZE" /dev/zero | tr '\0' x >"$tmp/upload.bin"
for t in "${targets[@]}"; do check_target "$t" "${url[$t]%/}"; done

# --- measure -------------------------------------------------------------------

# run_wrk OUT ARGS...: run wrk with ARGS, its output to OUT. It runs in the
# background, and the script waits for it, so that Ctrl+C or SIGTERM stops
# the benchmark at once instead of after the run.
run_wrk() {
	local out=$1 rc=0
	shift
	"$WRK" "$@" >"$out" 2>&1 &
	wrk_pid=$!
	wait "$wrk_pid" || rc=$?
	wrk_pid=''
	return "$rc"
}

# watch_pids TARGET: the target's own processes: nginx's master and workers,
# haproxy (and any children), roost and its watchdog (not its backend), the
# backend for direct.
watch_pids() {
	local t=$1
	echo "${proc_pids[$t]}"
	case $t in
	nginx | haproxy) children "${proc_pids[$t]}" | tr -s ' ' '\n' | grep . || true ;; # one a line
	roost) if [ -n "$roost_watchdog_pid" ]; then echo "$roost_watchdog_pid"; fi ;;
	roost-*) # its watchdog: the child that is a copy of roost
		for c in $(children "${proc_pids[$t]}"); do
			if [ "$(readlink "/proc/$c/exe" 2>/dev/null || true)" = "$tmp/roost" ]; then echo "$c"; fi
		done ;;
	esac
}

# rss_sum PID...: VmRSS summed over the processes, in KiB.
rss_sum() {
	local sum=0 p v
	for p in "$@"; do
		v=$(mem "$p" VmRSS)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# measure SCENARIO TARGET ROUND: warm up, then one measured wrk run; its
# output goes to $tmp/wrk-S-T-R.txt, the CPU ticks the target used to
# $tmp/cpu-S-T-R.txt and, for conns256, its memory right after to
# $tmp/rss-S-T-R.txt.
measure() {
	local s=$1 t=$2 r=$3 c before after out
	local -a watch scen_extra
	c=$(scen_conns "$s")
	scen_args "$s"
	out=$tmp/wrk-$s-$t-$r.txt
	say "round $r/$ROUNDS: $s: $t: warm-up $WARMUP, then $DURATION with $c connections ..."
	run_wrk /dev/null -t"$THREADS" -c"$c" -d"$WARMUP" "${scen_extra[@]}" "${url[$t]%/}$(scen_path "$s")" || true
	mapfile -t watch < <(watch_pids "$t")
	before=$(cpu_ticks "${watch[@]}")
	if ! run_wrk "$out" -t"$THREADS" -c"$c" -d"$DURATION" --latency "${scen_extra[@]}" "${url[$t]%/}$(scen_path "$s")"; then
		say "wrk against $t failed:"$'\n'"$(cat "$out")"
		: >"$out"
	fi
	after=$(cpu_ticks "${watch[@]}")
	if [ "$s" = conns256 ]; then
		mapfile -t watch < <(watch_pids "$t") # nginx may have replaced a worker
		rss_sum "${watch[@]}" >"$tmp/rss-$s-$t-$r.txt"
	fi
	if [ "$VERBOSE" = 1 ]; then cat "$out" >&2; fi
	echo $((after - before)) >"$tmp/cpu-$s-$t-$r.txt"
	if [ "$t" = roost ]; then
		roost_load_rss[$s]=$(mem "$roost_pid" VmRSS)
		roost_load_hwm[$s]=$(mem "$roost_pid" VmHWM)
		roost_backend_rss=$(mem "$roost_backend_pid" VmRSS)
		roost_watchdog_rss=$(mem "$roost_watchdog_pid" VmRSS)
	fi
	sleep 0.5 # not a synchronisation: a pause for TIME_WAIT and the last responses
}

declare -A roost_load_rss roost_load_hwm
n=${#targets[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for s in "${scenarios[@]}"; do
		for ((i = 0; i < n; i++)); do
			measure "$s" "${targets[$(((i + r - 1) % n))]}" "$r"
		done
	done
done

# --- results -------------------------------------------------------------------

# median: the median of the numbers on stdin, one a line ("" when none).
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# fmt_us MICROSECONDS: a latency as wrk writes one (us, ms, s).
fmt_us() {
	awk -v u="$1" 'BEGIN {
		if (u == "") print "-"; else if (u < 1000) printf "%.2fus", u; else if (u < 1e6) printf "%.2fms", u / 1e3; else printf "%.2fs", u / 1e6
	}'
}

# Each column is the median of that column over the rounds, so that one
# stalled run (this machine's cores are shared) moves no number by itself.
# Keys are SCENARIO/TARGET.
declare -A rps p50us p99us errs cpu_us rss
for s in "${scenarios[@]}"; do
	for t in "${targets[@]}"; do
		k=$s/$t
		: >"$tmp/runs-$s-$t.txt"
		for ((r = 1; r <= ROUNDS; r++)); do
			out=$tmp/wrk-$s-$t-$r.txt
			grep -q '^Requests/sec:' "$out" || continue # wrk failed; reported above
			req=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
			n50=$(to_us "$(awk '$1 == "50%" { print $2 }' "$out")")
			n99=$(to_us "$(awk '$1 == "99%" { print $2 }' "$out")")
			count=$(awk '/requests in/ { print $1 }' "$out")
			err=$(awk '
				/^  Non-2xx or 3xx responses:/ { e += $NF }
				/^  Socket errors:/ { gsub(/,/, ""); e += $4 + $6 + $8 + $10 }
				END { print e + 0 }' "$out")
			ticks=$(cat "$tmp/cpu-$s-$t-$r.txt")
			cpu=$(awk -v t="$ticks" -v n="${count:-0}" -v hz="$clk_tck" 'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n }')
			kib=$(cat "$tmp/rss-$s-$t-$r.txt" 2>/dev/null || true)
			echo "$req $n50 $n99 $err ${cpu:--} ${kib:--}" >>"$tmp/runs-$s-$t.txt"
		done
		rps[$k]=$(awk '{ print $1 }' "$tmp/runs-$s-$t.txt" | median)
		p50us[$k]=$(awk '{ print $2 }' "$tmp/runs-$s-$t.txt" | median)
		p99us[$k]=$(awk '{ print $3 }' "$tmp/runs-$s-$t.txt" | median)
		errs[$k]=$(awk '{ e += $4 } END { print e + 0 }' "$tmp/runs-$s-$t.txt") # all rounds
		cpu_us[$k]=$(awk '$5 != "-" { print $5 }' "$tmp/runs-$s-$t.txt" | median)
		rss[$k]=$(awk '$6 != "-" { print $6 }' "$tmp/runs-$s-$t.txt" | median)
	done
done

versions() {
	echo "  go:      $(go version | awk '{ print $3 }')"
	echo "  wrk:     $("$WRK" -v 2>&1 | awk 'NR == 1 { print $2 }')"
	if [ -n "$NGINX" ]; then echo "  nginx:   $("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"; fi
	if [ -n "$HAPROXY" ]; then echo "  haproxy: $("$HAPROXY" -v 2>&1 | awk 'NR == 1 { print $3 }')"; fi
}

# num V FORMAT: V in FORMAT, "-" when empty.
num() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "") print "-"; else printf f, v }'; }

echo
echo "roost proxy benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(uname -r)"
versions
echo "  load:    wrk -t$THREADS -d$DURATION --latency, after a $WARMUP warm-up; $ROUNDS round(s)$( [ "$ROUNDS" -gt 1 ] && echo ", each column the median over the rounds")"
echo "  backend: test/bench/backend; direct, nginx and haproxy share one copy on :$BACKEND_PORT,"
echo "           roost runs its own copy of the same binary (roost always launches its backend itself)"
echo "  proxies: roost GOMAXPROCS=$(nproc), its own idle pool to its backend$([ -n "${url[nginx]:-}" ] && echo "; nginx worker_processes $NGINX_WORKERS, upstream keepalive 256")"
if [ -n "${url[haproxy]:-}" ]; then echo "           haproxy default threads (one per CPU), http-reuse always"; fi
echo "           every proxy adds X-Forwarded-For/-Proto and keeps Host; none logs requests"
echo "  CPU us/req: CPU time of the target's own processes (nginx master+workers, haproxy, roost+watchdog;"
echo "           for direct the backend) per request during the measured run; wrk and backends excluded"
for s in "${scenarios[@]}"; do
	echo
	echo "== $s: $(scen_desc "$s")"
	if [ "$s" = conns256 ]; then
		printf '%-8s %12s %10s %10s %8s %12s %12s\n' target "requests/s" p50 p99 errors "CPU us/req" "RSS after"
	else
		printf '%-8s %12s %10s %10s %8s %12s\n' target "requests/s" p50 p99 errors "CPU us/req"
	fi
	for t in "${targets[@]}"; do
		k=$s/$t
		line=$(printf '%-8s %12s %10s %10s %8s %12s' "$t" "$(num "${rps[$k]}" %.0f)" \
			"$(fmt_us "${p50us[$k]}")" "$(fmt_us "${p99us[$k]}")" "${errs[$k]}" "$(num "${cpu_us[$k]}" %.1f)")
		if [ "$s" = conns256 ]; then line+=$(printf ' %12s' "$(mib "${rss[$k]}")"); fi
		echo "$line"
	done
	printf '%-16s %12s %10s %10s %12s%s\n' "ratios" "requests/s" p50 p99 "CPU us/req" "$([ "$s" = conns256 ] && printf ' %12s' RSS)"
	for peer in direct nginx haproxy; do
		if [ -n "${url[$peer]:-}" ]; then
			line=$(printf '%-16s %12s %10s %10s %12s' "roost/$peer" "$(ratio "${rps[$s/roost]:-}" "${rps[$s/$peer]:-}")" \
				"$(ratio "${p50us[$s/roost]:-}" "${p50us[$s/$peer]:-}")" "$(ratio "${p99us[$s/roost]:-}" "${p99us[$s/$peer]:-}")" \
				"$(ratio "${cpu_us[$s/roost]:-}" "${cpu_us[$s/$peer]:-}")")
			if [ "$s" = conns256 ]; then line+=$(printf ' %12s' "$(ratio "${rss[$s/roost]:-}" "${rss[$s/$peer]:-}")"); fi
			echo "$line"
		else
			printf '%-16s %12s\n' "roost/$peer" skipped
		fi
	done
done
echo "(ratios: requests/s higher is better for roost; latencies, CPU and memory lower is better for roost)"
if [ -n "${url[nginx]:-}" ] && [ "${#scenarios[@]}" -gt 1 ]; then
	echo
	echo "roost/nginx by scenario"
	printf '%-10s %12s %10s %10s %12s\n' scenario "requests/s" p50 p99 "CPU us/req"
	for s in "${scenarios[@]}"; do
		printf '%-10s %12s %10s %10s %12s\n' "$s" "$(ratio "${rps[$s/roost]:-}" "${rps[$s/nginx]:-}")" \
			"$(ratio "${p50us[$s/roost]:-}" "${p50us[$s/nginx]:-}")" "$(ratio "${p99us[$s/roost]:-}" "${p99us[$s/nginx]:-}")" \
			"$(ratio "${cpu_us[$s/roost]:-}" "${cpu_us[$s/nginx]:-}")"
	done
fi
echo
echo "roost memory (/proc/PID/status)"
echo "  roost idle after start-up:  VmRSS $(mib "$roost_idle_rss")  (VmHWM $(mib "$roost_idle_hwm"))"
for s in "${scenarios[@]}"; do
	printf '  roost right after %-9s VmRSS %s  peak VmHWM %s\n' "$s:" "$(mib "${roost_load_rss[$s]:-}")" "$(mib "${roost_load_hwm[$s]:-}")"
done
echo "  besides roost: its backend VmRSS $(mib "${roost_backend_rss:-}"), its watchdog VmRSS $(mib "${roost_watchdog_rss:-}")"
for s in "${scenarios[@]}"; do
	for t in "${targets[@]}"; do
		if [ "${errs[$s/$t]}" != 0 ]; then
			echo "WARNING: $s: $t had ${errs[$s/$t]} errors (non-2xx responses or socket errors); see its numbers with care:"
			cat "$tmp"/wrk-"$s"-"$t"-*.txt | grep -E '^  (Socket errors|Non-2xx)' | sed 's/^ */           /' || true
		fi
	done
done
