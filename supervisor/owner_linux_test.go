//go:build linux

package supervisor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/zap"
)

// ownerHelperEnv makes the test binary, run again as a child, act as one of the
// helper processes of TestOwnerHelperProcess instead of running tests.
const ownerHelperEnv = "ROOST_OWNER_HELPER"

// ownerHelperTimeout bounds how long a helper may take to report its port. It
// is generous because a -race binary on a loaded machine starts slowly.
const ownerHelperTimeout = 30 * time.Second

// TestOwnerHelperProcess is not a test: it is the body of the helper
// processes, selected by ownerHelperEnv.
//
//	1           listen on 127.0.0.1:0, print the port, wait for stdin EOF
//	idle        wait for stdin EOF, listening on nothing
//	grandchild  start a "1" helper in a process group of its own, relay
//	            its port, wait for stdin EOF
//
// A helper ends with os.Exit(0) so that no test summary reaches stdout.
func TestOwnerHelperProcess(t *testing.T) {
	mode := os.Getenv(ownerHelperEnv)
	if mode == "" {
		return
	}
	if err := runOwnerHelper(mode); err != nil {
		fmt.Fprintf(os.Stderr, "owner helper %s: %v\n", mode, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runOwnerHelper(mode string) error {
	switch mode {
	case "1":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	case "idle":
	case "grandchild":
		cmd := ownerHelperCommand("1", &syscall.SysProcAttr{Setpgid: true})
		cmd.Stderr = os.Stderr
		// Our stdin ends when we die, even by SIGKILL, and the grandchild
		// then sees EOF and exits: it is never left behind.
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		r, w, err := os.Pipe()
		if err != nil {
			return err
		}
		cmd.Stdout = w
		if err := cmd.Start(); err != nil {
			return err
		}
		w.Close()
		port, err := readHelperPort(r)
		if err != nil {
			return err
		}
		fmt.Println(port)
		defer cmd.Wait()
		defer stdin.Close()
	default:
		return fmt.Errorf("unknown mode")
	}
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}

// ownerHelperCommand returns a command that runs this test binary as a helper.
func ownerHelperCommand(mode string, attr *syscall.SysProcAttr) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestOwnerHelperProcess$")
	// The last value of a duplicated variable wins, so a helper that starts
	// another one can override its own mode.
	cmd.Env = append(os.Environ(), ownerHelperEnv+"="+mode)
	cmd.SysProcAttr = attr
	return cmd
}

// readHelperPort returns the first line of r that is a port number. Other lines
// are skipped in case the testing package ever prints something first.
func readHelperPort(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if p, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil && p > 0 && p < 1<<16 {
			return p, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, io.ErrUnexpectedEOF
}

// ownerHelper is a running helper process.
type ownerHelper struct {
	pid  int
	port int // 0 for a helper that does not listen
}

// startOwnerHelper starts a helper in mode, each in a process group of its
// own unless attr says otherwise, and waits for its port when it listens.
// The helper is stopped and reaped when the test ends.
func startOwnerHelper(t *testing.T, mode string, attr *syscall.SysProcAttr) ownerHelper {
	t.Helper()
	if attr == nil {
		attr = &syscall.SysProcAttr{Setpgid: true}
	}
	cmd := ownerHelperCommand(mode, attr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("start helper: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		// EOF on stdin lets a helper end by itself, and a "grandchild"
		// helper reap its child first; Kill is for one that hangs.
		stdin.Close()
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		select {
		case <-exited:
		case <-time.After(ownerHelperTimeout):
			cmd.Process.Kill()
			<-exited
		}
		// Only now: a read of r may still be pending after a timeout, and
		// the helper's death is what ends it.
		r.Close()
	})
	h := ownerHelper{pid: cmd.Process.Pid}
	if mode == "idle" {
		return h
	}
	type result struct {
		port int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		p, err := readHelperPort(r)
		done <- result{p, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("helper %s: read port: %v", mode, res.err)
		}
		h.port = res.port
	case <-time.After(ownerHelperTimeout):
		t.Fatalf("helper %s: no port after %v", mode, ownerHelperTimeout)
	}
	return h
}

// procStatOf returns the parent pid and process group of a live process.
func procStatOf(t *testing.T, pid int) (ppid, pgrp int) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	ppid, pgrp, ok := parseStat(data)
	if !ok {
		t.Fatalf("cannot parse /proc/%d/stat: %q", pid, data)
	}
	return ppid, pgrp
}

func TestOwnerSelf(t *testing.T) {
	for _, tc := range []struct{ network, addr string }{
		{"tcp4", "127.0.0.1:0"},
		{"tcp4", "0.0.0.0:0"},
		{"tcp6", "[::1]:0"},
		{"tcp6", "[::]:0"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			ln, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				if tc.network == "tcp6" {
					t.Skipf("no IPv6: %v", err)
				}
				t.Fatal(err)
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			found, owned, holder, err := portOwner(port, os.Getpid(), zap.NewNop())
			if err != nil || !found || !owned || holder != 0 {
				t.Errorf("portOwner(%d, self) = %v, %v, %d, %v; want true, true, 0, nil", port, found, owned, holder, err)
			}
		})
	}
}

func TestOwnerNoListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	found, owned, holder, err := portOwner(port, os.Getpid(), zap.NewNop())
	if err != nil || found || owned || holder != 0 {
		t.Errorf("portOwner(%d, self) = %v, %v, %d, %v; want false, false, 0, nil", port, found, owned, holder, err)
	}
}

