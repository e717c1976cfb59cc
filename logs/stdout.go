package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

// Sizes and times of the stdout log sink.
const (
	queueLimit  = 1 << 20     // output held in memory per process while the disk catches up
	maxLine     = 64 << 10    // an unfinished line this long is written without waiting for its end
	writePiece  = 256 << 10   // at most this much per write call, so that progress shows often
	reopenEvery = time.Second // how often a file that could not be opened is tried again
)

// Times of the stdout log sink; variables so that tests can shorten them.
var (
	// stallTimeout is how long the disk may accept nothing while the
	// queue is full before output is dropped (and counted) instead of
	// waited for, and how long Close waits for a disk that accepts nothing.
	stallTimeout = 2 * time.Second

	// partialFlush is how long an unfinished line waits for its end
	// before it is written (a prompt, a progress bar).
	partialFlush = time.Second
)

// StdoutSink returns, for cfg, the hook that gives each backend process
// its stdout log file (supervisor.Options.Output), or nil when cfg is not
// enabled.
//
// Each process writes base_<UTC start yyyyMMddHHmmss>_<pid>.log; when the
// next line would take that file past cfg.MaxBytes, the file is renamed
// base_<start>_<pid>.<n>.log (n = 1, 2, … oldest first) and a new file with
// the first name is begun, so that name is always the one being written.
// After each new file, the oldest of the app's files (all processes) are
// deleted until cfg.MaxFiles are left, never one being written.
//
// config.Load always sets MaxBytes and MaxFiles (to their defaults when
// web.config does not). In a config made by hand, zero (or less) means no
// limit: MaxBytes 0 never rotates, MaxFiles 0 never deletes.
//
// Output is queued in memory (up to 1 MiB per process) and written by a
// goroutine of the sink, whole lines at a time. When the queue is full,
// Write waits for the disk, so a slow disk slows the backend's output as
// a full pipe would and loses nothing; once the disk has accepted nothing
// for 2 s, output is dropped instead of waited for. Lines that cannot be
// written (a failing disk, or a stuck one) are counted: the first drop is
// logged at once, the total when the file is closed.
//
// A file that cannot be created is logged as a warning, and the process
// runs without a stdout log: the hook returns a nil writer.
func StdoutSink(cfg config.StdoutLog, log *zap.Logger, opts ...SinkOption) func(pid int, started time.Time) io.WriteCloser {
	if !cfg.Enabled {
		return nil
	}
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("stdout")
	var o sinkOptions
	for _, opt := range opts {
		opt(&o)
	}
	return func(pid int, started time.Time) io.WriteCloser {
		s, err := openSink(cfg, log, pid, started, o)
		if err != nil {
			log.Warn("cannot write the stdout log; the app runs without it", zap.Int("pid", pid), zap.Error(err))
			return nil // an untyped nil: the supervisor tests for it
		}
		return s
	}
}

// SinkOption changes what StdoutSink's writers do.
type SinkOption func(*sinkOptions)

type sinkOptions struct {
	onDropped func(n int64)
}

// OnDropped has dropped called with n each time n lines of a process's
// output are lost (see StdoutSink), for a metric. It is called with the
// writer's lock held, so it must be quick and must not block.
func OnDropped(dropped func(n int64)) SinkOption {
	return func(o *sinkOptions) { o.onDropped = dropped }
}

// sink writes one process's output to its stdout log files.
type sink struct {
	cfg       config.StdoutLog
	log       *zap.Logger
	onDropped func(n int64) // OnDropped's, or nil
	path      string        // the file being written
	started   time.Time
	pid       int

	wake chan struct{} // buffered (1): output was queued, or Close was called
	done chan struct{} // closed when the writer goroutine has ended

	mu         sync.Mutex
	in         []byte        // queued output, stamped; the writer takes it whole
	closed     bool          // Close was called: no more output is accepted
	abandoned  bool          // Close stopped waiting for a stuck disk: drop what is left
	progress   time.Time     // the last time the disk accepted data, or output began waiting for it
	moved      chan struct{} // closed and replaced whenever progress changes
	lineStart  bool          // the output accepted so far ends with a whole line
	skipping   bool          // dropping the rest of a line whose start was dropped
	stamp      []byte        // the timestamp prefix of stampAt
	stampAt    time.Time
	dropped    int64 // lines lost
	dropWarned bool
	failing    bool // the last write failed

	// Owned by the writer goroutine.
	f         *os.File
	size      int64 // bytes written since the file was opened or a rotation was last tried
	part      int   // the last part number used
	out       []byte
	partial   []byte // the start of a line whose end has not come yet
	midLine   bool   // the file does not end with a newline
	broken    bool   // a failed write cut a line short: end it before writing more
	openErr   error
	nextOpen  time.Time
	rotWarned bool
	retWarned bool
}

