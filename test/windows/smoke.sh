#!/usr/bin/env bash
# The Windows lane's smoke test, seen from Linux: roost.exe under wine
# hosts the demo app (test/apps/hello built for Windows), serves it, stops
# gracefully on SIGINT (which wine turns into CTRL_C, as Ctrl+C in a
# console would), and when killed with SIGKILL takes the app with it (its
# job object). The end-to-end Go tests, run under wine by lane.sh, cover
# the rest from the Windows side.
#
#   bash test/windows/smoke.sh WORK     (WORK as lane.sh prepares it)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:?usage: smoke.sh WORK}
export WINEPREFIX=$work/prefix WINEDEBUG=-all
export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree,mshtml="
winpath() { echo "Z:${1//\//\\}"; }

app=$work/smoke
mkdir -p "$app"
GOOS=windows GOARCH=amd64 go build -o "$app/hello.exe" ./test/apps/hello
cat >"$app/web.config" <<XML
<configuration><system.webServer>
  <aspNetCore processPath="$(winpath "$app/hello.exe")" shutdownTimeLimit="10" />
</system.webServer></configuration>
XML

fail() { echo "smoke: $*" >&2; [ -f "$app/roost.log" ] && sed 's/^/  roost: /' "$app/roost.log" >&2; exit 1; }

# alive reports whether a process of this wine prefix runs NAME.
alive() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "WINEPREFIX=$WINEPREFIX" || continue
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q "$1" && return 0
	done
	return 1
}

# start runs roost.exe in the background and sets pid and url once it
# serves the app.
start() {
	: >"$app/roost.log"
	wine "$work/bin/roost.exe" run --listen 127.0.0.1:0 "$(winpath "$app")" 2>"$app/roost.log" &
	pid=$!
	url=
	for _ in $(seq 300); do
		url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$app/roost.log" | head -1 || true)
		if [ -n "$url" ] && curl -fsS -m 5 "$url/" 2>/dev/null | grep -q 'Hello from behind roost'; then
			return
		fi
		kill -0 "$pid" 2>/dev/null || fail "roost exited before serving"
		sleep 0.1 # another process's progress: nothing to wait on
	done
	fail "roost did not serve the app within 30 s"
}

# gone waits up to 10 s for no process of the prefix to run NAME.
gone() {
	for _ in $(seq 100); do
		alive "$1" || return 0
		sleep 0.1
	done
	return 1
}

echo "smoke: serve, then SIGINT"
start
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 0 ] || fail "roost exited with $rc after SIGINT, want 0"
grep -q '"how": "shutdown request"' "$app/roost.log" || fail "the app was not stopped by the IIS shutdown request"
grep -q 'stopped$' "$app/roost.log" || fail "roost did not log its stop"
gone hello.exe || fail "hello.exe outlived roost"

echo "smoke: serve, then SIGKILL"
start
alive hello.exe || fail "hello.exe is not running"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
gone hello.exe || fail "hello.exe outlived a killed roost: the job object did not take it"
echo "smoke: passed"
