package supervisor

import (
	"bytes"
	"strings"
	"sync"
)

// maxOutput is how much of a process's latest output is kept in memory, to
// be logged when it fails and shown on detailed error pages.
const maxOutput = 64 << 10

// outputTail keeps the last maxOutput bytes of a process's output, cut at a
// line boundary. Writing to it never blocks on anything but its lock, so
// the backend is never slowed by a full pipe.
type outputTail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *outputTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - maxOutput; over > 0 {
		cut := over
		if i := bytes.IndexByte(t.buf[over:], '\n'); i >= 0 {
			cut = over + i + 1
		}
		t.buf = append(t.buf[:0], t.buf[cut:]...)
	}
	return len(p), nil
}

// lines returns the last n lines (all when n <= 0), without line ends.
func (t *outputTail) lines(n int) []string {
	t.mu.Lock()
	s := string(t.buf)
	t.mu.Unlock()
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return nil
	}
	all := strings.Split(s, "\n")
	if n > 0 && len(all) > n {
		all = all[len(all)-n:]
	}
	for i, l := range all {
		all[i] = strings.TrimSuffix(l, "\r")
	}
	return all
}
