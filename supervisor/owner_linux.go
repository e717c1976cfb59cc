//go:build linux

package supervisor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync/atomic"

	"go.uber.org/zap"
)

// portOwner looks for TCP sockets in LISTEN state on port (IPv4 or IPv6,
// any local address: 127.0.0.1, 0.0.0.0, ::1, ::) and reports whether the
// processes of the tree rooted at root hold every one of them. The tree is
// root, every descendant of root by parent pid, and every member of
// process group root. found is false when no such listening socket is
// visible in the caller's network namespace. When found && !owned, holder is the pid of a process
// outside the tree that holds one of the sockets, or 0 if none could be
// seen (another user's process, or another network namespace). log gets
// one debug line, once per process, if the listeners have to be read from
// /proc/net because sock_diag failed.
//
// Every listener must be the tree's, not just one: another process may
// listen on 127.0.0.1:port while the backend listens on [::1]:port (or
// both with SO_REUSEPORT), and a connection to the port would then reach
// the other process.
func portOwner(port, root int, log *zap.Logger) (found, owned bool, holder int, err error) {
	inodes, err := listenInodes(port, log)
	if err != nil {
		return false, false, 0, err
	}
	if len(inodes) == 0 {
		return false, false, 0, nil
	}
	// The root first and alone: it usually holds the sockets itself, and
	// then neither the process list nor any other fd table is read.
	held := heldSockets(root, inodes)
	if len(held) == len(inodes) {
		return true, true, 0, nil
	}
	if held == nil {
		held = make(map[uint64]bool)
	}
	procs, err := readProcs()
	if err != nil {
		return true, false, 0, err
	}
	tree := ownerTree(root, procs)
	// Then the rest of the tree, alone too: it is small, and the usual
	// answer is found there without touching any other process's fds.
	for pid := range tree {
		if pid == root {
			continue
		}
		for ino := range heldSockets(pid, inodes) {
			held[ino] = true
		}
	}
	if len(held) == len(inodes) {
		return true, true, 0, nil
	}
	others := make(map[uint64]bool)
	for ino := range inodes {
		if !held[ino] {
			others[ino] = true
		}
	}
	for _, p := range procs {
		if !tree[p.pid] && len(heldSockets(p.pid, others)) > 0 {
			return true, false, p.pid, nil
		}
	}
	return true, false, 0, nil
}

// diagOff is set once sock_diag has failed (and the failure was logged):
// from then on the listeners are read from /proc/net.
var diagOff atomic.Bool

// readDiag is diagListeners, but for the tests that make it fail.
var readDiag = diagListeners

// listenInodes returns the inodes of the sockets listening on port, in the
// caller's network namespace. It asks sock_diag, which takes tens of
// microseconds, and falls back for good on /proc/net/tcp and tcp6, which
// take milliseconds (the kernel prints every socket of the namespace),
// the first time that fails.
func listenInodes(port int, log *zap.Logger) (map[uint64]bool, error) {
	if !diagOff.Load() {
		lns, err := readDiag(port)
		if err == nil {
			inodes := make(map[uint64]bool, len(lns))
			for _, ln := range lns {
				inodes[ln.inode] = true
			}
			return inodes, nil
		}
		if diagOff.CompareAndSwap(false, true) {
			log.Debug("listening sockets are read from /proc/net from now on: sock_diag failed", zap.Error(err))
		}
	}
	return procListenInodes(port)
}

// procListenInodes returns the inodes of the sockets listening on port,
// from /proc/net/tcp and /proc/net/tcp6. These files show the sockets of
// the caller's network namespace only.
func procListenInodes(port int) (map[uint64]bool, error) {
	inodes := make(map[uint64]bool)
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			// A kernel without IPv6 has no tcp6 file; that is not an error.
			if name == "/proc/net/tcp6" && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("read sockets: %w", err)
		}
		found, err := parseProcNetTCP(f, port)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		for _, ino := range found {
			inodes[ino] = true
		}
	}
	return inodes, nil
}

// parseProcNetTCP reads a /proc/net/tcp or /proc/net/tcp6 table and returns
// the inodes of its sockets in LISTEN state whose local port is port.
// Lines it cannot make sense of, the header among them, are skipped: one
// odd line must not hide the others.
func parseProcNetTCP(r io.Reader, port int) (inodes []uint64, err error) {
	const (
		localField = 1
		stateField = 3
		inodeField = 9
		listen     = "0A" // TCP_LISTEN in include/net/tcp_states.h
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) <= inodeField || fields[stateField] != listen {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[localField], ":")
		if !ok {
			continue
		}
		p, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(p) != port {
			continue
		}
		ino, err := strconv.ParseUint(fields[inodeField], 10, 64)
		// Inode 0 is a socket being torn down, which no fd refers to.
		if err != nil || ino == 0 {
			continue
		}
		inodes = append(inodes, ino)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return inodes, nil
}

// procStat is what the tree needs of a process.
type procStat struct {
	pid, ppid, pgrp int
}

// readProcs lists the processes in /proc. Processes that exit during the
// listing, or whose stat cannot be read, are left out.
func readProcs() ([]procStat, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make([]procStat, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue // not a process: self, net, sys, ...
		}
		data, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue
		}
		ppid, pgrp, ok := parseStat(data)
		if !ok {
			continue
		}
		procs = append(procs, procStat{pid: pid, ppid: ppid, pgrp: pgrp})
	}
	return procs, nil
}

// parseStat returns the parent pid and the process group from the content
// of /proc/<pid>/stat. The second field, comm, is in parentheses and may
// itself hold spaces and parentheses, so the fields are counted from the
// last ')'.
func parseStat(data []byte) (ppid, pgrp int, ok bool) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, false
	}
	// After comm: state, ppid, pgrp, then more that is not needed.
	var fields [3][]byte
	rest := data[i+1:]
	for n := range fields {
		rest = bytes.TrimLeft(rest, " ")
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		if end == 0 {
			return 0, 0, false
		}
		fields[n], rest = rest[:end], rest[end:]
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil || ppid < 0 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(fields[2]))
	if err != nil || pgrp < 0 {
		return 0, 0, false
	}
	return ppid, pgrp, true
}

// ownerTree returns the pids of root, of the members of process group
// root, and of all their descendants. The group is included because a
// backend started with Setpgid may hand its socket to a process that was
// reparented away from it (a daemonizing launcher); descendants are
// included because a child may have moved to a group of its own.
func ownerTree(root int, procs []procStat) map[int]bool {
	children := make(map[int][]int)
	tree := map[int]bool{root: true}
	queue := []int{root}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
		if p.pgrp == root && !tree[p.pid] {
			tree[p.pid] = true
			queue = append(queue, p.pid)
		}
	}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if !tree[c] {
				tree[c] = true
				queue = append(queue, c)
			}
		}
	}
	return tree
}

// heldSockets returns which of the socket inodes process pid has an fd
// open on. Any error means none: the process may have exited, or belong to
// another user (EACCES), and the scan is best effort.
func heldSockets(pid int, inodes map[uint64]bool) map[uint64]bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	// On an error midway, the names read so far are still worth checking.
	names, _ := d.Readdirnames(-1)
	d.Close()
	var held map[uint64]bool
	for _, name := range names {
		link, err := os.Readlink(dir + name)
		if err != nil {
			continue // closed since the listing
		}
		if ino, ok := socketInode(link); ok && inodes[ino] {
			if held == nil {
				held = make(map[uint64]bool)
			}
			held[ino] = true
		}
	}
	return held
}

// socketInode parses an fd link of the form "socket:[12345]".
func socketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "]")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(s, 10, 64)
	return ino, err == nil
}
