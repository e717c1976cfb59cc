package config

import "testing"

func envMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

func TestExpand(t *testing.T) {
	env := envMap(map[string]string{
		"FOO":   "bar",
		"EMPTY": "",
		"PORT":  "8080",
		"LOOP":  "%FOO%",
		"PLACE": "%PORT%",
	})
	tests := []struct {
		name       string
		in         string
		ports      bool
		wantString string // String(): placeholders as written
		wantFill   string // Fill(5000)
		wantPort   bool
	}{
		{"plain", "abc", true, "abc", "abc", false},
		{"variable", "%FOO%", true, "bar", "bar", false},
		{"variable in text", "x-%FOO%-y", true, "x-bar-y", "x-bar-y", false},
		{"two variables", "%FOO%%FOO%", true, "barbar", "barbar", false},
		{"empty variable", "a%EMPTY%b", true, "ab", "ab", false},
		{"unknown stays literal", "%NOPE%", true, "%NOPE%", "%NOPE%", false},
		{"unknown then known", "%NOPE%FOO%", true, "%NOPEbar", "%NOPEbar", false},
		{"percent sign in text", "50% of %FOO%", true, "50% of bar", "50% of bar", false},
		{"double percent is not an escape", "%%FOO%", true, "%bar", "%bar", false},
		{"lone percent", "100%", true, "100%", "100%", false},
		{"port placeholder kept open", "--port %PORT%", true, "--port %PORT%", "--port 5000", true},
		{"aspnetcore port placeholder", "%ASPNETCORE_PORT%", true, "%ASPNETCORE_PORT%", "5000", true},
		{"httpplatform port placeholder, any case", "%http_platform_port%", true, "%http_platform_port%", "5000", true},
		{"port expanded like a variable when not a template", "%PORT%", false, "8080", "8080", false},
		{"no recursive expansion", "%LOOP%", true, "%FOO%", "%FOO%", false},
		{"expanded value is never a placeholder", "%PLACE%", true, "%PORT%", "%PORT%", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := expand(tt.in, env, tt.ports)
			if s := got.String(); s != tt.wantString {
				t.Errorf("expand(%q).String() = %q, want %q", tt.in, s, tt.wantString)
			}
			if s := got.Fill(5000); s != tt.wantFill {
				t.Errorf("expand(%q).Fill(5000) = %q, want %q", tt.in, s, tt.wantFill)
			}
			if got.HasPort() != tt.wantPort {
				t.Errorf("expand(%q).HasPort() = %v, want %v", tt.in, got.HasPort(), tt.wantPort)
			}
		})
	}
}

func TestExpandNilEnvironment(t *testing.T) {
	if got := expand("%PATH%", nil, false).String(); got != "%PATH%" {
		t.Errorf("expand with nil Getenv = %q, want %q", got, "%PATH%")
	}
}
