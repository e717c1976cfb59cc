package access

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// baseEntry is an ordinary request; the tests change one field at a time.
func baseEntry() Entry {
	return Entry{
		Time:       time.Date(2026, 2, 5, 19, 41, 32, 987_000_000, time.FixedZone("CET", 3600)),
		ServerAddr: netip.MustParseAddrPort("10.0.0.5:8080"),
		Method:     "GET",
		Target:     "/shop/cart?id=7&x=%20y",
		ClientAddr: "192.0.2.9:51234",
		UserAgent:  "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
		Referer:    "https://example.com/a b",
		Status:     200,
		TimeTaken:  1234567 * time.Microsecond,
	}
}

// w3cFields is the fields of a W3C line by name.
func w3cFields(t *testing.T, line string) map[string]string {
	t.Helper()
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("line %q: want exactly one newline, at the end", line)
	}
	names := strings.Split(Fields, " ")
	values := strings.Split(strings.TrimSuffix(line, "\n"), " ")
	if len(values) != len(names) {
		t.Fatalf("line %q has %d fields, want %d", line, len(values), len(names))
	}
	m := make(map[string]string)
	for i, n := range names {
		if values[i] == "" {
			t.Errorf("field %s is empty in %q (empty values are -)", n, line)
		}
		m[n] = values[i]
	}
	return m
}

func TestW3CFields(t *testing.T) {
	e := baseEntry()
	got := w3cFields(t, string(appendW3C(nil, &e)))
	want := map[string]string{
		"date": "2026-02-05", "time": "18:41:32", // UTC
		"s-ip": "10.0.0.5", "cs-method": "GET",
		"cs-uri-stem": "/shop/cart", "cs-uri-query": "id=7&x=%20y",
		"s-port": "8080", "cs-username": "-", "c-ip": "192.0.2.9",
		"cs(User-Agent)": "Mozilla/5.0+(X11;+Linux+x86_64)+Gecko/20100101+Firefox/128.0",
		"cs(Referer)":    "https://example.com/a+b",
		"sc-status":      "200", "sc-substatus": "0", "sc-win32-status": "0",
		"time-taken": "1234", // ms, truncated
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s = %q, want %q", name, got[name], w)
		}
	}
}

