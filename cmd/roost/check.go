package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/roosthq/roost/config"
)

// checkReport is what roost check --json prints.
type checkReport struct {
	File        string               `json:"file"`
	Valid       bool                 `json:"valid"`
	Element     string               `json:"element,omitempty"`
	AppDir      string               `json:"appDir,omitempty"`
	Program     string               `json:"program,omitempty"` // processPath resolved; empty when not found
	ProcessPath string               `json:"-"`
	Port        int                  `json:"port,omitempty"`
	PortVar     string               `json:"portVariable,omitempty"`
	Args        []string             `json:"args,omitempty"`
	Settings    []config.Setting     `json:"settings,omitempty"`
	Errors      []*config.Diagnostic `json:"errors,omitempty"`
	Warnings    []*config.Diagnostic `json:"warnings,omitempty"`
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "[--json] [APP]", stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON on stdout")
	app, code, ok := parseApp(fs, args, stderr)
	if !ok {
		return code
	}

	path, err := config.FindFile(app)
	if err != nil {
		fmt.Fprintf(stderr, "roost check: %v\n", err)
		return exitUsage
	}
	report := checkReport{File: path}
	cfg, err := config.Load(path)
	var invalid *config.Error
	switch {
	case errors.As(err, &invalid):
		report.Errors, report.Warnings = invalid.Errors, invalid.Warnings
	case err != nil:
		fmt.Fprintf(stderr, "roost check: %v\n", err)
		return exitUsage
	default:
		report.Valid = true
		report.Element = cfg.Kind.String()
		report.AppDir = cfg.Dir
		report.Settings = cfg.Settings()
		report.Warnings = cfg.Warnings
		report.Args = cfg.Process.Args(0)
		report.ProcessPath = cfg.Process.Path
		report.Port, report.PortVar = cfg.Process.Port, cfg.Kind.PortVariable()
		// A program that cannot be found is not a configuration error (it
		// may be deployed later), but it is worth saying.
		if prog, err := cfg.Process.LookPath(); err != nil {
			d := &config.Diagnostic{File: path, Message: err.Error()}
			for _, s := range report.Settings {
				if s.Name == "processPath" && s.Element == report.Element {
					d.Line = s.Line
				}
			}
			report.Warnings = append(report.Warnings, d)
		} else {
			report.Program = prog
		}
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			fmt.Fprintf(stderr, "roost check: %v\n", err)
			return exitFailure
		}
	} else {
		printReport(report, stdout, stderr)
	}
	if !report.Valid {
		return exitUsage
	}
	return exitOK
}

func printReport(r checkReport, stdout, stderr io.Writer) {
	for _, w := range r.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if !r.Valid {
		for _, e := range r.Errors {
			fmt.Fprintln(stderr, e)
		}
		fmt.Fprintf(stderr, "%s: %d error(s)\n", r.File, len(r.Errors))
		return
	}
	fmt.Fprintf(stdout, "%s: valid <%s> configuration\n", r.File, r.Element)
	fmt.Fprintf(stdout, "app folder: %s\n", r.AppDir)
	if r.Program != "" {
		fmt.Fprintf(stdout, "command:    %s\n", quoteWords(append([]string{r.Program}, r.Args...)))
	} else {
		fmt.Fprintf(stdout, "command:    %s  (program not found)\n", quoteWords(append([]string{r.ProcessPath}, r.Args...)))
	}
	if r.Port > 0 {
		fmt.Fprintf(stdout, "port:       %d, fixed by %s\n\n", r.Port, r.PortVar)
	} else {
		fmt.Fprintf(stdout, "port:       a free loopback port for every start, passed in %s and PORT\n\n", r.PortVar)
	}

	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	// The value comes last so that a long one does not push the others.
	fmt.Fprintln(tw, "SETTING\tFROM\tVALUE")
	for _, s := range r.Settings {
		value := s.Value
		if value == "" {
			value = `""`
		}
		from := s.Source
		if s.Line > 0 {
			from = fmt.Sprintf("line %d", s.Line)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\n", s.Element, s.Name, from, value)
	}
	tw.Flush()
}

// quoteWords joins words with spaces, quoting those that need it.
func quoteWords(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if w == "" || strings.ContainsAny(w, " \t\"'\\") {
			w = strconv.Quote(w)
		}
		out[i] = w
	}
	return strings.Join(out, " ")
}
