package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/roosthq/roost/config"
)

// loadApp finds and loads APP's web.config for command cmd. On failure it
// prints what is wrong (for an invalid file, its warnings and every error,
// then "FILE has N error(s)" and consequence) on stderr and returns false;
// the caller exits with exitUsage.
func loadApp(cmd, app, consequence string, stderr io.Writer) (*config.Config, bool) {
	path, err := config.FindFile(app)
	if err != nil {
		fmt.Fprintf(stderr, "roost %s: %v\n", cmd, err)
		return nil, false
	}
	cfg, err := config.Load(path)
	var invalid *config.Error
	switch {
	case errors.As(err, &invalid):
		for _, w := range invalid.Warnings {
			fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		for _, e := range invalid.Errors {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "roost %s: %s has %d error(s)%s\n", cmd, path, len(invalid.Errors), consequence)
		return nil, false
	case err != nil:
		fmt.Fprintf(stderr, "roost %s: %v\n", cmd, err)
		return nil, false
	}
	return cfg, true
}
