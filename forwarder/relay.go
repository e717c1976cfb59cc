package forwarder

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/roosthq/roost/forwarder/http1"
)

// errUnaskedUpgrade is a 101 in answer to a request that asked for no
// upgrade.
var errUnaskedUpgrade = errors.New("backend switched protocols unasked")

// backendReadError is a failure to read the backend's response body.
type backendReadError struct{ err error }

func (e *backendReadError) Error() string { return "read response body: " + e.err.Error() }
func (e *backendReadError) Unwrap() error { return e.err }

// relay sends the response whose head was read to the client, and reports
// whether the client connection may carry another request. The backend
// connection goes back to the pool when the response and the request
// were both whole and the backend keeps it alive.
func (ex *exchange) relay(res *http1.ResponseHead) bool {
	if res.Status == http.StatusSwitchingProtocols {
		if ex.upgrade == nil {
			ex.up.Close()
			ex.up = nil
			return ex.fail(errUnaskedUpgrade)
		}
		return ex.tunnel(res)
	}
	h := ex.head
	unframed := res.Framing == http1.Chunked || res.Framing == http1.UntilClose
	chunked := h.Minor == 1 && unframed
	// What the head says is read before the body: the body's reads
	// overwrite the buffer the head's fields point into.
	rc := connectionOf(res.Fields)
	closing := !ex.keepAlive || ex.cc.srv.draining.Load() || h.Minor == 0 && unframed ||
		ex.pump != nil && !ex.pump.bodyRead.Load() ||
		ex.f.cfg.ForwardResponseConnectionHeader && rc.has("close")
	kept := res.Framing != http1.UntilClose && keepsAlive(res.Minor, &rc)
	cc := ex.cc
	cc.out = ex.appendResponseHead(cc.takeOut(), res, &rc, chunked, closing)
	cc.tally.responded(res.Status, 0)
	err := ex.copyBody(res, chunked)
	reusable := err == nil && kept
	if ex.pump != nil {
		if ex.finishPump(reusable) != nil {
			reusable = false
			closing = closing || !ex.pump.bodyRead.Load()
			ex.cc.linger = ex.cc.linger || !ex.pump.bodyRead.Load()
		}
	}
	if reusable {
		ex.f.pool.put(ex.up)
	} else {
		ex.up.Close()
	}
	ex.up = nil
	if err != nil {
		ex.cutShort(err)
		return false
	}
	return !closing
}

// cutShort logs a response that could not be sent whole; the client's
// connection is then closed, so that it never looks complete.
func (ex *exchange) cutShort(err error) {
	r := ex.request()
	var gone errClientGone
	if errors.As(err, &gone) {
		ex.f.clientGone(r, err)
		return
	}
	ex.f.log.Warn("backend response cut short", requestFields(r, zap.Error(err))...)
}

// copyBody copies the response body to the client, with whatever of the
// head is still unsent, chunked when chunked is set.
func (ex *exchange) copyBody(res *http1.ResponseHead, chunked bool) error {
	up := ex.up
	up.beforeRead = ex.cc.flushFn
	defer func() { up.beforeRead = nil }()
	var err error
	switch res.Framing {
	case http1.NoBody:
	case http1.Length:
		err = ex.copyLength(res.ContentLength)
	case http1.Chunked:
		up.chunked.Reset(up.br, http1.Limits{})
		err = ex.copyStream(&up.chunked, chunked)
	default:
		err = ex.copyStream(up.br, chunked)
	}
	if err == nil && len(ex.cc.out) > 0 {
		if werr := ex.cc.writeOut(); werr != nil {
			err = errClientGone{werr}
		}
	}
	return err
}

// copyLength copies a body of n bytes, read straight into the buffer the
// client's bytes are sent from.
func (ex *exchange) copyLength(n int64) error {
	cc, up := ex.cc, ex.up
	for n > 0 {
		if cap(cc.out)-len(cc.out) < 512 {
			if err := cc.writeOut(); err != nil {
				return errClientGone{err}
			}
		}
		base := len(cc.out)
		room := cc.out[base:cap(cc.out)]
		if int64(len(room)) > n {
			room = room[:n]
		}
		m, err := up.br.Read(room)
		if len(cc.out) < base {
			// The hook sent what was before room meanwhile.
			cc.out = cc.out[:copy(cc.out[:cap(cc.out)], room[:m])]
		} else {
			cc.out = cc.out[:base+m]
		}
		n -= int64(m)
		cc.tally.bytes += int64(m)
		switch {
		case ex.outErr != nil:
			return errClientGone{ex.outErr}
		case err == io.EOF && n > 0:
			return &backendReadError{io.ErrUnexpectedEOF}
		case err != nil && n > 0:
			return &backendReadError{err}
		}
	}
	return nil
}

