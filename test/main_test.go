// Package test holds roost's end-to-end tests: they build the real roost
// binary once and drive it as a user would, through scripts in
// testdata/script (go-internal's testscript) and Go tests.
package test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/roosthq/roost/test/fakebackend"
)

// roostBin is the roost binary the tests run: ROOST_TEST_BIN when set
// (the Windows lane builds roost.exe on Linux and runs the tests under
// wine, where no go command is), else one built for this test run.
var roostBin string

// repoRoot is the absolute path of the repository.
var repoRoot string

func TestMain(m *testing.M) {
	if os.Getenv(fakebackend.Env) == "1" {
		os.Exit(fakebackend.Main())
	}
	if file := os.Getenv(recordEnv); file != "" {
		os.Exit(recordMain(file))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	var err error
	repoRoot, err = filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// roost run writes a state file for roost status (see the README's
	// roost status): into a folder of this run, never the user's.
	state, err := os.MkdirTemp("", "roost-test-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(state)
	os.Setenv("XDG_RUNTIME_DIR", state)
	os.Setenv("LOCALAPPDATA", state) // Windows
	if roostBin = os.Getenv("ROOST_TEST_BIN"); roostBin != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "roost-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	roostBin = filepath.Join(dir, "roost"+exeSuffix())
	build := exec.Command("go", "build", "-o", roostBin, "./cmd/roost")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build roost: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// needGo skips t where there is no go command (the Windows lane): what it
// checks does not depend on the system the tests run on, and the Linux
// run checks it.
func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command, which is not on PATH here; the Linux run checks this")
	}
}

func exeSuffix() string {
	if filepath.Separator == '\\' {
		return ".exe"
	}
	return ""
}

// TestScripts runs testdata/script/*.txtar. Scripts find roost on PATH,
// the repository in $REPO, and can check exit codes with
// "exits CODE command [args...]".
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(roostBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("REPO", repoRoot)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": exitsCmd,
		},
		RequireExplicitExec: true,
	})
}

// exitsCmd runs a command and fails unless it exits with the given code,
// keeping its output for stdout/stderr/cmp like exec does.
func exitsCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with code %d, want %d", args[1], got, want)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
