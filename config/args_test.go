package config

import (
	"slices"
	"testing"
)

func TestSplitCommandLine(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", ``, nil},
		{"spaces only", "  \t ", nil},
		{"words", `a b c`, []string{"a", "b", "c"}},
		{"runs of blanks", "  a \t  b  ", []string{"a", "b"}},
		{"quoted space", `"a b" c`, []string{"a b", "c"}},
		{"quoted parts join", `a"b c"d`, []string{"ab cd"}},
		{"empty quoted word", `a "" b`, []string{"a", "", "b"}},
		{"lone empty quotes", `""`, []string{""}},
		{"doubled quote inside quotes", `"a""b"`, []string{`a"b`}},
		{"escaped quote", `\"a`, []string{`"a`}},
		{"two backslashes then quote", `\\"a b"`, []string{`\a b`}},
		{"three backslashes then quote", `\\\"a`, []string{`\"a`}},
		{"four backslashes then quote", `\\\\"a"`, []string{`\\a`}},
		{"backslashes not before quote", `C:\dir\ file`, []string{`C:\dir\`, "file"}},
		{"trailing backslash in quotes escapes the quote", `"C:\Program Files\app\" x`, []string{`C:\Program Files\app" x`}},
		{"doubled trailing backslash in quotes", `"C:\Program Files\app\\" x`, []string{`C:\Program Files\app\`, "x"}},
		{"unterminated quote runs to end", `"abc def`, []string{"abc def"}},
		{"single quotes are ordinary", `'a b'`, []string{"'a", "b'"}},
		{"no shell characters", `$HOME * %PORT% a|b`, []string{"$HOME", "*", "%PORT%", "a|b"}},
		{"dotnet app", `.\MyApp.dll --urls http://127.0.0.1:5000`, []string{`.\MyApp.dll`, "--urls", "http://127.0.0.1:5000"}},
		{"java jar with quoted path", `-Dserver.port=8080 -jar "C:\home\site\wwwroot\my app.jar"`, []string{"-Dserver.port=8080", "-jar", `C:\home\site\wwwroot\my app.jar`}},
		{"utf-8", `héllo "wörld x"`, []string{"héllo", "wörld x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitCommandLine(tt.in)
			if !slices.Equal(got, tt.want) {
				t.Errorf("SplitCommandLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
