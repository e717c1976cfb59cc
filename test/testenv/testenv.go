// Package testenv tells roost's tests about the system they run on:
// whether a process is still alive, and whether they run under wine,
// where some of Windows is missing. It is for tests only.
package testenv

import "testing"

// SkipUnderWine skips t when it runs under wine, saying that it needs real
// Windows and why: what wine lacks.
func SkipUnderWine(t testing.TB, lacks string) {
	t.Helper()
	if Wine() {
		t.Skipf("needs real Windows: wine %s", lacks)
	}
}
