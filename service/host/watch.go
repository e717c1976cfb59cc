package host

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"

	"github.com/roosthq/roost/config"
)

// offlineFile is the name that takes the app offline, in any letter case.
const offlineFile = "app_offline.htm"

// Watch timing.
const (
	// debounce is how long the folder must stay quiet after a change to
	// web.config or app_offline.htm before it is acted on, so that a deploy
	// writing many files, or an editor saving in several steps, causes one
	// reaction.
	debounce = 100 * time.Millisecond
	// pollInterval is how often the files are checked when the folder
	// cannot be watched.
	pollInterval = time.Second
)

// change says which files may have changed. The controller looks at the
// files themselves, so a spurious change costs a check, never a mistake.
type change struct {
	offline bool // app_offline.htm
	config  bool // the web.config roost runs from
}

// watcher reports changes to app_offline.htm and the web.config in the app
// folder. It watches the folder, not the files, because editors and deploy
// tools replace files by renaming over them. When the folder cannot be
// watched, or the watch fails later, it says so in the log and polls.
type watcher struct {
	dir, configName string
	log             *zap.Logger

	mu      sync.Mutex
	pending change
	signal  chan struct{} // size 1: a change is pending
}

func newWatcher(dir, configName string, log *zap.Logger) *watcher {
	return &watcher{dir: dir, configName: configName, log: log, signal: make(chan struct{}, 1)}
}

// next waits for changes and returns them, coalesced.
func (w *watcher) next(ctx context.Context) (change, bool) {
	select {
	case <-ctx.Done():
		return change{}, false
	case <-w.signal:
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c := w.pending
	w.pending = change{}
	return c, true
}

func (w *watcher) post(c change) {
	w.mu.Lock()
	w.pending.offline = w.pending.offline || c.offline
	w.pending.config = w.pending.config || c.config
	w.mu.Unlock()
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// classify says which of the watched files name is.
func (w *watcher) classify(name string) change {
	base := filepath.Base(name)
	return change{
		offline: strings.EqualFold(base, offlineFile),
		config:  strings.EqualFold(base, w.configName),
	}
}

// run watches until ctx ends.
func (w *watcher) run(ctx context.Context) {
	fw, err := fsnotify.NewWatcher()
	if err == nil {
		if err = fw.Add(w.dir); err != nil {
			fw.Close()
		}
	}
	if err != nil {
		w.log.Warn("cannot watch the app folder; checking it every second instead", zap.String("dir", w.dir), zap.Error(err))
		w.poll(ctx, w.snapshot())
		return
	}
	defer fw.Close()
	// app_offline.htm may have appeared between the first look and the
	// watch: look again now that the watch is in place.
	w.post(change{offline: true})
	// A watch can still miss a change: one made before the system arms it,
	// or on a file system whose notifications are lost (network shares,
	// wine). app_offline.htm is looked for every pollInterval too, so that
	// going offline and back online never waits on a lost event.
	check := time.NewTicker(pollInterval)
	defer check.Stop()
	last := w.snapshot()

	var pending change
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-check.C:
			now := w.snapshot()
			if now.offline.exists != last.offline.exists {
				w.post(change{offline: true})
			}
			last = now
		case ev, ok := <-fw.Events:
			if !ok {
				// The watch ended by itself: whatever changed meanwhile is
				// looked at once, then polling takes over.
				w.log.Warn("the app folder watch ended; checking it every second instead", zap.String("dir", w.dir))
				w.post(change{offline: true, config: true})
				w.poll(ctx, w.snapshot())
				return
			}
			c := w.classify(ev.Name)
			if !c.offline && !c.config {
				continue
			}
			pending.offline = pending.offline || c.offline
			pending.config = pending.config || c.config
			timer.Reset(debounce)
		case err, ok := <-fw.Errors:
			if !ok {
				continue
			}
			// An overflow loses events: look at both files again.
			w.log.Warn("app folder watch error; checking both files", zap.Error(err))
			pending = change{offline: true, config: true}
			timer.Reset(debounce)
		case <-timer.C:
			w.post(pending)
			pending = change{}
		}
	}
}

// poll checks both files every pollInterval and posts what changed since
// last.
func (w *watcher) poll(ctx context.Context, last snapshot) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := w.snapshot()
		c := change{offline: now.offline != last.offline, config: now.config != last.config}
		if c.offline || c.config {
			w.post(c)
		}
		last = now
	}
}

// fileState is what polling compares.
type fileState struct {
	exists  bool
	size    int64
	modTime time.Time
}

// snapshot is the state of both files.
type snapshot struct{ offline, config fileState }

func (w *watcher) snapshot() (s snapshot) {
	entries, _ := os.ReadDir(w.dir)
	for _, e := range entries {
		c := w.classify(e.Name())
		if !c.offline && !c.config {
			continue
		}
		fs := fileState{exists: true}
		if fi, err := e.Info(); err == nil {
			fs.size, fs.modTime = fi.Size(), fi.ModTime()
		}
		if c.offline {
			s.offline = fs
		}
		if c.config {
			s.config = fs
		}
	}
	return s
}

// maxOfflinePage bounds what is read of app_offline.htm.
const maxOfflinePage = 1 << 20

// readOffline looks for app_offline.htm in dir (any letter case). It
// reports whether the app is offline and the page to serve: the file's
// bytes, or nothing when it cannot be read (locked while being written, or
// too large), as ANCM serves an empty 503 then.
func readOffline(dir string, log *zap.Logger) (page []byte, offline bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false
	}
	for _, e := range entries {
		if !strings.EqualFold(e.Name(), offlineFile) || !e.Type().IsRegular() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, err := e.Info()
		switch {
		case err != nil:
			log.Warn("cannot read app_offline.htm; serving an empty offline page", zap.String("file", path), zap.Error(err))
			return []byte{}, true
		case fi.Size() > maxOfflinePage:
			log.Warn("app_offline.htm is larger than 1 MiB; serving an empty offline page", zap.String("file", path), zap.Int64("size", fi.Size()))
			return []byte{}, true
		}
		data, err := readShared(path)
		if err != nil {
			log.Warn("cannot read app_offline.htm; serving an empty offline page", zap.String("file", path), zap.Error(err))
			return []byte{}, true
		}
		return data, true
	}
	return nil, false
}

// readShared reads the file at path, sharing it for deletion meanwhile: a
// deploy tool that removes app_offline.htm just as roost reads it must not
// fail (on Windows, a plain open would make its delete fail).
func readShared(path string) ([]byte, error) {
	f, err := config.OpenShared(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxOfflinePage))
}