func openSink(cfg config.StdoutLog, log *zap.Logger, pid int, started time.Time, o sinkOptions) (*sink, error) {
	path := stdoutName(cfg.Path, started, pid, 0)
	s := &sink{
		cfg: cfg, path: path, started: started, pid: pid, onDropped: o.onDropped,
		log:       log.With(zap.Int("pid", pid), zap.String("file", path)),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		moved:     make(chan struct{}),
		progress:  time.Now(),
		lineStart: true,
	}
	markWriting(path, true)
	if err := s.open(); err != nil {
		markWriting(path, false)
		return nil, err
	}
	go s.run()
	return s, nil
}

// The modes of the log files and the folders roost creates for them, on
// Unix: an app's output often holds what others on the machine should not
// read (connection strings, tokens in URLs), so only the owner and its
// group may. On Windows they inherit the folder's ACL, as ANCM's do.
const (
	fileMode = 0o640
	dirMode  = 0o750
)

// open opens (or creates, with its folders) the file being written, for
// appending: an existing file is never truncated.
func (s *sink) open() error {
	if err := os.MkdirAll(filepath.Dir(s.path), dirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return err
	}
	s.f, s.size, s.midLine = f, 0, false
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		s.size = info.Size()
	}
	return nil
}

// Write queues p and returns at once, unless the queue is full: then it
// waits for the disk to make room, or drops p once the disk has accepted
// nothing for stallTimeout. It never returns an error before Close.
func (s *sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed && len(s.in) > 0 && len(s.in)+len(p) > queueLimit {
		wait := stallTimeout - time.Since(s.progress)
		if wait <= 0 {
			s.dropInput(p)
			return len(p), nil
		}
		moved := s.moved
		s.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-moved:
		case <-t.C:
		}
		t.Stop()
		s.mu.Lock()
	}
	if s.closed {
		return 0, os.ErrClosed
	}
	if len(s.in) == 0 {
		// The disk's time starts now, not when it last had work.
		s.progress = time.Now()
	}
	s.accept(p)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// accept queues p, stamping each line that starts in it. Called with mu
// held.
func (s *sink) accept(p []byte) {
	if s.skipping {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return
		}
		p, s.skipping, s.lineStart = p[i+1:], false, true
	}
	if len(p) == 0 {
		return
	}
	if !s.cfg.Timestamps {
		s.in = append(s.in, p...)
		s.lineStart = p[len(p)-1] == '\n'
		return
	}
	stamp := s.stampNow()
	for len(p) > 0 {
		if s.lineStart {
			s.in = append(s.in, stamp...)
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.in = append(s.in, p...)
			s.lineStart = false
			return
		}
		s.in = append(s.in, p[:i+1]...)
		p = p[i+1:]
		s.lineStart = true
	}
}

// stampNow returns the prefix of a line that arrives now: the UTC time in
// RFC 3339 with milliseconds, and a space.
func (s *sink) stampNow() []byte {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if s.stamp == nil || !now.Equal(s.stampAt) {
		s.stampAt = now
		s.stamp = append(now.AppendFormat(s.stamp[:0], "2006-01-02T15:04:05.000Z07:00"), ' ')
	}
	return s.stamp
}

