//go:build linux

package supervisor

import (
	"encoding/binary"
	"errors"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"
)

// sock_diag and /proc/net must name the same listeners, and neither may
// name a connection on the port.
func TestDiagAgreesWithProc(t *testing.T) {
	ln4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln4.Close()
	port := ln4.Addr().(*net.TCPAddr).Port
	want := 1
	if ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		defer ln6.Close()
		want = 2
	} else {
		t.Logf("no IPv6 listener beside the IPv4 one: %v", err)
	}
	c, err := net.Dial("tcp4", ln4.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	lns, err := diagListeners(port)
	if err != nil {
		t.Fatalf("diagListeners: %v", err)
	}
	diag := make(map[uint64]bool)
	for _, ln := range lns {
		diag[ln.inode] = true
		if ln.uid != uint32(os.Getuid()) {
			t.Errorf("listener %d has uid %d, want %d", ln.inode, ln.uid, os.Getuid())
		}
	}
	proc, err := procListenInodes(port)
	if err != nil {
		t.Fatal(err)
	}
	if len(lns) != want || !maps.Equal(diag, proc) {
		t.Errorf("sock_diag found %v, /proc/net %v; want the same %d listeners", lns, slices.Sorted(maps.Keys(proc)), want)
	}
}

func TestDiagRequest(t *testing.T) {
	b := diagRequest(7, unix.AF_INET6, 0x1f90)
	ne := binary.NativeEndian
	if len(b) != 72 || ne.Uint32(b) != 72 || ne.Uint16(b[4:]) != unix.SOCK_DIAG_BY_FAMILY ||
		ne.Uint16(b[6:]) != unix.NLM_F_REQUEST|unix.NLM_F_DUMP || ne.Uint32(b[8:]) != 7 {
		t.Errorf("header % x", b[:unix.NLMSG_HDRLEN])
	}
	r := b[unix.NLMSG_HDRLEN:]
	if r[0] != unix.AF_INET6 || r[1] != unix.IPPROTO_TCP || ne.Uint32(r[4:]) != 1<<10 || r[8] != 0x1f || r[9] != 0x90 {
		t.Errorf("request % x", r)
	}
}

// diagMsg builds a netlink message of type typ with sequence seq and body.
func diagMsg(typ uint16, seq uint32, body []byte) []byte {
	ne := binary.NativeEndian
	b := make([]byte, unix.NLMSG_HDRLEN, nlmAlign(unix.NLMSG_HDRLEN+len(body)))
	ne.PutUint32(b[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	ne.PutUint16(b[4:], typ)
	ne.PutUint32(b[8:], seq)
	b = append(b, body...)
	return b[:cap(b)]
}

// diagSock builds an inet_diag_msg body.
func diagSock(state uint8, port int, uid, inode uint32) []byte {
	m := make([]byte, diagMsgLen)
	m[diagMsgStateOff] = state
	binary.BigEndian.PutUint16(m[diagMsgSportOff:], uint16(port))
	binary.NativeEndian.PutUint32(m[diagMsgUIDOff:], uid)
	binary.NativeEndian.PutUint32(m[diagMsgInodeOff:], inode)
	return m
}

// errBody is the int that starts NLMSG_DONE and NLMSG_ERROR, with room
// for NLMSG_ERROR's copy of the request header.
func errBody(errno int32) []byte {
	b := make([]byte, unix.SizeofNlMsgerr)
	binary.NativeEndian.PutUint32(b, uint32(errno))
	return b
}

func TestParseDiag(t *testing.T) {
	const seq, port = 3, 8080
	sock := func(state uint8, port int, inode uint32) []byte {
		return diagMsg(unix.SOCK_DIAG_BY_FAMILY, seq, diagSock(state, port, 1000, inode))
	}
	for _, tc := range []struct {
		name string
		data []byte
		want []listener
		done bool
		err  error
	}{
		{"empty", nil, nil, false, nil},
		{"listeners, then done", slices.Concat(
			sock(tcpListen, port, 11),
			sock(1, port, 12),                                       // ESTABLISHED
			sock(tcpListen, port+1, 13),                             // another port
			sock(tcpListen, port, 0),                                // no inode
			diagMsg(unix.SOCK_DIAG_BY_FAMILY, seq, make([]byte, 8)), // short
			diagMsg(unix.SOCK_DIAG_BY_FAMILY, seq+1, diagSock(tcpListen, port, 0, 14)), // another dump
			sock(tcpListen, port, 15),
			diagMsg(unix.NLMSG_DONE, seq, errBody(0)),
		), []listener{{11, 1000}, {15, 1000}}, true, nil},
		{"not done yet", sock(tcpListen, port, 11), []listener{{11, 1000}}, false, nil},
		{"done without a body", diagMsg(unix.NLMSG_DONE, seq, nil), nil, true, nil},
		{"acknowledgement", diagMsg(unix.NLMSG_ERROR, seq, errBody(0)), nil, false, nil},
		{"error", slices.Concat(sock(tcpListen, port, 11), diagMsg(unix.NLMSG_ERROR, seq, errBody(-int32(unix.ENOENT)))), nil, true, unix.ENOENT},
		{"dump failed", diagMsg(unix.NLMSG_DONE, seq, errBody(-int32(unix.EINTR))), nil, true, unix.EINTR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, done, err := parseDiag(tc.data, seq, port)
			if !slices.Equal(got, tc.want) || done != tc.done || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Errorf("parseDiag = %v, %v, %v; want %v, %v, %v", got, done, err, tc.want, tc.done, tc.err)
			}
		})
	}
	for _, l := range []uint32{0, unix.NLMSG_HDRLEN - 1, 100} {
		b := diagMsg(unix.NLMSG_DONE, seq, errBody(0))
		binary.NativeEndian.PutUint32(b, l)
		if _, _, err := parseDiag(b, seq, port); err == nil {
			t.Errorf("parseDiag of a message of length %d in %d bytes: no error", l, len(b))
		}
	}
}

// When sock_diag fails, /proc/net answers instead, and the switch is
// logged once.
func TestOwnerWithoutDiag(t *testing.T) {
	t.Cleanup(func() {
		readDiag = diagListeners
		diagOff.Store(false)
	})
	readDiag = func(int) ([]listener, error) { return nil, unix.EPROTONOSUPPORT }
	diagOff.Store(false)
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for range 2 {
		found, owned, holder, err := portOwner(port, os.Getpid(), log)
		if err != nil || !found || !owned || holder != 0 {
			t.Errorf("portOwner(%d, self) = %v, %v, %d, %v; want true, true, 0, nil", port, found, owned, holder, err)
		}
	}
	if n := logs.FilterLevelExact(zapcore.DebugLevel).Len(); n != 1 || logs.Len() != 1 {
		t.Errorf("%d lines, %d at debug; want 1 at debug:\n%v", logs.Len(), n, logs.All())
	}
}