// copyStream copies a body that src ends (a chunked body, or one until
// the backend closes), as chunks when chunked is set, with the backend's
// trailer after the last one.
func (ex *exchange) copyStream(src io.Reader, chunked bool) error {
	cc := ex.cc
	buf := buffers.Get().(*[]byte)
	defer buffers.Put(buf)
	stage := (*buf)[:min(len(*buf), 0xffff)]
	for {
		m, err := src.Read(stage)
		if ex.outErr != nil {
			return errClientGone{ex.outErr}
		}
		if m > 0 {
			if cap(cc.out)-len(cc.out) < m+16 {
				if werr := cc.writeOut(); werr != nil {
					return errClientGone{werr}
				}
			}
			if chunked {
				cc.out = strconv.AppendInt(cc.out, int64(m), 16)
				cc.out = append(cc.out, "\r\n"...)
			}
			cc.out = append(cc.out, stage[:m]...)
			cc.tally.bytes += int64(m)
			if chunked {
				cc.out = append(cc.out, "\r\n"...)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &backendReadError{err}
		}
	}
	if chunked {
		cc.out = append(cc.out, "0\r\n"...)
		if c, ok := src.(*http1.ChunkedReader); ok {
			for _, fl := range c.Trailer() {
				if !lowerIn(hopFields, fl.Name) && !equalFold(fl.Name, "content-length") {
					cc.out = appendFieldBytes(cc.out, fl.Name, fl.Value)
				}
			}
		}
		cc.out = append(cc.out, "\r\n"...)
	}
	return nil
}

// tunnel relays a 101 and then copies bytes both ways, as net/http's
// ReverseProxy does for an upgraded connection (a WebSocket): when one
// side ends its sending, the other side's sending is closed; it returns
// once both directions have ended, a failure in either ending both. The
// connection then closes.
func (ex *exchange) tunnel(res *http1.ResponseHead) bool {
	cc, up := ex.cc, ex.up
	defer up.Close()
	ex.clock.reset(up, 0) // no requestTimeout: a WebSocket may idle
	rc := connectionOf(res.Fields)
	cc.out = ex.appendResponseHead(cc.takeOut(), res, &rc, false, false)
	cc.tally.responded(res.Status, 0)
	if err := cc.writeOut(); err != nil {
		ex.f.clientGone(ex.request(), err)
		return false
	}
	if o := cc.srv.opts.Observer; o != nil {
		o.WebSocket(true)
		defer o.WebSocket(false)
	}
	cc.rdl.set(cc.nc, true, timeZero)
	cc.wdl.set(cc.nc, false, timeZero)
	keepAlive(cc.nc) // no timeout watches a tunnel: let TCP find a vanished client
	up.rdl.set(up, true, timeZero)
	up.wdl.set(up, false, timeZero)
	// Client to backend on a goroutine, backend to client on this one; a
	// failure either way closes both connections, which ends the other.
	done := make(chan struct{})
	go func() {
		defer close(done)
		if copyThenCloseWrite(up.Conn, cc.br) != nil {
			up.Close()
			cc.nc.Close()
		}
	}()
	if copyThenCloseWrite(cc.nc, up.br) != nil {
		up.Close()
		cc.nc.Close()
	}
	<-done // nothing is left using the connection's buffers
	return false
}

// keepAlive turns TCP keep-alive probes on for c (under TLS, for the
// connection beneath), with Go's default timing.
func keepAlive(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		tcp.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true})
	}
}

// copyThenCloseWrite copies src to dst until src ends, then closes dst's
// sending side.
func copyThenCloseWrite(dst io.Writer, src io.Reader) error {
	if _, err := io.Copy(dst, src); err != nil {
		return err
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