// A connection that is not a listener must not count: the supervisor's
// own probe connection to the port would otherwise look like a holder.
func TestOwnerIgnoresConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln.Close()
	found, _, _, err := portOwner(port, os.Getpid(), zap.NewNop())
	if err != nil || found {
		t.Errorf("portOwner(%d, self) with only connections = found %v, err %v; want false, nil", port, found, err)
	}
}

func TestOwnerOtherProcess(t *testing.T) {
	lst := startOwnerHelper(t, "1", nil)
	idle := startOwnerHelper(t, "idle", nil)

	found, owned, holder, err := portOwner(lst.port, lst.pid, zap.NewNop())
	if err != nil || !found || !owned || holder != 0 {
		t.Errorf("portOwner(port, helper) = %v, %v, %d, %v; want true, true, 0, nil", found, owned, holder, err)
	}
	// The helper is our child, so it is in our tree too.
	found, owned, holder, err = portOwner(lst.port, os.Getpid(), zap.NewNop())
	if err != nil || !found || !owned || holder != 0 {
		t.Errorf("portOwner(port, self) = %v, %v, %d, %v; want true, true, 0, nil", found, owned, holder, err)
	}
	// The idle helper is a sibling of the listener: not its tree.
	found, owned, holder, err = portOwner(lst.port, idle.pid, zap.NewNop())
	if err != nil || !found || owned || holder != lst.pid {
		t.Errorf("portOwner(port, idle helper) = %v, %v, %d, %v; want true, false, %d, nil", found, owned, holder, err, lst.pid)
	}
}

// A descendant in a process group of its own still belongs to the tree,
// through its parent.
func TestOwnerGrandchild(t *testing.T) {
	mid := startOwnerHelper(t, "grandchild", nil)
	idle := startOwnerHelper(t, "idle", nil)

	found, owned, holder, err := portOwner(mid.port, mid.pid, zap.NewNop())
	if err != nil || !found || !owned || holder != 0 {
		t.Errorf("portOwner(port, middle helper) = %v, %v, %d, %v; want true, true, 0, nil", found, owned, holder, err)
	}
	found, owned, holder, err = portOwner(mid.port, os.Getpid(), zap.NewNop())
	if err != nil || !found || !owned {
		t.Errorf("portOwner(port, self) = %v, %v, %d, %v; want true, true, 0, nil", found, owned, holder, err)
	}
	// From an unrelated root, the holder is the grandchild itself: this
	// proves that the middle helper does not hold the socket, so the
	// answer above came from the parent rule and not the group rule.
	found, owned, holder, err = portOwner(mid.port, idle.pid, zap.NewNop())
	if err != nil || !found || owned || holder == 0 || holder == mid.pid {
		t.Fatalf("portOwner(port, idle helper) = %v, %v, %d, %v; want true, false, the grandchild's pid, nil", found, owned, holder, err)
	}
	ppid, pgrp := procStatOf(t, holder)
	if ppid != mid.pid || pgrp != holder {
		t.Errorf("grandchild %d has ppid %d and pgrp %d; want %d and %d", holder, ppid, pgrp, mid.pid, holder)
	}
}

// A member of the root's process group belongs to the tree even when it
// is not the root's descendant.
func TestOwnerGroupMember(t *testing.T) {
	leader := startOwnerHelper(t, "idle", nil)
	member := startOwnerHelper(t, "1", &syscall.SysProcAttr{Setpgid: true, Pgid: leader.pid})
	other := startOwnerHelper(t, "idle", nil)

	ppid, pgrp := procStatOf(t, member.pid)
	if ppid != os.Getpid() || pgrp != leader.pid {
		t.Fatalf("member has ppid %d and pgrp %d; want %d and %d", ppid, pgrp, os.Getpid(), leader.pid)
	}
	found, owned, holder, err := portOwner(member.port, leader.pid, zap.NewNop())
	if err != nil || !found || !owned || holder != 0 {
		t.Errorf("portOwner(port, group leader) = %v, %v, %d, %v; want true, true, 0, nil", found, owned, holder, err)
	}
	found, owned, holder, err = portOwner(member.port, other.pid, zap.NewNop())
	if err != nil || !found || owned || holder != member.pid {
		t.Errorf("portOwner(port, other helper) = %v, %v, %d, %v; want true, false, %d, nil", found, owned, holder, err, member.pid)
	}
}

