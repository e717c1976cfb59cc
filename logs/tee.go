package logs

import "io"

// Tee returns a writer that writes each write to every one of ws, whatever
// the others do: unlike io.MultiWriter, a writer that fails (the stderr of
// a Windows service, which has none; a closed terminal) does not keep the
// others from getting every line. A write fails only when every writer
// failed, with the last error.
func Tee(ws ...io.Writer) io.Writer { return tee(ws) }

type tee []io.Writer

func (t tee) Write(p []byte) (int, error) {
	var err error
	ok := false
	for _, w := range t {
		if n, werr := w.Write(p); werr == nil && n == len(p) {
			ok = true
		} else if werr != nil {
			err = werr
		} else {
			err = io.ErrShortWrite
		}
	}
	if ok || len(t) == 0 {
		return len(p), nil
	}
	return 0, err
}
