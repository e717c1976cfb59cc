package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/roosthq/roost/config"
)

// ErrNoFiles means no stdout log file exists yet.
var ErrNoFiles = errors.New("no stdout log file yet")

// Following polls the folder every pollNotify when file notifications
// work (to catch any they miss, and to show an unfinished line that has
// waited a poll), and every pollNoNotify when they do not. Variables so
// that tests can shorten them.
var (
	pollNotify   = time.Second
	pollNoNotify = 250 * time.Millisecond
)

// maxFollowed is how many files are followed at once; the quietest are let
// go beyond it.
const maxFollowed = 32

// TailOptions say what Tail prints.
type TailOptions struct {
	// Lines is how many of the newest process's last lines to print first
	// (they may span its rotated parts).
	Lines int

	// Follow keeps printing what the app writes, from every process and
	// across rotation, until the context ends.
	Follow bool

	// Notes, when set, receives a line when following moves to a process
	// started since (roost logs passes stderr, so stdout holds only the
	// app's output).
	Notes io.Writer
}

// Tail prints to w the end of the stdout log files of base (stdoutLogFile,
// an absolute path) as roost logs does, reading only the files: it works
// whether or not roost runs. It returns ErrNoFiles when there is no file,
// and nil when following ends because ctx ended.
func Tail(ctx context.Context, base string, w io.Writer, o TailOptions) error {
	files, err := listStdout(base)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return ErrNoFiles
	}
	files, f, info, err := openNewest(base, files)
	if err != nil {
		return err
	}
	newest := files[len(files)-1]
	// Earlier parts of the same process give the lines the newest file
	// lacks.
	var chain []*stdoutFile
	for _, g := range files {
		if g.sameProcess(newest) && g != newest {
			chain = append(chain, g)
		}
	}
	if err := printLast(w, f, info.Size(), chain, o.Lines); err != nil {
		f.Close()
		return err
	}
	if !o.Follow {
		f.Close()
		return nil
	}
	fl := &follower{base: base, w: w, notes: o.Notes, buf: make([]byte, 64<<10)}
	if _, err := f.Seek(info.Size(), io.SeekStart); err != nil {
		f.Close()
		return err
	}
	fl.open = append(fl.open, &followed{name: newest.name, f: f, info: info, process: newest, verified: true, lastData: time.Now()})
	fl.procs = append(fl.procs, newest)
	for _, g := range files {
		if g != newest {
			fl.known = append(fl.known, known{g.name, g.info, g.info.Size()})
		}
	}
	return fl.run(ctx)
}

// openNewest opens the newest of files (the last), listing them again if
// it was rotated (or deleted) between the listing and the opening. It
// returns the listing the open file is the newest of.
func openNewest(base string, files []*stdoutFile) ([]*stdoutFile, *os.File, os.FileInfo, error) {
	for try := 0; ; try++ {
		newest := files[len(files)-1]
		f, err := config.OpenShared(newest.path)
		if err == nil {
			info, err := f.Stat()
			if err == nil && (os.SameFile(info, newest.info) || try == 3) {
				return files, f, info, nil
			}
			f.Close()
			if err != nil {
				return nil, nil, nil, err
			}
		} else if try == 3 {
			return nil, nil, nil, err
		}
		if files, err = listStdout(base); err != nil {
			return nil, nil, nil, err
		}
		if len(files) == 0 {
			return nil, nil, nil, ErrNoFiles
		}
	}
}

// printLast prints the last n lines of f (size bytes long), taking lines
// from the end of the earlier files in chain (oldest first) when f has
// fewer.
func printLast(w io.Writer, f *os.File, size int64, chain []*stdoutFile, n int) error {
	start, found, err := lastLines(f, size, n)
	if err != nil {
		return err
	}
	if found < n && len(chain) > 0 {
		prev := chain[len(chain)-1]
		g, err := config.OpenShared(prev.path)
		if err == nil {
			info, err := g.Stat()
			if err == nil {
				err = printLast(w, g, info.Size(), chain[:len(chain)-1], n-found)
			}
			g.Close()
			if err != nil {
				return err
			}
		}
	}
	_, err = io.Copy(w, io.NewSectionReader(f, start, size-start))
	return err
}

