package config

import (
	"fmt"
	"testing"
	"time"
)

func TestParseSeconds(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantMsg string
	}{
		{"0", 0, ""},
		{"120", 120 * time.Second, ""},
		{" 30 ", 30 * time.Second, ""},
		{"3600", time.Hour, ""},
		{"3601", 0, "3601 seconds is out of range (0-3600)"},
		{"-1", 0, "-1 seconds is out of range (0-3600)"},
		{"abc", 0, `"abc" is not a number of seconds (0-3600)`},
		{"+5", 0, `"+5" is not a number of seconds (0-3600)`},
		{"1.5", 0, `"1.5" is not a number of seconds (0-3600)`},
		{"", 0, `"" is not a number of seconds (0-3600)`},
		{"00:02:00", 0, `"00:02:00" is not a number of seconds (0-3600)`},
	}
	for _, tt := range tests {
		got, msg := parseSeconds(tt.in, 0, 3600)
		if got != tt.want || msg != tt.wantMsg {
			t.Errorf("parseSeconds(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.wantMsg)
		}
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantMsg string
	}{
		{"true", true, ""},
		{"TRUE", true, ""},
		{"True", true, ""},
		{"false", false, ""},
		{"FaLsE", false, ""},
		{"yes", false, `"yes" is not a boolean (true or false)`},
		{"1", false, `"1" is not a boolean (true or false)`},
		{"", false, `"" is not a boolean (true or false)`},
	}
	for _, tt := range tests {
		got, msg := parseBool(tt.in)
		if got != tt.want || msg != tt.wantMsg {
			t.Errorf("parseBool(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.wantMsg)
		}
	}
}

func TestParseTimeSpan(t *testing.T) {
	const hi = 360 * time.Hour
	const tail = ` (want hh:mm:ss, e.g. "00:02:00", at most 360:00:00)`
	tests := []struct {
		in      string
		want    time.Duration
		wantMsg string
	}{
		{"00:02:00", 2 * time.Minute, ""},
		{"00:00:00", 0, ""},
		{"01:02:03", time.Hour + 2*time.Minute + 3*time.Second, ""},
		{"36:00:00", 36 * time.Hour, ""},
		{"1.00:00:00", 24 * time.Hour, ""},
		{"2.03:04:05", 51*time.Hour + 4*time.Minute + 5*time.Second, ""},
		{"00:00:00.5", 500 * time.Millisecond, ""},
		{"00:00:01.0000001", time.Second + 100*time.Nanosecond, ""},
		{" 00:01:00 ", time.Minute, ""},
		{"360:00:00", hi, ""},
		{"15.00:00:00", hi, ""},
		{"360:00:01", 0, `"360:00:01" is out of range (00:00:00-360:00:00)`},
		{"00:60:00", 0, `"00:60:00" is not a TimeSpan: minutes must be 00-59` + tail},
		{"00:00:60", 0, `"00:00:60" is not a TimeSpan: seconds must be 00-59` + tail},
		{"1.24:00:00", 0, `"1.24:00:00" is not a TimeSpan: hours must be 0-23 when days are given` + tail},
		{"120", 0, `"120" is not a TimeSpan: want three fields separated by colons` + tail},
		{"00:01", 0, `"00:01" is not a TimeSpan: want three fields separated by colons` + tail},
		{"", 0, `"" is not a TimeSpan: want three fields separated by colons` + tail},
		{"-00:01:00", 0, `"-00:01:00" is not a TimeSpan: hours must be a whole number` + tail},
		{"x.00:01:00", 0, `"x.00:01:00" is not a TimeSpan: days must be a whole number` + tail},
		{"00:0a:00", 0, `"00:0a:00" is not a TimeSpan: minutes must be 00-59` + tail},
		{"00:00:00.12345678", 0, `"00:00:00.12345678" is not a TimeSpan: a fraction of a second has 1-7 digits` + tail},
		{"00:00:00.", 0, `"00:00:00." is not a TimeSpan: a fraction of a second has 1-7 digits` + tail},
		{"999999999999:00:00", 0, `"999999999999:00:00" is out of range (00:00:00-360:00:00)`},
		{"99999.23:59:59", 0, `"99999.23:59:59" is out of range (00:00:00-360:00:00)`},
	}
	for _, tt := range tests {
		got, msg := parseTimeSpan(tt.in, hi)
		if got != tt.want || msg != tt.wantMsg {
			t.Errorf("parseTimeSpan(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.wantMsg)
		}
	}
}

func TestFormatTimeSpan(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "00:00:00"},
		{2 * time.Minute, "00:02:00"},
		{36*time.Hour + 5*time.Second, "36:00:05"},
		{1500 * time.Millisecond, "00:00:01.5"},
		{100 * time.Nanosecond, "00:00:00.0000001"},
	}
	for _, tt := range tests {
		if got := formatTimeSpan(tt.in); got != tt.want {
			t.Errorf("formatTimeSpan(%v) = %q, want %q", tt.in, got, tt.want)
		}
		// What is formatted parses back to the same value.
		if back, msg := parseTimeSpan(formatTimeSpan(tt.in), 1000*time.Hour); back != tt.in || msg != "" {
			t.Errorf("parseTimeSpan(formatTimeSpan(%v)) = %v, %q", tt.in, back, msg)
		}
	}
}

func TestParseSize(t *testing.T) {
	const tail = " (1KB-1GB)"
	tests := []struct {
		in      string
		want    int64
		wantMsg string
	}{
		{"1024", 1024, ""},
		{"1KB", 1 << 10, ""},
		{"1kb", 1 << 10, ""},
		{"2K", 2 << 10, ""},
		{"10MB", 10 << 20, ""},
		{"10 MiB", 10 << 20, ""},
		{"1GB", 1 << 30, ""},
		{"1g", 1 << 30, ""},
		{"2048B", 2048, ""},
		{"1023", 0, `"1023" is out of range` + tail},
		{"2GB", 0, `"2GB" is out of range` + tail},
		{"99999999999GB", 0, `"99999999999GB" is out of range` + tail},
		{"1.5MB", 0, `"1.5MB" is not a size (bytes, or a number with KB, MB or GB; 1KB-1GB)`},
		{"1TB", 0, `"1TB" is not a size (bytes, or a number with KB, MB or GB; 1KB-1GB)`},
		{"MB", 0, `"MB" is not a size (bytes, or a number with KB, MB or GB; 1KB-1GB)`},
		{"", 0, `"" is not a size (bytes, or a number with KB, MB or GB; 1KB-1GB)`},
		{"-1", 0, `"-1" is not a size (bytes, or a number with KB, MB or GB; 1KB-1GB)`},
	}
	for _, tt := range tests {
		got, msg := parseSize(tt.in, 1<<10, 1<<30)
		if got != tt.want || msg != tt.wantMsg {
			t.Errorf("parseSize(%q) = %v, %q; want %v, %q", tt.in, got, msg, tt.want, tt.wantMsg)
		}
		n, err := ParseSize(tt.in, 1<<10, 1<<30)
		if errText := fmt.Sprint(err); n != tt.want || (err == nil) != (tt.wantMsg == "") || err != nil && errText != tt.wantMsg {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, %q", tt.in, n, err, tt.want, tt.wantMsg)
		}
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{1000, "1000"},
		{1 << 10, "1KB"},
		{1536, "1536"},
		{10 << 20, "10MB"},
		{3 << 30, "3GB"},
	}
	for _, tt := range tests {
		if got := formatSize(tt.in); got != tt.want {
			t.Errorf("formatSize(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