// dropInput drops p instead of queueing it, keeping the lines around it
// whole: the line p would have ended is dropped whole if it is still
// queued (else it is ended here), and the rest of a line p begins is
// dropped too. Called with mu held.
func (s *sink) dropInput(p []byte) {
	if len(p) == 0 {
		return
	}
	n := countLines(p)
	if s.skipping {
		n-- // p goes on with a line already counted
	}
	if !s.lineStart {
		if i := bytes.LastIndexByte(s.in, '\n'); i >= 0 {
			s.in = s.in[:i+1]
		} else {
			s.in = append(s.in, '\n') // its start is on its way to the disk
		}
		s.lineStart = true
	}
	s.skipping = p[len(p)-1] != '\n'
	s.countDropped(int64(n), fmt.Errorf("the disk accepted nothing for %s", stallTimeout))
}

// countDropped adds n lost lines, logging the first loss. Called with mu
// held.
func (s *sink) countDropped(n int64, err error) {
	s.dropped += n
	if s.onDropped != nil && n > 0 {
		s.onDropped(n)
	}
	s.failing = true
	if !s.dropWarned && n > 0 {
		s.dropWarned = true
		s.log.Warn("stdout log lines dropped; the count follows when the process ends", zap.Error(err))
	}
}

// countLines counts the lines in b, an unfinished last one included.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// Close writes what is queued, closes the file and returns, logging how
// many lines were lost if any were. It waits for the disk as long as the
// disk makes progress; once it has accepted nothing for stallTimeout,
// Close returns, and what is left is dropped (and the count logged) when
// the disk's pending write returns.
func (s *sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.progress = time.Now()
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	for waiting := true; waiting; {
		s.mu.Lock()
		moved, wait := s.moved, stallTimeout-time.Since(s.progress)
		if wait <= 0 {
			s.abandoned = true
			s.mu.Unlock()
			s.log.Warn("stdout log: the disk accepts nothing; not waiting for it")
			break
		}
		s.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-s.done:
			waiting = false
		case <-moved:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// run is the writer goroutine: it takes the queue whole each time it
// wakes and writes it, whole lines at a time.
func (s *sink) run() {
	defer close(s.done)
	s.retain()
	idle := time.NewTimer(partialFlush)
	idle.Stop()
	defer idle.Stop()
	for {
		var flush <-chan time.Time
		if len(s.partial) > 0 {
			idle.Reset(partialFlush)
			flush = idle.C
		}
		select {
		case <-s.wake:
		case <-flush:
			// A line left unfinished (a prompt, a progress bar) is shown
			// after a while; its end follows in the same file.
			s.writeLines(s.partial)
			s.partial = s.partial[:0]
			continue
		}
		s.mu.Lock()
		s.in, s.out = s.out[:0], s.in
		closed := s.closed
		s.markProgress()
		s.mu.Unlock()
		s.process(s.out)
		if closed {
			break
		}
	}
	s.writeLines(s.partial)
	s.partial = nil
	if s.f != nil {
		if err := s.f.Close(); err != nil {
			s.log.Warn("cannot close the stdout log", zap.Error(err))
		}
	}
	markWriting(s.path, false)
	s.mu.Lock()
	dropped := s.dropped
	s.mu.Unlock()
	if dropped > 0 {
		s.log.Warn("stdout log lost lines", zap.Int64("dropped", dropped))
	}
}

// markProgress notes that the disk accepted data. Called with mu held.
func (s *sink) markProgress() {
	s.progress = time.Now()
	close(s.moved)
	s.moved = make(chan struct{})
}

// process writes the whole lines of data (with the unfinished line kept
// from before) and keeps its unfinished last line for later.
func (s *sink) process(data []byte) {
	if len(s.partial) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.partial = append(s.partial, data...)
			if len(s.partial) >= maxLine {
				s.writeLines(s.partial)
				s.partial = s.partial[:0]
			}
			return
		}
		s.partial = append(s.partial, data[:i+1]...)
		s.writeLines(s.partial)
		s.partial = s.partial[:0]
		data = data[i+1:]
	}
	i := bytes.LastIndexByte(data, '\n')
	s.writeLines(data[:i+1])
	if rest := data[i+1:]; len(rest) >= maxLine {
		s.writeLines(rest)
	} else {
		s.partial = append(s.partial, rest...)
	}
}

