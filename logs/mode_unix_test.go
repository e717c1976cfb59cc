//go:build unix

package logs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/roosthq/roost/config"
)

// The app's stdout log files are 0640 and the folders made for them 0750:
// not readable by everyone on the machine.
func TestStdoutLogModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "logs", "app")
	w := StdoutSink(config.StdoutLog{Enabled: true, Path: filepath.Join(dir, "stdout"), MaxBytes: 1 << 20, MaxFiles: 2}, nil)(4242, time.Now())
	if w == nil {
		t.Fatal("no sink")
	}
	w.Write([]byte("secret=1\n"))
	w.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "stdout_*_4242.log"))
	if len(files) != 1 {
		t.Fatalf("files %v, want one", files)
	}
	for path, want := range map[string]os.FileMode{files[0]: 0o640, dir: 0o750, filepath.Dir(dir): 0o750} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
}