// lastLines finds where the last n lines of r's first size bytes start,
// and how many lines it found (fewer than n when r is shorter). A newline
// at the very end does not begin an empty line.
func lastLines(r io.ReaderAt, size int64, n int) (start int64, found int, err error) {
	if n <= 0 || size == 0 {
		return size, 0, nil
	}
	buf := make([]byte, 64<<10)
	for pos := size; pos > 0; {
		k := min(int64(len(buf)), pos)
		pos -= k
		b := buf[:k]
		if _, err := r.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, err
		}
		for {
			i := bytes.LastIndexByte(b, '\n')
			if i < 0 {
				break
			}
			b = b[:i]
			at := pos + int64(i)
			if at == size-1 {
				continue // the last line's own newline
			}
			if found++; found == n {
				return at + 1, found, nil
			}
		}
	}
	return 0, found + 1, nil
}

// known is a file seen while following and not followed now, and how
// much of it was printed (or skipped, for what was there before following
// began).
type known struct {
	name string
	info os.FileInfo
	size int64
}

// followed is a file being followed: one a process writes, or wrote.
type followed struct {
	name    string // its name when last seen
	f       *os.File
	info    os.FileInfo
	process *stdoutFile

	// verified is set once a listing made after the file was opened has
	// been scanned: the files older than it have been printed then, so
	// what it holds may be printed too.
	verified bool

	pending  []byte // an unfinished line, not printed yet
	stale    bool   // pending has not grown since the last poll
	lastData time.Time
	retire   bool // renamed to a part or deleted: read it to the end and let go
}

// follower prints what is written to an app's stdout log files: it
// follows the files of every process, from where it began, across
// rotation (a followed file renamed to a part is read to its end, then
// let go) and across restarts (new files are read from their start).
type follower struct {
	base  string
	w     io.Writer
	notes io.Writer
	known []known // every file seen and not followed
	open  []*followed
	procs []*stdoutFile // the processes seen lately, one file of each: a note tells of new ones
	buf   []byte
}

func (fl *follower) run(ctx context.Context) error {
	defer func() {
		for _, t := range fl.open {
			t.f.Close()
		}
	}()
	var events <-chan fsnotify.Event
	var errs <-chan error
	poll := pollNoNotify
	if w, err := fsnotify.NewWatcher(); err == nil {
		defer w.Close()
		if err := w.Add(filepath.Dir(fl.base)); err == nil {
			events, errs, poll = w.Events, w.Errors, pollNotify
		}
	}
	prefix := filepath.Base(fl.base) + "_"
	tick := time.NewTicker(poll)
	defer tick.Stop()
	if err := fl.scan(); err != nil {
		return err
	}
	for {
		scan, drain, idle := false, false, false
		select {
		case <-ctx.Done():
			return fl.flushPending()
		case ev := <-events:
			// Take every event already queued: one scan serves them all.
			for more := true; more; {
				if strings.HasPrefix(filepath.Base(ev.Name), prefix) {
					if ev.Op == fsnotify.Write && fl.isFollowed(filepath.Base(ev.Name)) {
						drain = true
					} else {
						scan = true
					}
				}
				select {
				case ev = <-events:
				default:
					more = false
				}
			}
		case <-errs:
			scan = true // an overflow, most likely: look at everything
		case <-tick.C:
			scan, idle = true, true
		}
		var err error
		switch {
		case scan:
			err = fl.scan()
		case drain:
			err = fl.drainAll()
		}
		if err == nil && idle {
			err = fl.showStale()
		}
		if err != nil {
			return err
		}
	}
}

// isFollowed reports whether name is a followed file that may be printed.
func (fl *follower) isFollowed(name string) bool {
	return slices.ContainsFunc(fl.open, func(t *followed) bool { return t.name == name && t.verified })
}

// drainAll prints what the followed files have gained.
func (fl *follower) drainAll() error {
	for _, t := range fl.open {
		if !t.verified {
			continue
		}
		if err := fl.drain(t); err != nil {
			return err
		}
	}
	return nil
}

// maxListings bounds how many times one scan lists the folder while files
// keep appearing; what is left waits for the next event or poll.
const maxListings = 10

// scan prints what is new in the app's files, oldest first.
func (fl *follower) scan() error {
	for n := 1; ; n++ {
		again, err := fl.scanOnce(n == maxListings)
		if err != nil || !again {
			return err
		}
	}
}