func TestOwnerTree(t *testing.T) {
	procs := []procStat{
		{pid: 1, ppid: 0, pgrp: 1},
		{pid: 10, ppid: 1, pgrp: 10},  // root
		{pid: 11, ppid: 10, pgrp: 10}, // child
		{pid: 12, ppid: 11, pgrp: 12}, // grandchild in its own group
		{pid: 20, ppid: 1, pgrp: 10},  // group member reparented to init
		{pid: 21, ppid: 20, pgrp: 21}, // its child, in its own group
		{pid: 30, ppid: 1, pgrp: 30},  // unrelated
		{pid: 31, ppid: 30, pgrp: 10}, // group member with an unrelated parent
		{pid: 32, ppid: 30, pgrp: 30}, // unrelated sibling of 31
	}
	tree := ownerTree(10, procs)
	var got []int
	for pid := range tree {
		got = append(got, pid)
	}
	slices.Sort(got)
	want := []int{10, 11, 12, 20, 21, 31}
	if !slices.Equal(got, want) {
		t.Errorf("ownerTree(10) = %v, want %v", got, want)
	}
	// A root that has exited is still in its own tree, with its group.
	got = got[:0]
	for pid := range ownerTree(99, []procStat{{pid: 40, ppid: 1, pgrp: 99}, {pid: 41, ppid: 40, pgrp: 41}}) {
		got = append(got, pid)
	}
	slices.Sort(got)
	if want := []int{40, 41, 99}; !slices.Equal(got, want) {
		t.Errorf("ownerTree(99) = %v, want %v", got, want)
	}
}

func TestOwnerSocketInode(t *testing.T) {
	for _, tc := range []struct {
		link string
		ino  uint64
		ok   bool
	}{
		{"socket:[12345]", 12345, true},
		{"socket:[18446744073709551615]", 18446744073709551615, true},
		{"socket:[]", 0, false},
		{"socket:[12", 0, false},
		{"pipe:[12345]", 0, false},
		{"anon_inode:[eventpoll]", 0, false},
		{"/dev/null", 0, false},
	} {
		ino, ok := socketInode(tc.link)
		if ino != tc.ino || ok != tc.ok {
			t.Errorf("socketInode(%q) = %d, %v; want %d, %v", tc.link, ino, ok, tc.ino, tc.ok)
		}
	}
}