func TestW3CValues(t *testing.T) {
	tests := []struct {
		name   string
		change func(e *Entry)
		field  string
		want   string
	}{
		{"no query", func(e *Entry) { e.Target = "/a/b" }, "cs-uri-query", "-"},
		{"empty query", func(e *Entry) { e.Target = "/a?" }, "cs-uri-query", "-"},
		{"query keeps its second ?", func(e *Entry) { e.Target = "/a?b=?c" }, "cs-uri-query", "b=?c"},
		{"stem as sent, not decoded", func(e *Entry) { e.Target = "/a%20b/%2e%2e/c" }, "cs-uri-stem", "/a%20b/%2e%2e/c"},
		{"absolute URL: its path", func(e *Entry) { e.Target = "http://example.com/p?q=1" }, "cs-uri-stem", "/p"},
		{"absolute URL: its query", func(e *Entry) { e.Target = "http://example.com/p?q=1" }, "cs-uri-query", "q=1"},
		{"absolute URL without a path", func(e *Entry) { e.Target = "https://example.com" }, "cs-uri-stem", "/"},
		{"absolute URL, query only", func(e *Entry) { e.Target = "http://example.com?q" }, "cs-uri-query", "q"},
		{"asterisk", func(e *Entry) { e.Method, e.Target = "OPTIONS", "*" }, "cs-uri-stem", "*"},
		{"CONNECT's authority", func(e *Entry) { e.Method, e.Target = "CONNECT", "example.com:443" }, "cs-uri-stem", "example.com:443"},
		{"no target (a refused head)", func(e *Entry) { e.Target, e.Method = "", "" }, "cs-uri-stem", "-"},
		{"no method", func(e *Entry) { e.Method = "" }, "cs-method", "-"},
		{"no user agent", func(e *Entry) { e.UserAgent = "" }, "cs(User-Agent)", "-"},
		{"no referer", func(e *Entry) { e.Referer = "" }, "cs(Referer)", "-"},
		{"IPv6 client", func(e *Entry) { e.ClientAddr = "[2001:db8::1]:443" }, "c-ip", "2001:db8::1"},
		{"IPv6 client with a zone", func(e *Entry) { e.ClientAddr = "[fe80::1%eth0]:443" }, "c-ip", "fe80::1%eth0"},
		{"client without a port", func(e *Entry) { e.ClientAddr = "192.0.2.1" }, "c-ip", "192.0.2.1"},
		{"no client", func(e *Entry) { e.ClientAddr = "" }, "c-ip", "-"},
		{"IPv6 server", func(e *Entry) { e.ServerAddr = netip.MustParseAddrPort("[2001:db8::2]:443") }, "s-ip", "2001:db8::2"},
		{"IPv4-mapped server", func(e *Entry) { e.ServerAddr = netip.MustParseAddrPort("[::ffff:10.1.2.3]:80") }, "s-ip", "10.1.2.3"},
		{"unknown server address", func(e *Entry) { e.ServerAddr = netip.AddrPort{} }, "s-ip", "-"},
		{"unknown server port", func(e *Entry) { e.ServerAddr = netip.AddrPort{} }, "s-port", "-"},
		{"no response", func(e *Entry) { e.Status = 0 }, "sc-status", "0"},
		{"substatus", func(e *Entry) { e.Status, e.Substatus = 404, 8 }, "sc-substatus", "8"},
		{"under a millisecond", func(e *Entry) { e.TimeTaken = 999 * time.Microsecond }, "time-taken", "0"},
		{"UTF-8 stays", func(e *Entry) { e.UserAgent = "Änder 犬" }, "cs(User-Agent)", "Änder+犬"},
		{"plus stays", func(e *Entry) { e.UserAgent = "a+b" }, "cs(User-Agent)", "a+b"},
		{"percent stays", func(e *Entry) { e.UserAgent = "100%" }, "cs(User-Agent)", "100%"},
		{"a dash alone", func(e *Entry) { e.UserAgent = "-" }, "cs(User-Agent)", "-"},
		{"midnight", func(e *Entry) { e.Time = time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.UTC) }, "time", "23:59:59"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := baseEntry()
			tt.change(&e)
			if got := w3cFields(t, string(appendW3C(nil, &e)))[tt.field]; got != tt.want {
				t.Errorf("%s = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

// injections are values a client may send to break a log line: line
// breaks, field separators, control characters, Unicode line separators,
// bytes that are not UTF-8.
var injections = []struct {
	name, value, w3c string
}{
	{"LF", "a\nb", "a%0Ab"},
	{"CR LF and a forged line", "a\r\n2026-01-01 00:00:00 1.2.3.4 GET /admin - 80 - 6.6.6.6 x - 200 0 0 1", "a%0D%0A2026-01-01+00:00:00+1.2.3.4+GET+/admin+-+80+-+6.6.6.6+x+-+200+0+0+1"},
	{"CR", "a\rb", "a%0Db"},
	{"space", "a b", "a+b"},
	{"tab", "a\tb", "a%09b"},
	{"NUL", "a\x00b", "a%00b"},
	{"escape", "a\x1b[31mb", "a%1B[31mb"},
	{"DEL", "a\x7fb", "a%7Fb"},
	{"NEL (C1)", "a\u0085b", "a%C2%85b"},
	{"line separator", "a\u2028b", "a%E2%80%A8b"},
	{"paragraph separator", "a\u2029b", "a%E2%80%A9b"},
	{"not UTF-8", "a\xffb\xc3", "a%FFb%C3"},
	{"a directive", "#Fields: x", "#Fields:+x"},
}

func TestW3CInjection(t *testing.T) {
	for _, tt := range injections {
		for _, field := range []string{"cs(User-Agent)", "cs(Referer)", "cs-uri-stem", "cs-uri-query", "cs-method", "c-ip"} {
			t.Run(tt.name+"/"+field, func(t *testing.T) {
				e := baseEntry()
				switch field {
				case "cs(User-Agent)":
					e.UserAgent = tt.value
				case "cs(Referer)":
					e.Referer = tt.value
				case "cs-uri-stem":
					e.Target = "/" + tt.value
				case "cs-uri-query":
					e.Target = "/?" + tt.value
				case "cs-method":
					e.Method = tt.value
				case "c-ip":
					e.ClientAddr = tt.value
				}
				line := string(appendW3C(nil, &e))
				if !utf8.ValidString(line) {
					t.Errorf("line %q is not UTF-8", line)
				}
				want := tt.w3c
				if field == "cs-uri-stem" {
					want = "/" + want
				}
				got := w3cFields(t, line)[field] // one line, every field there
				if field == "c-ip" {
					return // the value is roost's, not the client's: split at its last colon
				}
				if got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			})
		}
	}
}

func TestHeader(t *testing.T) {
	got := string(appendHeader(nil, "roost 1.2.3 (devel)\n#Fields: x", time.Date(2026, 2, 5, 20, 1, 2, 0, time.FixedZone("CET", 3600))))
	want := "#Software: roost 1.2.3 (devel)%0A#Fields: x\n" +
		"#Version: 1.0\n" +
		"#Date: 2026-02-05 19:01:02\n" +
		"#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
	if got != want {
		t.Errorf("header:\n%s\nwant:\n%s", got, want)
	}
}

// jsonLine is a JSON line decoded.
type jsonLine struct {
	Date          string  `json:"date"`
	Time          string  `json:"time"`
	SIP           string  `json:"sIp"`
	CsMethod      string  `json:"csMethod"`
	CsURIStem     string  `json:"csUriStem"`
	CsURIQuery    string  `json:"csUriQuery"`
	SPort         *uint16 `json:"sPort"`
	CsUsername    string  `json:"csUsername"`
	CIP           string  `json:"cIp"`
	CsUserAgent   string  `json:"csUserAgent"`
	CsReferer     string  `json:"csReferer"`
	ScStatus      int     `json:"scStatus"`
	ScSubstatus   int     `json:"scSubstatus"`
	ScWin32Status int     `json:"scWin32Status"`
	TimeTaken     int64   `json:"timeTaken"`
}

func decodeJSONLine(t *testing.T, line string) jsonLine {
	t.Helper()
	if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
		t.Fatalf("line %q: want exactly one newline, at the end", line)
	}
	var got jsonLine
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	return got
}

func TestJSONFields(t *testing.T) {
	e := baseEntry()
	e.Status, e.Substatus = 502, 5
	got := decodeJSONLine(t, string(appendJSON(nil, &e)))
	port := uint16(8080)
	want := jsonLine{
		Date: "2026-02-05", Time: "18:41:32", SIP: "10.0.0.5", CsMethod: "GET",
		CsURIStem: "/shop/cart", CsURIQuery: "id=7&x=%20y", SPort: &port, CIP: "192.0.2.9",
		CsUserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
		CsReferer:   "https://example.com/a b",
		ScStatus:    502, ScSubstatus: 5, TimeTaken: 1234,
	}
	if *got.SPort != *want.SPort {
		t.Errorf("sPort = %d, want %d", *got.SPort, *want.SPort)
	}
	got.SPort = want.SPort
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestJSONEmptyAndUnknown(t *testing.T) {
	e := Entry{Time: baseEntry().Time}
	got := decodeJSONLine(t, string(appendJSON(nil, &e)))
	if got.SPort != nil || got.SIP != "" || got.CsURIStem != "" || got.CsURIQuery != "" || got.CsUserAgent != "" || got.CIP != "" {
		t.Errorf("an empty entry gives %+v, want empty strings and a null sPort", got)
	}
}

func TestJSONInjection(t *testing.T) {
	values := []string{`a"b`, `a\b`, `"},"scStatus":200,"x":"`}
	for _, tt := range injections {
		values = append(values, tt.value)
	}
	for _, v := range values {
		e := baseEntry()
		e.UserAgent, e.Referer, e.Target, e.Method = v, v, "/"+v+"?"+v, v
		line := string(appendJSON(nil, &e))
		if !utf8.ValidString(line) || strings.ContainsAny(line, "\r\t\u2028\u2029\u0085") {
			t.Errorf("value %q: line %q holds a raw control character, a line separator or bytes that are not UTF-8", v, line)
		}
		got := decodeJSONLine(t, line)
		want := strings.ToValidUTF8(v, "\ufffd")
		if got.CsUserAgent != want || got.CsReferer != want || got.CsMethod != want || got.CsURIStem != "/"+want || got.CsURIQuery != want {
			t.Errorf("value %q: decoded %+v", v, got)
		}
		if got.ScStatus != 200 {
			t.Errorf("value %q: scStatus %d", v, got.ScStatus)
		}
	}
}