// scanOnce lists the app's files once, works out what happened to each
// since the last listing, and prints what is new in their order. A name is
// looked up after the folder is read, so a listing can miss a file renamed
// meanwhile: it can show a process's new file without the parts rotated
// out before it, or miss a followed file. So a new file is only opened
// (which fixes which file it is) and printed after the next listing, and
// a listing that misses a followed file is made again; scanOnce reports
// whether it wants another listing. The last listing allowed prints what
// it can.
func (fl *follower) scanOnce(last bool) (again bool, err error) {
	files, err := listStdout(fl.base)
	if err != nil {
		return false, err
	}
	for _, t := range fl.open {
		t.verified = true // opened before this listing
	}
	plan := fl.planScan(files)
	if len(plan.missing) > 0 && !last {
		return true, nil // look again for where it went before printing what came after it
	}
	// A followed file still missing was deleted, or renamed out of
	// sight: what it holds came before what the listing shows.
	open, retired, err := fl.printSteps(append(plan.missing, plan.steps...))
	if err != nil {
		return false, err
	}
	opened, err := fl.openFresh(plan.fresh)
	if err != nil {
		return false, err
	}
	fl.open, fl.known = append(open, opened...), append(plan.known, retired...)
	if err := fl.limit(); err != nil {
		return false, err
	}
	return len(opened) > 0 && !last, nil
}

// scanStep is one file of a listing to print from: a followed file to
// read on (and let go of once rotated), or another to read from a point.
type scanStep struct {
	followed *followed
	file     *stdoutFile
	from     int64
	follow   bool // follow file once read
}

// scanPlan is what planScan makes of one listing.
type scanPlan struct {
	steps   []scanStep    // one per file to print from, in the files' order
	missing []scanStep    // followed files the listing does not show
	fresh   []*stdoutFile // new files being written: opened now, printed after the next listing
	known   []known       // the files listed and not followed
}

// planScan works out what happened to each of files (a listing) since the
// last one: it notes a followed file's new name and marks one rotated out,
// deleted or out of sight to be let go of, and says what to print from
// each file and which new ones to open.
func (fl *follower) planScan(files []*stdoutFile) scanPlan {
	byName := make(map[string]int, len(fl.known))
	for i, k := range fl.known {
		byName[k.name] = i
	}
	knownAs := func(e *stdoutFile) *known {
		if i, ok := byName[e.name]; ok && os.SameFile(fl.known[i].info, e.info) {
			return &fl.known[i]
		}
		// Renamed since: a part.
		if i := slices.IndexFunc(fl.known, func(k known) bool { return os.SameFile(k.info, e.info) }); i >= 0 {
			return &fl.known[i]
		}
		return nil
	}

	var plan scanPlan
	present := make([]bool, len(fl.open))
	for _, e := range files {
		if i := fl.followedIndex(e.info); i >= 0 {
			t := fl.open[i]
			present[i], t.name = true, e.name
			if !e.live() {
				t.retire = true // rotated: nothing more is written to it
			}
			plan.steps = append(plan.steps, scanStep{followed: t})
			continue
		}
		switch k := knownAs(e); {
		case k != nil && e.live() && e.info.Size() > k.size:
			// A quiet file written again: another process's, or one
			// followed before and let go.
			plan.steps = append(plan.steps, scanStep{file: e, from: k.size, follow: true})
			plan.known = append(plan.known, known{e.name, e.info, k.size}) // in case it cannot be opened
		case k != nil:
			plan.known = append(plan.known, known{e.name, e.info, k.size})
		case e.live():
			plan.fresh = append(plan.fresh, e)
		default:
			plan.steps = append(plan.steps, scanStep{file: e}) // a part never seen: print it whole
		}
	}
	for i, t := range fl.open {
		if !present[i] {
			t.retire = true
			plan.missing = append(plan.missing, scanStep{followed: t})
		}
	}
	return plan
}

// printSteps prints what is new in each step's file, in order. It returns
// the files to follow on, and those let go of (rotated out, deleted, or
// only to be printed) with how much of each was printed.
func (fl *follower) printSteps(steps []scanStep) (open []*followed, retired []known, err error) {
	for _, st := range steps {
		t := st.followed
		if t == nil {
			if t, err = fl.openAt(st.file, st.from); err != nil {
				return nil, nil, err
			}
			if t == nil {
				continue // gone meanwhile: the next listing sorts it out
			}
			t.verified, t.retire = true, !st.follow
		}
		if err := fl.drain(t); err != nil {
			t.f.Close()
			return nil, nil, err
		}
		if t.retire {
			pos, _ := t.f.Seek(0, io.SeekCurrent)
			retired = append(retired, known{t.name, t.info, pos})
			if err := fl.letGo(t); err != nil {
				return nil, nil, err
			}
			continue
		}
		open = append(open, t)
	}
	return open, retired, nil
}

