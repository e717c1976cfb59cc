package forwarder

import (
	"errors"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/roosthq/roost/forwarder/http1"
)

// timeZero is the zero time, which lifts a deadline.
var timeZero time.Time

// errBodyTooLarge is a request body that passed maxAllowedContentLength.
var errBodyTooLarge = errors.New("request body over maxAllowedContentLength")

// pump copies a request body that is not yet whole in the client's
// buffer to the backend, on its own goroutine, while the response is
// read: the backend may answer before the body ends, and a client that
// sent Expect: 100-continue sends it only once the backend's 100 is
// relayed.
type pump struct {
	done      chan struct{}
	err       error       // why the body was not read or sent whole; nil once it was
	clientErr bool        // err is the client's: malformed, too large, stalled or cut short
	bodyRead  atomic.Bool // the body was read whole from the client
	stopped   atomic.Bool // finishPump interrupted it
}

func (ex *exchange) startPump() {
	p := &pump{done: make(chan struct{})}
	ex.pump = p
	go func() {
		defer close(p.done)
		buf := buffers.Get().(*[]byte)
		defer buffers.Put(buf)
		p.err = ex.copyRequestBody(*buf, p)
		if p.clientErr {
			// The response read waits on the backend, which waits on
			// the body: end it.
			ex.up.Close()
		}
	}()
}

// chunkRoom is the room kept before the data of a chunk for its size line
// (4 hex digits and CRLF: buffers are under 64 KiB).
const chunkRoom = 6

// copyRequestBody copies the body from the client to the backend, chunked
// again if it came chunked, with the client's trailer fields that may be
// trailers after the last chunk.
func (ex *exchange) copyRequestBody(buf []byte, p *pump) error {
	cc, h := ex.cc, ex.head
	var src io.Reader = cc.br
	left := int64(-1)
	chunked := h.Framing == http1.Chunked
	if chunked {
		cc.chunked.Reset(cc.br, http1.Limits{})
		src = &cc.chunked
	} else {
		left = h.ContentLength
	}
	total := int64(0)
	for {
		room := buf[chunkRoom : len(buf)-2]
		if left > 0 && int64(len(room)) > left {
			room = room[:left]
		}
		m, err := ex.readClient(src, room)
		if total += int64(m); total > ex.f.cfg.MaxAllowedContentLength {
			p.clientErr = true
			return errBodyTooLarge
		}
		if left > 0 {
			left -= int64(m)
		}
		done := left == 0 || chunked && err == io.EOF
		if done {
			// Said before the last bytes go: the backend may answer at
			// once, and the connection is the client's to reuse.
			p.bodyRead.Store(true)
		}
		if m > 0 {
			if werr := ex.sendChunk(buf, m, chunked); werr != nil {
				return werr
			}
		}
		if done {
			break
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			p.clientErr = !p.stopped.Load() || !errors.Is(err, os.ErrDeadlineExceeded)
			return err
		}
	}
	if chunked {
		return ex.sendLastChunk(buf)
	}
	return nil
}

// readClient reads from the client's body, with the clientIdle deadline
// for this read alone and the requestTimeout clock stopped.
func (ex *exchange) readClient(src io.Reader, p []byte) (int, error) {
	ex.clock.clientWait(true)
	ex.cc.rdl.extend(ex.cc.nc, true, ex.f.clientIdle)
	n, err := src.Read(p)
	ex.clock.clientWait(false)
	return n, err
}

// sendChunk sends the m bytes of data at buf[chunkRoom:] to the backend,
// framed as a chunk when chunked is set.
func (ex *exchange) sendChunk(buf []byte, m int, chunked bool) error {
	frame := buf[chunkRoom : chunkRoom+m]
	if chunked {
		var size [8]byte
		line := append(strconv.AppendInt(size[:0], int64(m), 16), '\r', '\n')
		start := chunkRoom - len(line)
		copy(buf[start:], line)
		buf[chunkRoom+m], buf[chunkRoom+m+1] = '\r', '\n'
		frame = buf[start : chunkRoom+m+2]
	}
	ex.up.wdl.extend(ex.up, false, ex.sendTimeout())
	_, err := ex.up.Write(frame)
	ex.clock.active()
	return err
}

// sendTimeout bounds a write to the backend: requestTimeout, as the
// backend not taking bytes is the backend being silent, or clientIdle
// without one.
func (ex *exchange) sendTimeout() time.Duration {
	if d := ex.f.cfg.RequestTimeout; d > 0 {
		return d
	}
	return ex.f.clientIdle
}

// sendLastChunk ends a chunked body with the client's trailer fields that
// may be trailers.
func (ex *exchange) sendLastChunk(buf []byte) error {
	b := append(buf[:0], "0\r\n"...)
	for _, fl := range ex.cc.chunked.Trailer() {
		if trailerAllowed(fl.Name) {
			b = appendFieldBytes(b, fl.Name, fl.Value)
		}
	}
	b = append(b, "\r\n"...)
	ex.up.wdl.extend(ex.up, false, ex.sendTimeout())
	_, err := ex.up.Write(b)
	return err
}

// finishPump waits for the pump to end, first interrupting it when the
// exchange is over without it: the backend failed, or answered before the
// client's body ended (with wait set, a pump that has read the whole body
// is let finish sending it). It returns the pump's error, or
// errPumpStopped if it was interrupted: nil only when the body was read
// and sent whole, and the backend connection is still open.
func (ex *exchange) finishPump(wait bool) error {
	p := ex.pump
	stopped := false
	if !wait || !p.bodyRead.Load() {
		select {
		case <-p.done:
		default:
			stopped = true
			p.stopped.Store(true)
			ex.cc.rdl.set(ex.cc.nc, true, time.Now())
			if ex.up != nil {
				ex.up.Close()
			}
		}
	}
	<-p.done
	if p.err == nil && stopped {
		return errPumpStopped
	}
	return p.err
}

// errPumpStopped is finishPump's error when it interrupted the pump.
var errPumpStopped = errors.New("request body copy stopped")