// writeLines writes b, rotating the file before a line that would take
// it past MaxBytes (if MaxBytes is above 0). A file holds more only when a
// single line is longer.
func (s *sink) writeLines(b []byte) {
	for len(b) > 0 {
		if s.isAbandoned() {
			s.drop(b, errors.New("the disk accepts nothing"))
			return
		}
		if s.f == nil && !s.reopen() {
			s.drop(b, s.openErr)
			return
		}
		n := len(b)
		if room := s.cfg.MaxBytes - s.size; s.cfg.MaxBytes > 0 && int64(n) > room {
			k := 0
			if room > 0 {
				k = bytes.LastIndexByte(b[:room], '\n') + 1
			}
			switch {
			case k > 0:
				n = k // the whole lines that fit
			case s.size > 0 && (!s.midLine || s.size >= s.cfg.MaxBytes):
				s.rotate()
				continue
			default:
				// A new file, or a line begun in this one: the line goes
				// here whole.
				if i := bytes.IndexByte(b, '\n'); i >= 0 {
					n = i + 1
				}
			}
		}
		s.write(b[:n])
		b = b[n:]
	}
}

func (s *sink) isAbandoned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// write writes b to the file in pieces, noting progress after each.
func (s *sink) write(b []byte) {
	if s.broken {
		if _, err := s.f.Write([]byte{'\n'}); err != nil {
			s.drop(b, err)
			return
		}
		s.size++
		s.broken, s.midLine = false, false
	}
	for len(b) > 0 {
		n := min(len(b), writePiece)
		w, err := s.f.Write(b[:n])
		s.size += int64(w)
		if w > 0 {
			s.midLine = b[w-1] != '\n'
		}
		s.mu.Lock()
		s.markProgress()
		s.mu.Unlock()
		if err != nil {
			s.broken = s.midLine
			s.drop(b[w:], err)
			return
		}
		b = b[n:]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failing {
		s.failing = false
		s.log.Info("stdout log writable again", zap.Int64("dropped", s.dropped))
	}
}

// drop counts the lines of b as lost.
func (s *sink) drop(b []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countDropped(int64(countLines(b)), err)
}

// reopen tries again, at most every reopenEvery, to open a file that
// could not be opened.
func (s *sink) reopen() bool {
	if time.Now().Before(s.nextOpen) {
		return false
	}
	if err := s.open(); err != nil {
		s.openErr, s.nextOpen = err, time.Now().Add(reopenEvery)
		return false
	}
	return true
}

// rotate renames the file being written to the next part and begins a new
// one. When the rename fails (on Windows, another program may hold the
// file open), writing goes on in the same file and rotation is tried again
// after another MaxBytes.
func (s *sink) rotate() {
	if err := s.f.Close(); err != nil {
		s.log.Warn("cannot close the stdout log", zap.Error(err))
	}
	s.f = nil
	part := s.part + 1
	target := stdoutName(s.cfg.Path, s.started, s.pid, part)
	for exists(target) {
		part++
		target = stdoutName(s.cfg.Path, s.started, s.pid, part)
	}
	renamed := os.Rename(s.path, target)
	if renamed == nil {
		s.part = part
		s.log.Debug("stdout log rotated", zap.String("to", target))
	} else if !s.rotWarned {
		s.rotWarned = true
		s.log.Warn("cannot rotate the stdout log; it grows on", zap.Error(renamed))
	}
	if err := s.open(); err != nil {
		s.openErr, s.nextOpen = err, time.Now().Add(reopenEvery)
	}
	if renamed != nil {
		s.size = 0
		return
	}
	s.retain()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// retain deletes the app's oldest stdout log files beyond MaxFiles (if
// MaxFiles is above 0).
func (s *sink) retain() {
	if s.cfg.MaxFiles <= 0 {
		return
	}
	deleted, err := retain(s.cfg.Path, s.cfg.MaxFiles)
	if len(deleted) > 0 {
		s.log.Debug("old stdout logs deleted", zap.Strings("files", deleted))
	}
	if err != nil && !s.retWarned {
		s.retWarned = true
		s.log.Warn("cannot delete old stdout logs", zap.Error(err))
	}
}
