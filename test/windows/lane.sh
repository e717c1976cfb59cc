#!/usr/bin/env bash
# The Windows lane: builds roost's Windows binaries and runs them on this
# Linux machine under wine, as .ci/run does after the Linux tests.
#
#   bash test/windows/lane.sh            everything: unit packages, end to end, smoke
#   bash test/windows/lane.sh unit [PKG...]  only the unit packages' test binaries
#   bash test/windows/lane.sh e2e        only the end-to-end package (test/)
#   bash test/windows/lane.sh smoke      only test/windows/smoke.sh
#
# It installs what it needs (Debian's wine 8.0 and mingw-w64, as root), and
# keeps everything else in one temporary folder that it removes at the end
# (KEEP=1 keeps it): the wine prefix, the stand-in bcryptprimitives.dll
# built from processprng.c (Go's runtime needs it; wine 8.0 lacks it), a
# go test -overlay that lets os.RemoveAll work under wine 8.0, the
# binaries and the logs. It exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
what=${1:-all}
shift || true

step() { printf '\n== windows lane: %s\n' "$*"; }

install() {
	if command -v wine >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null; then
		return
	fi
	step "install wine and mingw-w64"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		wine wine64 gcc-mingw-w64-x86-64 >/dev/null
}

work=$(mktemp -d "${TMPDIR:-/tmp}/roost-wine-XXXXXX")
cleanup() {
	wineserver -k 2>/dev/null || true
	if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT

# winpath turns a Linux path into the path wine's programs see (drive Z:).
winpath() { echo "Z:${1//\//\\}"; }

prefix() {
	step "wine prefix in $work/prefix"
	export WINEPREFIX=$work/prefix WINEDEBUG=-all
	export WINEDLLOVERRIDES="bcryptprimitives=n,b;mscoree,mshtml="
	wineboot -i >/dev/null 2>&1
	x86_64-w64-mingw32-gcc -O2 -shared -s -o "$work/bcryptprimitives.dll" \
		test/windows/processprng.c -ladvapi32
	cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
}

# overlay writes a go test -overlay for test binaries: wine 8.0 answers
# STATUS_NOT_IMPLEMENTED where Go's os.RemoveAll tries
# FileDispositionInformationEx, and Go falls back to the older call only
# for STATUS_NOT_SUPPORTED. Without it every t.TempDir cleanup fails.
overlay() {
	local src=$(go env GOROOT)/src/internal/syscall/windows/at_windows.go
	python3 - "$src" "$work/at_windows.go" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
s = open(src).read()
old = "STATUS_NOT_SUPPORTED:"
new = "STATUS_NOT_SUPPORTED, NTStatus(0xC0000002): // STATUS_NOT_IMPLEMENTED: wine 8.0 (test lane overlay)\n"
assert s.count(old) == 1, "at_windows.go changed: update test/windows/lane.sh"
open(dst, "w").write(s.replace(old, new))
PY
	printf '{"Replace":{"%s":"%s"}}\n' "$src" "$work/at_windows.go" >"$work/overlay.json"
}

build() {
	step "build roost.exe and the test binaries"
	mkdir -p "$work/bin" "$work/logs"
	GOOS=windows GOARCH=amd64 go build -o "$work/bin/roost.exe" ./cmd/roost
	# The packages with tests on Windows (supervisor/pid1's are Linux's).
	for pkg in $(GOOS=windows go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do
		local name=${pkg#github.com/roosthq/roost/}
		GOOS=windows GOARCH=amd64 go test -c -overlay "$work/overlay.json" \
			-o "$work/bin/${name//\//_}.test.exe" "./$name"
	done
}

failed=()

# runpkg runs one package's test binary under wine, in the package's folder.
runpkg() {
	local name=$1 timeout=$2
	shift 2
	local exe="$work/bin/${name//\//_}.test.exe" log="$work/logs/${name//\//_}.log" start=$SECONDS rc=0
	(cd "$name" && timeout -k 10 "$timeout" wine "$exe" -test.v -test.timeout "$((timeout - 20))s" "$@") >"$log" 2>&1 || rc=$?
	local pass fail skip
	pass=$(grep -c -- '^--- PASS' "$log" || true)
	fail=$(grep -c -- '--- FAIL' "$log" || true)
	skip=$(grep -c -- '--- SKIP' "$log" || true)
	echo "$name: exit $rc, $pass passed, $fail failed, $skip skipped, $((SECONDS - start)) s"
	if [ "$rc" != 0 ] || [ "$fail" != 0 ]; then
		failed+=("$name")
		grep -E -- '--- FAIL|^\s+\S+_test\.go:[0-9]+:|panic:|FAIL' "$log" | head -40 || true
	fi
}

# unitpkgs lists the packages with tests on Windows but the end-to-end one.
unitpkgs() {
	GOOS=windows go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./... |
		sed 's|^github.com/roosthq/roost/||' | grep -vx test
}

unit() {
	step "unit packages under wine"
	local pkgs=("$@")
	[ ${#pkgs[@]} -gt 0 ] || mapfile -t pkgs < <(unitpkgs)
	for name in "${pkgs[@]}"; do
		runpkg "$name" 600
	done
}

# e2e runs the end-to-end package with roost.exe built here (no go command
# runs under wine) and go-httpbin.exe, a real app, on wine's PATH.
e2e() {
	step "end-to-end package under wine"
	GOOS=windows GOARCH=amd64 GOPATH="$work/gopath" GOMODCACHE="$(go env GOMODCACHE)" \
		go install github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin@v2.26.0
	WINEPATH=$(winpath "$work/gopath/bin/windows_amd64") ROOST_TEST_BIN=$(winpath "$work/bin/roost.exe") \
		runpkg test 1500
}

install
prefix
overlay
build
case $what in
all) unit; e2e; bash test/windows/smoke.sh "$work" || failed+=(smoke) ;;
unit) unit "$@" ;;
e2e) e2e ;;
smoke) bash test/windows/smoke.sh "$work" || failed+=(smoke) ;;
*) echo "usage: lane.sh [all|unit|e2e|smoke]" >&2; exit 2 ;;
esac

if [ ${#failed[@]} -gt 0 ]; then
	echo "windows lane: failed: ${failed[*]} (logs in $work/logs; KEEP=1 keeps them)"
	exit 1
fi
echo "windows lane: passed"