// openFresh opens the new files being written, from their start, to be
// printed after the next listing; it leaves out those gone meanwhile.
func (fl *follower) openFresh(fresh []*stdoutFile) ([]*followed, error) {
	var opened []*followed
	for _, e := range fresh {
		t, err := fl.openAt(e, 0)
		if err != nil {
			return nil, err
		}
		if t != nil {
			opened = append(opened, t)
		}
	}
	return opened, nil
}

// openAt opens file to read it from the offset from, or returns nil if it
// is no longer there (deleted, or its name now another file's).
func (fl *follower) openAt(file *stdoutFile, from int64) (*followed, error) {
	f, err := config.OpenShared(file.path)
	if err != nil {
		return nil, nil
	}
	info, err := f.Stat()
	if err != nil || !os.SameFile(info, file.info) {
		f.Close()
		return nil, nil
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	if !slices.ContainsFunc(fl.procs, file.sameProcess) {
		fl.procs = append(fl.procs[max(0, len(fl.procs)-63):], file)
		if fl.notes != nil {
			fmt.Fprintf(fl.notes, "roost logs: following %s\n", file.liveName(filepath.Base(fl.base)))
		}
	}
	return &followed{name: file.name, f: f, info: info, process: file, lastData: time.Now()}, nil
}

// followedIndex returns the index of the followed file that is info, or -1.
func (fl *follower) followedIndex(info os.FileInfo) int {
	return slices.IndexFunc(fl.open, func(t *followed) bool { return os.SameFile(t.info, info) })
}

// limit stops following the quietest files beyond maxFollowed: processes
// that ended long ago. If one writes again, a scan picks it up where it
// was left.
func (fl *follower) limit() error {
	for len(fl.open) > maxFollowed {
		quietest := -1
		for i, t := range fl.open {
			if t.verified && (quietest < 0 || t.lastData.Before(fl.open[quietest].lastData)) {
				quietest = i
			}
		}
		if quietest < 0 {
			return nil
		}
		t := fl.open[quietest]
		fl.open = slices.Delete(fl.open, quietest, quietest+1)
		pos, _ := t.f.Seek(0, io.SeekCurrent)
		fl.known = append(fl.known, known{t.name, t.info, pos})
		if err := fl.letGo(t); err != nil {
			return err
		}
	}
	return nil
}

// drain prints what t has gained: whole lines; an unfinished one waits.
func (fl *follower) drain(t *followed) error {
	for {
		n, err := t.f.Read(fl.buf)
		if n > 0 {
			t.lastData, t.stale = time.Now(), false
			if err := fl.emit(t, fl.buf[:n]); err != nil {
				return err
			}
		}
		if n == 0 || err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return err
		}
	}
}

func (fl *follower) emit(t *followed, b []byte) error {
	i := bytes.LastIndexByte(b, '\n')
	if i < 0 {
		t.pending = append(t.pending, b...)
		return nil
	}
	if len(t.pending) > 0 {
		t.pending = append(t.pending, b[:i+1]...)
		if _, err := fl.w.Write(t.pending); err != nil {
			return err
		}
		t.pending = t.pending[:0]
	} else if _, err := fl.w.Write(b[:i+1]); err != nil {
		return err
	}
	t.pending = append(t.pending, b[i+1:]...)
	return nil
}

// letGo prints t's unfinished line, if any, and closes it.
func (fl *follower) letGo(t *followed) error {
	defer t.f.Close()
	return fl.show(t)
}

func (fl *follower) show(t *followed) error {
	if len(t.pending) == 0 {
		return nil
	}
	_, err := fl.w.Write(t.pending)
	t.pending = t.pending[:0]
	return err
}

// showStale prints unfinished lines that have not grown for a poll
// interval (a prompt, a progress bar), so that they are seen.
func (fl *follower) showStale() error {
	for _, t := range fl.open {
		if t.stale {
			if err := fl.show(t); err != nil {
				return err
			}
		}
		t.stale = len(t.pending) > 0
	}
	return nil
}

// flushPending prints every unfinished line: following ends.
func (fl *follower) flushPending() error {
	for _, t := range fl.open {
		if err := fl.show(t); err != nil {
			return err
		}
	}
	return nil
}
