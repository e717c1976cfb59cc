package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The parsers below turn one attribute value, as written in web.config, into
// a typed value. On failure they return a message that says what is wrong and
// what would be valid; the caller adds the file, line and attribute.

// parseUint parses a whole number in [lo, hi], the IIS "uint" type with an
// integerRange validation.
func parseUint(s string, lo, hi int64) (int64, string) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || strings.HasPrefix(strings.TrimSpace(s), "+") {
		return 0, fmt.Sprintf("%q is not a whole number (%d-%d)", quoted(s), lo, hi)
	}
	if n < lo || n > hi {
		return 0, fmt.Sprintf("%d is out of range (%d-%d)", n, lo, hi)
	}
	return n, ""
}

// parseSeconds parses a whole number of seconds in [lo, hi].
func parseSeconds(s string, lo, hi int64) (time.Duration, string) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || strings.HasPrefix(strings.TrimSpace(s), "+") {
		return 0, fmt.Sprintf("%q is not a number of seconds (%d-%d)", quoted(s), lo, hi)
	}
	if n < lo || n > hi {
		return 0, fmt.Sprintf("%d seconds is out of range (%d-%d)", n, lo, hi)
	}
	return time.Duration(n) * time.Second, ""
}

// parseBool parses an IIS boolean: true or false in any letter case.
func parseBool(s string) (bool, string) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, ""
	case "false":
		return false, ""
	}
	return false, fmt.Sprintf("%q is not a boolean (true or false)", quoted(s))
}

// parseTimeSpan parses an IIS timeSpan, written as .NET writes a TimeSpan:
// [d.]hh:mm:ss[.fffffff]. Minutes and seconds are 0-59; hours are 0-23 when
// days are given and any number otherwise ("36:00:00" is a day and a half).
// The result must lie in [0, hi].
func parseTimeSpan(s string, hi time.Duration) (time.Duration, string) {
	bad := func(why string) (time.Duration, string) {
		return 0, fmt.Sprintf("%q is not a TimeSpan: %s (want hh:mm:ss, e.g. \"00:02:00\", at most %s)", quoted(s), why, formatTimeSpan(hi))
	}
	v := strings.TrimSpace(s)
	fields := strings.Split(v, ":")
	if len(fields) != 3 {
		return bad("want three fields separated by colons")
	}
	var days int64
	if d, h, ok := strings.Cut(fields[0], "."); ok {
		n, ok := parseDigits(d)
		if !ok {
			return bad("days must be a whole number")
		}
		days, fields[0] = n, h
	}
	hours, ok := parseDigits(fields[0])
	switch {
	case !ok:
		return bad("hours must be a whole number")
	case days > 0 && hours > 23:
		return bad("hours must be 0-23 when days are given")
	}
	minutes, ok := parseDigits(fields[1])
	if !ok || minutes > 59 {
		return bad("minutes must be 00-59")
	}
	secField, frac, hasFrac := strings.Cut(fields[2], ".")
	seconds, ok := parseDigits(secField)
	if !ok || seconds > 59 {
		return bad("seconds must be 00-59")
	}
	var nanos int64
	if hasFrac {
		f, ok := parseDigits(frac)
		if !ok || len(frac) > 7 {
			return bad("a fraction of a second has 1-7 digits")
		}
		nanos = f * 100 // .NET ticks are 100 ns
		for range 7 - len(frac) {
			nanos *= 10
		}
	}
	outOfRange := fmt.Sprintf("%q is out of range (00:00:00-%s)", quoted(s), formatTimeSpan(hi))
	// Bound each field before multiplying so that no value can overflow.
	if days > 1e5 || hours > 24e5 {
		return 0, outOfRange
	}
	d := time.Duration(((days*24+hours)*60+minutes)*60+seconds)*time.Second + time.Duration(nanos)
	if d > hi {
		return 0, outOfRange
	}
	return d, ""
}

// parseDigits accepts one or more ASCII digits, nothing else.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > 12 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// formatTimeSpan writes d as hh:mm:ss (hours may exceed 23), with a
// fraction only when d is not a whole number of seconds.
func formatTimeSpan(d time.Duration) string {
	secs := int64(d / time.Second)
	s := fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if rest := d % time.Second; rest != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%07d", rest/100), "0")
	}
	return s
}

// ParseSize parses a byte count written as roost.stdoutLogMaxBytes is (see
// parseSize), in [lo, hi], for the command line's sizes; the error says
// what is wrong with s.
func ParseSize(s string, lo, hi int64) (int64, error) {
	n, bad := parseSize(s, lo, hi)
	if bad != "" {
		return 0, errors.New(bad)
	}
	return n, nil
}

// parseSize parses a byte count for roost.* settings: a whole number with an
// optional unit K, KB, KiB, M, MB, MiB, G, GB or GiB (any case, all powers of
// 1024, as Windows counts), in [lo, hi].
func parseSize(s string, lo, hi int64) (int64, string) {
	v := strings.TrimSpace(s)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	bad := fmt.Sprintf("%q is not a size (bytes, or a number with KB, MB or GB; %s-%s)", quoted(s), formatSize(lo), formatSize(hi))
	n, ok := parseDigits(v[:i])
	if !ok {
		return 0, bad
	}
	var mult int64
	switch strings.ToLower(strings.TrimSpace(v[i:])) {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	default:
		return 0, bad
	}
	if n > hi/mult || n*mult < lo {
		return 0, fmt.Sprintf("%q is out of range (%s-%s)", quoted(s), formatSize(lo), formatSize(hi))
	}
	return n * mult, ""
}

// formatSize writes n with the largest unit that divides it exactly.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKB", n>>10)
	}
	return strconv.FormatInt(n, 10)
}
