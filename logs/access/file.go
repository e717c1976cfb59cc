package access

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// The modes of the files and folders the access log creates, on Unix (on
// Windows they inherit the folder's ACL): as the stdout log files', since
// URLs and addresses are not for everyone on the machine to read.
const (
	fileMode = 0o640
	dirMode  = 0o750
)

// reopenEvery is how often a file that could not be opened is tried again.
const reopenEvery = time.Second

// streamDest writes to a writer that is never rotated nor closed
// (stdout).
type streamDest struct {
	w      io.Writer
	l      *Log
	broken bool // a failed write cut a line short: end it before writing more
}

func (d *streamDest) begin(now time.Time) error {
	if d.l.format != W3C {
		return nil
	}
	_, _, err := writeLines(d.w, appendHeader(nil, d.l.software, now), &d.broken)
	return err
}

func (d *streamDest) write(b []byte) (int, error) {
	_, lost, err := writeLines(d.w, b, &d.broken)
	return lost, err
}

func (d *streamDest) close() error { return nil }

// writeLines writes b, whole lines, to w, after a newline if the last
// write was cut short (broken). It returns the bytes written and the
// lines lost: those not written whole.
func writeLines(w io.Writer, b []byte, broken *bool) (written int64, lost int, err error) {
	if *broken {
		if _, err := w.Write([]byte{'\n'}); err != nil {
			return 0, countLines(b), err
		}
		*broken, written = false, 1
	}
	n, err := w.Write(b)
	written += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		*broken = n > 0 && b[n-1] != '\n'
		lost = countLines(b[n:])
	}
	return written, lost, err
}

// countLines counts the lines of b, a last one without its newline
// included.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// fileDest writes a file, rotated by size: before a line would take it
// past maxBytes, it is renamed to <name>.<n><ext> (n = 1, 2, …: the
// higher, the newer) and a new file with its name begun; after each
// rotation, the oldest parts are deleted until maxFiles files are left.
type fileDest struct {
	path     string
	maxBytes int64
	maxFiles int
	l        *Log

	f        *os.File
	size     int64
	regular  bool // a regular file: only those are rotated
	hasLines bool // the file holds more than the directives written when it was begun
	broken   bool
	nextPart int
	openErr  error
	nextOpen time.Time

	rotWarned, retWarned bool
}

// open opens (or creates, with its folders) the file, for appending.
func (d *fileDest) open() error {
	if err := os.MkdirAll(filepath.Dir(d.path), dirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return err
	}
	d.f, d.size, d.regular, d.broken = f, 0, false, false
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		d.size, d.regular = info.Size(), true
	}
	d.hasLines = d.size > 0
	return nil
}

// begin writes the directives that begin the file.
func (d *fileDest) begin(now time.Time) error {
	if d.l.format != W3C || d.f == nil {
		return nil
	}
	n, _, err := writeLines(d.f, appendHeader(nil, d.l.software, now), &d.broken)
	d.size += n
	return err
}

// reopen tries again, at most every reopenEvery, to open the file.
func (d *fileDest) reopen() bool {
	if time.Now().Before(d.nextOpen) {
		return false
	}
	if err := d.open(); err != nil {
		d.openErr, d.nextOpen = err, time.Now().Add(reopenEvery)
		return false
	}
	d.openErr = nil
	d.begin(time.Now()) // a failure shows in the next write
	return true
}

func (d *fileDest) write(b []byte) (lost int, err error) {
	for len(b) > 0 {
		if d.f == nil && !d.reopen() {
			return lost + countLines(b), cmp.Or(err, d.openErr)
		}
		n := len(b)
		if d.maxBytes > 0 && d.regular && d.size+int64(n) > d.maxBytes {
			k := 0
			if room := d.maxBytes - d.size; room > 0 {
				k = bytes.LastIndexByte(b[:room], '\n') + 1
			}
			switch {
			case k > 0:
				n = k // the whole lines that fit
			case d.hasLines:
				d.rotate()
				continue
			default:
				n = bytes.IndexByte(b, '\n') + 1 // a line alone over maxBytes: whole, in a file of its own
			}
		}
		w, l, werr := writeLines(d.f, b[:n], &d.broken)
		d.size += w
		d.hasLines = d.hasLines || w > 0
		lost += l
		err = cmp.Or(err, werr)
		b = b[n:]
	}
	return lost, err
}

func (d *fileDest) close() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// rotate renames the file to the next part and begins a new one. When
// the rename fails (on Windows, another program may hold the file open
// without sharing it), writing goes on in the same file, and rotation is
// tried again after another maxBytes.
func (d *fileDest) rotate() {
	if err := d.close(); err != nil {
		d.l.log.Warn("cannot close the access log", zap.Error(err))
	}
	target := d.partName(d.nextPart)
	for exists(target) {
		d.nextPart++
		target = d.partName(d.nextPart)
	}
	renamed := os.Rename(d.path, target)
	if renamed == nil {
		d.nextPart++
		d.l.log.Debug("access log rotated", zap.String("to", target))
	} else if !d.rotWarned {
		d.rotWarned = true
		d.l.log.Warn("cannot rotate the access log; it grows on", zap.Error(renamed))
	}
	if err := d.open(); err != nil {
		d.openErr, d.nextOpen = err, time.Now().Add(reopenEvery)
		return
	}
	if renamed != nil {
		d.size, d.hasLines = 0, false // the same file: another maxBytes before the next try
		return
	}
	d.begin(time.Now()) // a failure shows in the next write
	d.retain()
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// partName is the name of part n: <name>.<n><ext>, the extension of the
// file's name kept last (access.log → access.3.log).
func (d *fileDest) partName(n int) string {
	ext := filepath.Ext(d.path)
	return strings.TrimSuffix(d.path, ext) + "." + strconv.Itoa(n) + ext
}

// part is a rotated part of the file, found on disk.
type part struct {
	n    int
	path string
}

// parts lists the file's rotated parts, oldest (lowest number) first.
func (d *fileDest) parts() ([]part, error) {
	dir, name := filepath.Split(d.path)
	ext := filepath.Ext(name)
	prefix, suffix := strings.TrimSuffix(name, ext)+".", ext
	entries, err := os.ReadDir(cmp.Or(dir, "."))
	if err != nil {
		return nil, err
	}
	var parts []part
	for _, e := range entries {
		middle, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || e.IsDir() {
			continue
		}
		if middle, ok = strings.CutSuffix(middle, suffix); !ok || middle == "" || len(middle) > 9 || strings.Trim(middle, "0123456789") != "" {
			continue
		}
		n, _ := strconv.Atoi(middle)
		parts = append(parts, part{n, filepath.Join(dir, e.Name())})
	}
	slices.SortFunc(parts, func(a, b part) int { return cmp.Compare(a.n, b.n) })
	return parts, nil
}

// lastPart is the highest part number on disk, 0 when there is none.
func (d *fileDest) lastPart() int {
	parts, _ := d.parts()
	if len(parts) == 0 {
		return 0
	}
	return parts[len(parts)-1].n
}

// retain deletes the oldest parts until maxFiles files are left, the one
// being written included.
func (d *fileDest) retain() {
	if d.maxFiles <= 0 {
		return
	}
	parts, err := d.parts()
	for i := 0; i < len(parts)-(d.maxFiles-1); i++ {
		if rerr := os.Remove(parts[i].path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = cmp.Or(err, rerr)
		}
	}
	if err != nil && !d.retWarned {
		d.retWarned = true
		d.l.log.Warn("cannot delete old access logs", zap.Error(err))
	}
}
