// Package access writes roost's access log: one line per request, in the
// W3C extended format as IIS writes it (so that IIS log tools read it) or
// as JSON, to a file rotated by size with bounded retention, or to any
// writer (stdout).
//
// Writing never holds a request up: Write formats the line on the
// caller's goroutine, into a pooled buffer, and queues it (a bounded
// queue in memory); a goroutine of the Log writes the queue out in large
// writes. A line that finds the queue full (a slow or stuck disk), or
// whose write fails, is dropped and counted. Close writes what is queued,
// waiting at most until its context ends.
//
// It knows no other roost package: its caller turns what it observed of a
// request into an Entry, and counts the dropped lines where it wants.
package access

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Format is the format of an access log's lines.
type Format int

// The formats.
const (
	// W3C is the W3C extended log file format, as IIS writes it: the
	// #Software, #Version, #Date and #Fields directives at the start of
	// each file, then one line of space-separated fields per request.
	W3C Format = iota
	// JSON is one JSON object per line, with the same fields.
	JSON
)

// Formats are the values of ParseFormat, the default first.
var Formats = []string{"w3c", "json"}

// ParseFormat reads a format's name: "w3c" or "json".
func ParseFormat(s string) (Format, error) {
	switch s {
	case "w3c":
		return W3C, nil
	case "json":
		return JSON, nil
	}
	return 0, fmt.Errorf("%q is not an access log format (w3c or json)", s)
}

func (f Format) String() string { return Formats[f] }

// Sizes of the queue and of the pooled line buffers.
const (
	// DefaultQueueBytes is how many bytes of lines wait in memory at most
	// for the writer (about 5000 typical lines).
	DefaultQueueBytes = 1 << 20
	maxPooledLine     = 16 << 10 // longer lines' buffers are not kept for reuse
)

// Options say how a Log writes.
type Options struct {
	Format Format
	// Software is the #Software directive's value (W3C): "roost 1.2.3".
	Software string

	// MaxBytes (Open only): before a line would take the file past
	// MaxBytes, the file is renamed to a numbered part and a new one is
	// begun. 0 (or less): never.
	MaxBytes int64
	// MaxFiles (Open only): after each rotation, the oldest parts are
	// deleted until MaxFiles files are left, the one being written
	// included. 0 (or less): none is deleted.
	MaxFiles int

	// QueueBytes bounds the lines waiting in memory; 0 is
	// DefaultQueueBytes.
	QueueBytes int

	// OnDropped, when set, is called with n each time n lines are lost
	// (see Log.Dropped), on a request's goroutine or the writer's: it
	// must be quick and must not block.
	OnDropped func(n int64)

	// Logger hears of trouble: the first lines lost after a time without
	// loss, the disk writable again, a rotation or deletion that failed.
	// Nil logs nothing.
	Logger *zap.Logger
}

// Log is an access log being written. Its methods are safe for
// concurrent use.
type Log struct {
	format    Format
	software  string
	limit     int
	onDropped func(n int64)
	log       *zap.Logger
	dst       destination

	wake    chan struct{} // buffered (1): lines were queued, or Close was called
	done    chan struct{} // closed when the writer has ended
	dropped atomic.Int64

	mu        sync.Mutex
	in        []byte // queued lines, whole
	inLines   int
	inHand    int  // lines the writer has taken and not yet written
	closed    bool // Close was called: lines are dropped
	abandoned bool // Close stopped waiting: the writer's lines are counted lost

	// Owned by the writer.
	closeErr    error // the output's, set before done is closed
	failing     bool  // the last write failed
	seenDropped int64 // Dropped when the writer last looked
	overflowing bool  // lines were dropped for a full queue since the writer last looked
}

// destination is where the writer's lines go: a rotated file, or a plain
// writer.
type destination interface {
	// begin starts the output at now (the W3C directives).
	begin(now time.Time) error
	// write writes b, whole lines, and returns how many were lost and
	// why.
	write(b []byte) (lost int, err error)
	close() error
}

// New returns a Log that writes to w, never rotated (stdout): the W3C
// directives once at the start, then the lines.
func New(w io.Writer, o Options) *Log {
	l := newLog(o)
	l.dst = &streamDest{w: w, l: l}
	go l.run()
	return l
}

// Open returns a Log that writes the file at path, created with its
// folders when missing, and appended to when it exists: the W3C
// directives at the start of each file and each time roost opens it (as
// IIS does when it starts), then the lines. A file that cannot be opened
// is an error.
func Open(path string, o Options) (*Log, error) {
	l := newLog(o)
	f := &fileDest{path: path, maxBytes: o.MaxBytes, maxFiles: o.MaxFiles, l: l}
	if err := f.open(); err != nil {
		return nil, err
	}
	f.nextPart = f.lastPart() + 1
	l.dst = f
	go l.run()
	return l, nil
}

