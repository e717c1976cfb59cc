package supervisor

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roosthq/roost/config"
)

func TestBuildEnv(t *testing.T) {
	base := []string{"PATH=/bin", "PORT=8080", "KEEP=1", "OVER=roost", "ASPNETCORE_ANCM_HTTPS_PORT=", "=C:=C:\\x", "junk"}
	tests := []struct {
		name      string
		kind      config.Kind
		env       []string // web.config name/value pairs
		httpsPort int
		want      []string // the whole environment, in order
	}{
		{
			"aspNetCore", config.AspNetCore, []string{"OVER", "web", "NEW", "%ASPNETCORE_PORT%"}, 0,
			[]string{"PATH=/bin", "PORT=5000", "KEEP=1", "OVER=web", "ASPNETCORE_ANCM_HTTPS_PORT=", "=C:=C:\\x", "NEW=5000",
				"ASPNETCORE_PORT=5000", "ASPNETCORE_APPL_PATH=/", "ASPNETCORE_TOKEN=tok", "ASPNETCORE_IIS_HTTPAUTH=anonymous;"},
		},
		{
			"user values roost replaces", config.AspNetCore,
			[]string{"ASPNETCORE_APPL_PATH", "/x", "ASPNETCORE_IIS_HTTPAUTH", "windows;", "ASPNETCORE_PORT", "5000"}, 0,
			[]string{"PATH=/bin", "PORT=5000", "KEEP=1", "OVER=roost", "ASPNETCORE_ANCM_HTTPS_PORT=", "=C:=C:\\x",
				"ASPNETCORE_APPL_PATH=/", "ASPNETCORE_IIS_HTTPAUTH=anonymous;", "ASPNETCORE_PORT=5000", "ASPNETCORE_TOKEN=tok"},
		},
		{
			"web.config PORT wins, https port only if absent", config.AspNetCore,
			[]string{"PORT", "1234"}, 8443,
			[]string{"PATH=/bin", "PORT=1234", "KEEP=1", "OVER=roost", "ASPNETCORE_ANCM_HTTPS_PORT=", "=C:=C:\\x",
				"ASPNETCORE_PORT=5000", "ASPNETCORE_APPL_PATH=/", "ASPNETCORE_TOKEN=tok", "ASPNETCORE_IIS_HTTPAUTH=anonymous;"},
		},
		{
			"httpPlatform", config.HTTPPlatform, []string{"SERVER_PORT", "%HTTP_PLATFORM_PORT%"}, 8443,
			[]string{"PATH=/bin", "PORT=5000", "KEEP=1", "OVER=roost", "ASPNETCORE_ANCM_HTTPS_PORT=", "=C:=C:\\x",
				"SERVER_PORT=5000", "HTTP_PLATFORM_PORT=5000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := config.Process{Kind: tt.kind, Env: fakeEnv(tt.env...)}
			got := buildEnv(base, p, 5000, "tok", tt.httpsPort)
			if !slices.Equal(got, tt.want) {
				t.Errorf("buildEnv =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestHTTPSPortWhenAbsent(t *testing.T) {
	got := buildEnv([]string{"A=1"}, config.Process{Kind: config.AspNetCore}, 5000, "t", 8443)
	if !slices.Contains(got, "ASPNETCORE_ANCM_HTTPS_PORT=8443") {
		t.Errorf("buildEnv = %q, want ASPNETCORE_ANCM_HTTPS_PORT=8443", got)
	}
}

func TestUserToken(t *testing.T) {
	if got := userToken(config.Process{Env: fakeEnv("ASPNETCORE_TOKEN", "abc")}); got != "abc" {
		t.Errorf("userToken = %q, want abc", got)
	}
	if got := userToken(config.Process{Env: fakeEnv("OTHER", "abc")}); got != "" {
		t.Errorf("userToken = %q, want none", got)
	}
}

func TestNewToken(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := newToken(), newToken()
	if !guid.MatchString(a) || a == b {
		t.Errorf("newToken = %q, %q; want two different lower-case GUIDs", a, b)
	}
}

func TestOutputTail(t *testing.T) {
	var o outputTail
	o.Write([]byte("one\r\ntwo\nthr"))
	o.Write([]byte("ee\n"))
	if got := o.lines(0); !slices.Equal(got, []string{"one", "two", "three"}) {
		t.Errorf("lines(0) = %q", got)
	}
	if got := o.lines(2); !slices.Equal(got, []string{"two", "three"}) {
		t.Errorf("lines(2) = %q", got)
	}
	// Past the limit, whole old lines are dropped and the newest kept.
	line := strings.Repeat("x", 1000) + "\n"
	for range 2 * maxOutput / len(line) {
		o.Write([]byte(line))
	}
	o.Write([]byte("last\n"))
	got := o.lines(0)
	if len(got) < 2 {
		t.Fatalf("after overflow: %d lines kept, want many: %.10q", len(got), got)
	}
	if len(o.buf) > maxOutput || got[len(got)-1] != "last" || got[0] != strings.Repeat("x", 1000) {
		t.Errorf("after overflow: %d bytes kept, first %.10q, last %q", len(o.buf), got[0], got[len(got)-1])
	}
	var empty outputTail
	if got := empty.lines(5); got != nil {
		t.Errorf("empty lines = %q", got)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Stopped: "stopped", Starting: "starting", Running: "running", Backoff: "backoff", Paused: "paused", Stopping: "stopping", State(9): "State(9)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(s), s.String(), want)
		}
	}
}
