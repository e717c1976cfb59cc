package forwarder

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/roosthq/roost/forwarder/http1"
)

// The backend side of roost's own HTTP/1.1 path: a pool of keep-alive
// connections per backend address. A connection carries one request at a
// time and is read and written by the goroutine of the client connection
// that holds it: no goroutine waits on an idle connection, and nothing is
// handed between goroutines per request.

// upConn is one connection to a backend, with what its requests reuse.
type upConn struct {
	net.Conn
	addr    string
	br      *bufio.Reader
	wbuf    []byte             // the request head being written
	res     http1.ResponseHead // the response head being read
	chunked http1.ChunkedReader
	idleAt  time.Time // when it was put back in the pool
	reused  bool      // it came from the pool: the backend may have closed it since

	// beforeRead, when set, is called before every read from the
	// network: the bufio.Reader reads only once what it holds is used
	// up, so the backend has sent nothing more yet, and what waits for
	// the client is sent first (see clientConn.flushOut).
	beforeRead func()

	// For peerClosed: the raw connection, made once; on Linux, its peek
	// func, made once, and what it found.
	rdl, wdl lazyDeadline // the read and write deadlines

	raw      syscall.RawConn
	peekFn   func(fd uintptr) bool
	peerGone bool
}

func (c *upConn) Read(p []byte) (int, error) {
	if c.beforeRead != nil {
		c.beforeRead()
	}
	return c.Conn.Read(p)
}

// upReadSize is the read buffer of a backend connection: a response head
// larger than it is read again with a buffer of maxResponseHead.
const upReadSize = 4 << 10

// staleCheckAfter is how long a connection idles in the pool before it
// is checked for having been closed by the backend (see peerClosed):
// backends close idle connections after seconds (Node after 5, gunicorn
// after 2), and one reused sooner spares the check's system call.
const staleCheckAfter = 100 * time.Millisecond

// maxResponseHead bounds a backend's response head, as ANCM does.
const maxResponseHead = 64 << 10

// pool holds the idle connections to the backends of one Forwarder.
type pool struct {
	dialer      net.Dialer
	idleTimeout time.Duration
	maxIdle     int           // per address
	staleAfter  time.Duration // staleCheckAfter; 0 in tests

	mu     sync.Mutex
	idle   map[string][]*upConn // by address, the most recently used last
	closed bool
	sweep  *time.Timer // closes connections idle for longer than idleTimeout
}

func newPool(dialTimeout time.Duration) *pool {
	return &pool{
		dialer:      net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second},
		idleTimeout: 90 * time.Second,
		maxIdle:     1024,
		staleAfter:  staleCheckAfter,
		idle:        make(map[string][]*upConn),
	}
}

// errPoolClosed is get's error once the pool is closed: the generation it
// belongs to has been retired.
var errPoolClosed = errors.New("connection pool closed")

// get returns a connection to addr: the most recently used idle one that
// is still open, or a new one.
func (p *pool) get(ctx context.Context, addr string) (*upConn, error) {
	for {
		c, err := p.take(addr)
		if err != nil {
			return nil, err
		}
		if c == nil {
			break
		}
		if time.Since(c.idleAt) < p.staleAfter || !peerClosed(c) {
			c.reused = true
			return c, nil
		}
		c.Close()
	}
	return p.dial(ctx, addr)
}

// take removes the most recent idle connection to addr from the pool, or
// returns nil when there is none that has not idled too long.
func (p *pool) take(addr string) (*upConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	for list := p.idle[addr]; len(list) > 0; list = p.idle[addr] {
		c := list[len(list)-1]
		list[len(list)-1] = nil
		p.idle[addr] = list[:len(list)-1]
		if time.Since(c.idleAt) < p.idleTimeout {
			return c, nil
		}
		c.Close()
	}
	return nil, nil
}

func (p *pool) dial(ctx context.Context, addr string) (*upConn, error) {
	nc, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &upConn{Conn: nc, addr: addr}
	c.br = bufio.NewReaderSize(c, upReadSize)
	return c, nil
}

// put returns c to the pool for the next request to its address. The
// caller has read its last response to the end and written its last
// request whole.
func (p *pool) put(c *upConn) {
	c.idleAt = time.Now()
	c.reused = false
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[c.addr]) >= p.maxIdle {
		c.Close()
		return
	}
	p.idle[c.addr] = append(p.idle[c.addr], c)
	if p.sweep == nil {
		p.sweep = time.AfterFunc(p.idleTimeout, p.sweepIdle)
	}
}

// sweepIdle closes the connections idle for longer than idleTimeout,
// those to a backend that has exited included, and comes back while any
// are left.
func (p *pool) sweepIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep = nil
	if p.closed {
		return
	}
	for addr, list := range p.idle {
		keep := list[:0]
		for _, c := range list {
			if time.Since(c.idleAt) < p.idleTimeout {
				keep = append(keep, c)
			} else {
				c.Close()
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(p.idle, addr)
		} else {
			p.idle[addr] = keep
		}
	}
	if len(p.idle) > 0 {
		p.sweep = time.AfterFunc(p.idleTimeout/2, p.sweepIdle)
	}
}

// peerClosed reports whether the backend has closed c, or sent on it
// unasked, while it sat idle in the pool, with a look that never waits
// (peekClosed, one for each system). Backends close idle keep-alive
// connections after a few seconds (Node's default is 5), and a request
// written to such a connection would fail after it was sent, when it may
// no longer be sent again. A connection without a descriptor is never
// found closed; one whose descriptor cannot be had is taken for closed.
func peerClosed(c *upConn) bool {
	if c.raw == nil {
		sc, ok := c.Conn.(syscall.Conn)
		if !ok {
			return false
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return true
		}
		c.raw = raw
	}
	return c.peekClosed()
}

// forget closes the idle connections to addr: its backend went away.
func (p *pool) forget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle[addr] {
		c.Close()
	}
	delete(p.idle, addr)
}

// close closes every idle connection; connections in use are closed when
// they are put back.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, list := range p.idle {
		for _, c := range list {
			c.Close()
		}
	}
	clear(p.idle)
	if p.sweep != nil {
		p.sweep.Stop()
	}
}