func TestParseProcNetTCP(t *testing.T) {
	const header4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	const header6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	line := func(local, st, inode string) string {
		return "   0: " + local + " 00000000:0000 " + st + " 00000000:00000000 00:00000000 00000000  1000        0 " + inode + " 1 00000000df07934a 100 0 0 10 0\n"
	}
	for _, tc := range []struct {
		name  string
		input string
		port  int
		want  []uint64
	}{
		{"empty", "", 8080, nil},
		{"header only", header4, 8080, nil},
		{
			"ipv4",
			header4 +
				line("00000000:1F90", "0A", "111") + // 0.0.0.0:8080 LISTEN
				line("0100007F:1F90", "01", "222") + // ESTABLISHED
				line("0100007F:1F91", "0A", "333") + // other port
				line("0100007F:1F90", "0A", "0") + // no inode
				line("0100007F:1F90", "0A", "444"), // 127.0.0.1:8080 LISTEN
			8080,
			[]uint64{111, 444},
		},
		{
			"ipv6",
			header6 +
				"   0: 00000000000000000000000001000000:9855 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31119 1 00000000536953d3 100 0 0 10 0\n" +
				"   1: 00000000000000000000000000000000:9855 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31120 1 00000000536953d3 100 0 0 10 0\n" +
				"   2: 00000000000000000000000001000000:9855 00000000000000000000000001000000:A000 01 00000000:00000000 00:00000000 00000000     0        0 31121 1 00000000536953d3 100 0 0 10 0\n",
			0x9855,
			[]uint64{31119, 31120},
		},
		{"no trailing newline", strings.TrimSuffix(line("0100007F:0050", "0A", "7"), "\n"), 80, []uint64{7}},
		{"high port", line("0100007F:FFFF", "0A", "8"), 65535, []uint64{8}},
		{
			"malformed lines are skipped",
			"   0: 0100007F:1F90 00000000:0000 0A\n" + // too short
				line("0100007F1F90", "0A", "1") + // no colon
				line("0100007F:ZZZZ", "0A", "2") + // bad port
				line("0100007F:11F90", "0A", "3") + // port out of range
				line("0100007F:1F90", "0A", "x") + // bad inode
				line("0100007F:1F90", "0a", "4") + // not the kernel's spelling
				line("0100007F:1F90", "0A", "5"),
			8080,
			[]uint64{5},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcNetTCP(strings.NewReader(tc.input), tc.port)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		r := io.MultiReader(strings.NewReader(header4+line("0100007F:1F90", "0A", "1")), iotest.ErrReader(boom))
		if _, err := parseProcNetTCP(r, 8080); !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
	})
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		data       string
		ppid, pgrp int
		ok         bool
	}{
		{"1234 (bash) S 1 1234 1234 34816 20450 4194304 100 0 1 0\n", 1, 1234, true},
		{"20453 (cat) R 20450 20450 20092 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 1 0 124278", 20450, 20450, true},
		{"5 ((a) b (c)) S 42 7 7 0 -1\n", 42, 7, true},
		{"5 (a) b (c) S 42 7 7 0 -1\n", 42, 7, true},
		{"6 ()) S 3 6 6 0 -1\n", 3, 6, true},
		{"7 (x y) S 2 0\n", 2, 0, true},
		{"7 (x y) S 2 0", 2, 0, true},
		{"8 (kworker/0:1-events) I 2 0 0 0 -1\n", 2, 0, true},
		// A comm that imitates the fields that follow it.
		{"13 (evil) S 99 99) S 1 13 13 0 -1\n", 1, 13, true},
		{"9 bash S 1 9 9\n", 0, 0, false},
		{"10 (x) S 1\n", 0, 0, false},
		{"10 (x) S 1 \n", 0, 0, false},
		{"10 (x)", 0, 0, false},
		{"11 (x) S a 11 11\n", 0, 0, false},
		{"11 (x) S 1 b 11\n", 0, 0, false},
		{"11 (x) S -1 11 11\n", 0, 0, false},
		{"", 0, 0, false},
	} {
		ppid, pgrp, ok := parseStat([]byte(tc.data))
		if ppid != tc.ppid || pgrp != tc.pgrp || ok != tc.ok {
			t.Errorf("parseStat(%q) = %d, %d, %v; want %d, %d, %v", tc.data, ppid, pgrp, ok, tc.ppid, tc.pgrp, tc.ok)
		}
	}
}

// Two processes may listen on one port, on different addresses: the tree
// owns the port only if it holds every listener, or a connection could
// reach the other process.
func TestOwnerSplitListeners(t *testing.T) {
	lst := startOwnerHelper(t, "1", nil)
	ln, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(lst.port)))
	if err != nil {
		t.Skipf("cannot listen on [::1]:%d beside the helper's 127.0.0.1: %v", lst.port, err)
	}
	defer ln.Close()
	found, owned, holder, err := portOwner(lst.port, lst.pid, zap.NewNop())
	if err != nil || !found || owned || holder != os.Getpid() {
		t.Errorf("portOwner(port, helper) = %v, %v, %d, %v; want true, false, %d (the other listener), nil", found, owned, holder, err, os.Getpid())
	}
}

// BenchmarkPortOwner measures one ownership check of a port that this
// process listens on, as a probe makes once the port accepts connections.
func BenchmarkPortOwner(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for b.Loop() {
		found, owned, _, err := portOwner(port, os.Getpid(), zap.NewNop())
		if err != nil || !found || !owned {
			b.Fatalf("portOwner = %v, %v, %v; want true, true, nil", found, owned, err)
		}
	}
}

// BenchmarkListenInodes compares the two ways of finding the listeners on
// a port, on a quiet machine and with 1000 more loopback connections open:
// reading /proc/net/tcp costs more with every socket of the namespace.
func BenchmarkListenInodes(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	ways := []struct {
		name string
		read func(int) (map[uint64]bool, error)
	}{
		{"sock_diag", func(port int) (map[uint64]bool, error) { return listenInodes(port, zap.NewNop()) }},
		{"proc", procListenInodes},
	}
	for _, conns := range []int{0, 1000} {
		if conns > 0 {
			openConns(b, conns)
		}
		for _, w := range ways {
			b.Run(w.name+"/conns="+strconv.Itoa(conns), func(b *testing.B) {
				for b.Loop() {
					if inodes, err := w.read(port); err != nil || len(inodes) != 1 {
						b.Fatalf("%d listeners, %v; want 1, nil", len(inodes), err)
					}
				}
			})
		}
	}
}

// openConns opens n loopback connections, closed when the benchmark ends.
func openConns(b *testing.B, n int) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { other.Close() })
	for range n {
		c, err := net.Dial("tcp", other.Addr().String())
		if err != nil {
			b.Skipf("cannot open %d connections: %v", n, err)
		}
		b.Cleanup(func() { c.Close() })
		s, err := other.Accept()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
	}
}
