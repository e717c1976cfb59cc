//go:build !windows

package testenv

// Wine reports false: wine runs Windows programs only.
func Wine() bool { return false }
