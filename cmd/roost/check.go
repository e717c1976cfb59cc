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
	for i := 0; i < len(r.Settings); i++ {
		s := r.Settings[i]
		if n := defaultRules(r.Settings[i:]); n > 0 {
			printRules(tw, r.Settings[i:i+n])
			i += n - 1
			continue
		}
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

// ruleElements are the request filtering collections, whose settings are
// entries: the key in Name, what the entry does in Value.
var ruleElements = map[string]bool{"hiddenSegments": true, "fileExtensions": true, "denyUrlSequences": true, "verbs": true, "headerLimits": true}

// defaultRules is how many settings at the start of settings are IIS's
// default entries of one request filtering collection that do the same,
// which roost check shows on one row: IIS has 8 hidden segments and 44
// denied extensions.
func defaultRules(settings []config.Setting) int {
	first := settings[0]
	if !ruleElements[first.Element] || first.Source != "default" || first.Name == "allowUnlisted" {
		return 0
	}
	n := 1
	for n < len(settings) && settings[n].Element == first.Element && settings[n].Value == first.Value && settings[n].Source == "default" {
		n++
	}
	return n
}

// printRules prints default entries as one row, their keys wrapped over
// continuation lines: "fileExtensions denied  default  .asa .asax ...".
func printRules(tw io.Writer, rules []config.Setting) {
	const width = 64
	var lines []string
	for _, s := range rules {
		if n := len(lines); n > 0 && len(lines[n-1])+1+len(s.Name) <= width {
			lines[n-1] += " " + s.Name
			continue
		}
		lines = append(lines, s.Name)
	}
	for i, line := range lines {
		if i == 0 {
			fmt.Fprintf(tw, "%s %s\tdefault\t%s\n", rules[0].Element, rules[0].Value, line)
			continue
		}
		fmt.Fprintf(tw, "\t\t%s\n", line)
	}
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
