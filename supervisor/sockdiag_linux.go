//go:build linux

package supervisor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// The inet_diag request and answer (include/uapi/linux/inet_diag.h), which
// golang.org/x/sys/unix does not define. Both are read and written byte by
// byte, in the machine's order except for ports, which are big-endian.
const (
	// struct inet_diag_req_v2: family, protocol, ext, pad (1 byte each),
	// states (4), then struct inet_diag_sockid (48), whose first field is
	// the source port.
	diagReqLen       = 56
	diagReqStatesOff = 4
	diagReqSportOff  = 8
	// struct inet_diag_msg: family, state, timer, retrans (1 byte each),
	// the sockid (48), then expires, rqueue, wqueue, uid and inode (4
	// bytes each).
	diagMsgLen      = 72
	diagMsgStateOff = 1
	diagMsgSportOff = 4
	diagMsgUIDOff   = 64
	diagMsgInodeOff = 68

	tcpListen = 10 // TCP_LISTEN in include/net/tcp_states.h

	// diagBufLen is the receive buffer: the kernel fills at most 32 KiB
	// of a dump per read, so nothing is cut off.
	diagBufLen = 64 << 10
	// diagTimeout bounds each read; the kernel answers at once.
	diagTimeout = time.Second
)

// listener is a listening socket as sock_diag reports it.
type listener struct {
	inode uint64
	uid   uint32
}

// diagListeners asks the kernel, over a NETLINK_SOCK_DIAG socket, for the
// TCP sockets of the caller's network namespace in LISTEN state on port,
// for IPv4 then IPv6. The kernel filters by state and port itself, so the
// cost does not grow with the number of connections. A system without
// IPv6 answers ENOENT for it, taken as no IPv6 listeners.
func diagListeners(port int) ([]listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(diagTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("sock_diag socket: %w", err)
	}
	var all []listener
	for seq, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		found, err := diagDump(fd, uint32(seq+1), family, port)
		if family == unix.AF_INET6 && errors.Is(err, unix.ENOENT) {
			break
		}
		if err != nil {
			return nil, err
		}
		all = append(all, found...)
	}
	return all, nil
}

// diagDump sends one dump request for family and reads its answer.
func diagDump(fd int, seq uint32, family uint8, port int) ([]listener, error) {
	req := diagRequest(seq, family, port)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}
	buf := make([]byte, diagBufLen)
	var found []listener
	for {
		n, flags, err := recvRetry(fd, buf)
		if err != nil {
			return nil, fmt.Errorf("sock_diag answer: %w", err)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return nil, errors.New("sock_diag answer: truncated")
		}
		more, done, err := parseDiag(buf[:n], seq, port)
		if err != nil {
			return nil, err
		}
		found = append(found, more...)
		if done {
			return found, nil
		}
	}
}

// recvRetry reads one datagram, again if a signal interrupted the read.
func recvRetry(fd int, buf []byte) (n, flags int, err error) {
	for {
		n, _, flags, _, err = unix.Recvmsg(fd, buf, nil, 0)
		if !errors.Is(err, unix.EINTR) {
			return n, flags, err
		}
	}
}

// diagRequest builds the netlink message asking for the TCP sockets of
// family in LISTEN state whose local port is port.
func diagRequest(seq uint32, family uint8, port int) []byte {
	ne := binary.NativeEndian
	b := make([]byte, unix.NLMSG_HDRLEN+diagReqLen)
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	r := b[unix.NLMSG_HDRLEN:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(r[diagReqStatesOff:], 1<<tcpListen)
	binary.BigEndian.PutUint16(r[diagReqSportOff:], uint16(port))
	return b
}

// parseDiag reads the netlink messages of one datagram of a dump with
// sequence number seq. It returns the listeners on port that they carry,
// and done once the dump has ended. Messages of another sequence are
// skipped; an NLMSG_ERROR, or an NLMSG_DONE carrying an error, is the
// dump's error. The kernel already filtered by state and port, but both
// are checked again here, for a kernel that ignores the filter.
func parseDiag(b []byte, seq uint32, port int) (found []listener, done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(ne.Uint32(b[0:]))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return nil, false, fmt.Errorf("sock_diag answer: bad message length %d", l)
		}
		typ, mseq, body := ne.Uint16(b[4:]), ne.Uint32(b[8:]), b[unix.NLMSG_HDRLEN:l]
		b = b[min(nlmAlign(l), len(b)):]
		if mseq != seq {
			continue
		}
		switch typ {
		case unix.NLMSG_DONE, unix.NLMSG_ERROR:
			// Both start with an int: 0, or a negated errno. An
			// NLMSG_ERROR of 0 is an acknowledgement, not an end.
			var errno int32
			if len(body) >= 4 {
				errno = int32(ne.Uint32(body))
			}
			if errno < 0 {
				return nil, true, fmt.Errorf("sock_diag: %w", unix.Errno(-errno))
			}
			if typ == unix.NLMSG_DONE {
				return found, true, nil
			}
		case unix.SOCK_DIAG_BY_FAMILY:
			if ln, ok := diagListener(body, port); ok {
				found = append(found, ln)
			}
		}
	}
	return found, false, nil
}

// nlmAlign rounds a netlink message length up to NLMSG_ALIGNTO.
func nlmAlign(l int) int {
	return (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
}

// diagListener reads an inet_diag_msg, and reports whether it is a socket
// in LISTEN state on port. Inode 0 is a socket being torn down, which no
// fd refers to.
func diagListener(m []byte, port int) (listener, bool) {
	if len(m) < diagMsgLen || m[diagMsgStateOff] != tcpListen ||
		int(binary.BigEndian.Uint16(m[diagMsgSportOff:])) != port {
		return listener{}, false
	}
	ne := binary.NativeEndian
	ln := listener{inode: uint64(ne.Uint32(m[diagMsgInodeOff:])), uid: ne.Uint32(m[diagMsgUIDOff:])}
	return ln, ln.inode != 0
}
