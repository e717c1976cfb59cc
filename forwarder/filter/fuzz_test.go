package filter

import (
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
)

// FuzzCheck feeds paths to the matcher under IIS's defaults with the
// stdout log folder hidden, seeded from TestCheck's table. It must not
// panic, must give the same verdict twice, and whatever it lets through
// must pass a reference written apart from it: read as Windows, and
// servers that drop path parameters, would read the path, no segment
// names a hidden segment, the root is not the log folder, the last
// segment has no denied extension, and decoding the path again changes
// nothing.
func FuzzCheck(f *testing.F) {
	for _, c := range checkCases {
		f.Add(c.method, c.path, c.query)
	}
	for _, s := range []string{"/%2E%2E%2Fbin", "/web%2Econfig", "/wEb.CoNfIg%3A%3A%24DATA", "/.%2e/.%2E/logs/x", "/App_Data%00", "/x/%5C..%5Clogs%5Cy"} {
		f.Add("GET", s, "")
	}
	flt := New(rules(f, f.TempDir(), stdoutAttrs[logsFolder], defaults))
	hidden := []string{"web.config", "bin", "App_code", "App_GlobalResources", "App_LocalResources", "App_WebReferences", "App_Data", "App_Browsers"}
	denied := []string{".asa", ".config", ".cs", ".mdf", ".sdmDocument", ".rules", ".resx", ".vbproj"}
	f.Fuzz(func(t *testing.T, method, p, query string) {
		r := request{method: method, path: p, query: query}
		d := flt.check(r)
		if again := flt.check(r); (d == nil) != (again == nil) || d != nil && *d != *again {
			t.Fatalf("two verdicts for %q: %v, then %v", p, d, again)
		}
		if d != nil {
			if d.Reason < URLTooLong || d.Reason > FileExtensionDenied || d.Rule == "" || d.Detail == "" {
				t.Fatalf("denial %+v of %q is incomplete", d, p)
			}
			return
		}
		decoded, err := url.PathUnescape(p)
		if err != nil {
			return // Go's server refuses such a path before any handler
		}
		if again, err := url.PathUnescape(decoded); strings.Contains(decoded, "+") || err == nil && again != decoded {
			t.Fatalf("let through %q, which is double escaped", p)
		}
		segs := strings.FieldsFunc(decoded, func(r rune) bool { return r == '/' || r == '\\' })
		for _, seg := range segs {
			for _, name := range windowsNames(seg) {
				if slices.ContainsFunc(hidden, func(h string) bool { return strings.EqualFold(h, name) }) {
					t.Fatalf("let through %q, whose segment %q names %q", p, seg, name)
				}
			}
		}
		clean := strings.Split(strings.TrimPrefix(path.Clean("/"+strings.Join(segs, "/")), "/"), "/")
		for _, name := range windowsNames(clean[0]) {
			if strings.EqualFold(name, "logs") {
				t.Fatalf("let through %q, which is in the stdout log folder", p)
			}
		}
		for _, name := range windowsNames(clean[len(clean)-1]) {
			if i := strings.LastIndex(name, "."); i >= 0 && slices.ContainsFunc(denied, func(e string) bool { return strings.EqualFold(e, name[i:]) }) {
				t.Fatalf("let through %q, whose last segment %q has a denied extension", p, name)
			}
		}
	})
}

// windowsNames is every name that seg may open: Windows drops trailing
// dots and spaces and reads what follows a ':' as a stream name; Java
// servers drop what follows a ';'; C strings end at NUL.
func windowsNames(seg string) []string {
	out := []string{seg}
	for _, cut := range []string{":", ";", "\x00"} {
		if before, _, found := strings.Cut(seg, cut); found {
			out = append(out, before)
		}
	}
	for i, name := range out {
		for strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
			name = name[:len(name)-1]
		}
		out[i] = name
	}
	return out
}
