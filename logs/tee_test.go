package logs

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"go.uber.org/zap"
)

// failingWriter fails every write, as a Windows service's stderr does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("the handle is invalid") }

// Every line reaches the file, although stderr fails each write.
func TestTeeKeepsWritingPastAFailure(t *testing.T) {
	var file bytes.Buffer
	log, closeLog, err := New(Options{Output: Tee(failingWriter{}, &file), Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		log.Info("event", zap.Int("n", i))
	}
	closeLog()
	if n := strings.Count(file.String(), `"msg":"event"`); n != 3 {
		t.Errorf("%d of 3 lines reached the file:\n%s", n, file.String())
	}
}

func TestTeeFailsOnlyWhenAllFail(t *testing.T) {
	if _, err := Tee(failingWriter{}, failingWriter{}).Write([]byte("x")); err == nil {
		t.Error("no error when every writer failed")
	}
	var a, b bytes.Buffer
	if n, err := Tee(&a, failingWriter{}, &b).Write([]byte("xy")); n != 2 || err != nil || a.String() != "xy" || b.String() != "xy" {
		t.Errorf("Write = %d, %v; a %q, b %q", n, err, a.String(), b.String())
	}
	if _, err := io.WriteString(Tee(), "x"); err != nil {
		t.Errorf("a tee of nothing failed: %v", err)
	}
}