func newLog(o Options) *Log {
	l := &Log{
		format: o.Format, software: o.Software, limit: o.QueueBytes, onDropped: o.OnDropped, log: o.Logger,
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	if l.limit <= 0 {
		l.limit = DefaultQueueBytes
	}
	if l.log == nil {
		l.log = zap.NewNop()
	}
	return l
}

// linePool holds the buffers lines are formatted into.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Write formats e and queues the line for the writer, without waiting:
// when the queue is full, or the Log is closed, the line is dropped and
// counted.
func (l *Log) Write(e *Entry) {
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	if l.format == JSON {
		b = appendJSON(b, e)
	} else {
		b = appendW3C(b, e)
	}
	l.mu.Lock()
	queued := !l.closed && len(l.in)+len(b) <= l.limit
	first := len(l.in) == 0
	if queued {
		l.in = append(l.in, b...)
		l.inLines++
	}
	full := len(l.in) >= flushBytes
	l.mu.Unlock()
	if cap(b) <= maxPooledLine {
		*bp = b
		linePool.Put(bp)
	}
	if !queued {
		l.drop(1)
		return
	}
	if first || full {
		// The writer waits for a batch's first line, then for a full
		// batch or flushEvery (see linger): other lines need no wake-up.
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// A batch is written when it holds flushBytes, or flushEvery after its
// first line came, or at Close: one write, and one wake-up of the
// writer, for many requests, as nginx's access_log buffer= and flush=.
const (
	flushBytes = 64 << 10
	flushEvery = 100 * time.Millisecond
)

// linger waits, once a batch's first line is queued, until the batch
// should be written.
func (l *Log) linger(t *time.Timer) {
	ready := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.closed || len(l.in) >= flushBytes
	}
	if ready() {
		return
	}
	t.Reset(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case <-l.wake:
			if ready() {
				return
			}
		}
	}
}

// Dropped returns how many lines were lost so far: dropped when the queue
// was full or the Log closed, not written by Close's deadline, or whose
// write failed.
func (l *Log) Dropped() int64 { return l.dropped.Load() }

func (l *Log) drop(n int) {
	if n <= 0 {
		return
	}
	l.dropped.Add(int64(n))
	if l.onDropped != nil {
		l.onDropped(int64(n))
	}
}

// Close writes the lines queued and closes the output, waiting at most
// until ctx ends: then the lines not yet written are counted as dropped,
// and the writer is left to end alone. Lines written after Close are
// dropped.
func (l *Log) Close(ctx context.Context) error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	select {
	case <-l.done:
		return l.closeErr
	case <-ctx.Done():
	}
	l.mu.Lock()
	l.abandoned = true
	lost := l.inLines + l.inHand
	l.in, l.inLines, l.inHand = nil, 0, 0
	l.mu.Unlock()
	l.drop(lost)
	return fmt.Errorf("access log: %d lines not written when the time to stop was up: %w", lost, context.Cause(ctx))
}

// run is the writer: it takes the queue whole, writes it, and repeats
// until Close has been called and the queue is empty.
func (l *Log) run() {
	defer close(l.done)
	l.report(l.dst.begin(time.Now()))
	var batch []byte
	t := time.NewTimer(flushEvery)
	t.Stop()
	for {
		l.mu.Lock()
		batch, l.in = l.in, batch[:0]
		lines := l.inLines
		l.inLines, l.inHand = 0, lines
		closed, abandoned := l.closed, l.abandoned
		l.mu.Unlock()
		if abandoned {
			break
		}
		if len(batch) == 0 {
			if closed {
				break
			}
			<-l.wake
			l.linger(t)
			continue
		}
		lost, err := l.dst.write(batch)
		l.mu.Lock()
		abandoned, l.inHand = l.abandoned, 0
		l.mu.Unlock()
		if !abandoned {
			l.drop(lost)
		}
		l.report(err)
	}
	l.closeErr = l.dst.close()
	if n := l.Dropped(); n > 0 {
		l.log.Warn("access log lost lines", zap.Int64("dropped", n))
	}
}

// report logs trouble once per spell: a write that failed (err), lines
// dropped for a full queue, and the end of either.
func (l *Log) report(err error) {
	d := l.Dropped()
	dropped := d - l.seenDropped
	l.seenDropped = d
	switch {
	case err != nil && !l.failing:
		l.failing = true
		l.log.Warn("cannot write the access log; lines are dropped", zap.Error(err))
	case err == nil && l.failing:
		l.failing = false
		l.log.Info("access log writable again", zap.Int64("dropped", d))
	case err == nil && dropped > 0 && !l.overflowing:
		l.overflowing = true
		l.log.Warn("access log lines dropped: the queue is full", zap.Int64("dropped", d))
	case err == nil && dropped == 0:
		l.overflowing = false
	}
}
