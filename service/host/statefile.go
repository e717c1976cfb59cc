package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The state file tells `roost status` where the admin listener of the
// roost that runs an app is. There is one per app folder, named by
// stateName, in the first of stateDirs(true) where it can be written; it
// is removed when roost stops cleanly. A roost that was killed leaves its
// file behind: QueryStatus finds it stale when nothing answers at its
// address with its pid, and the next roost for the app replaces it.

// stateFile is the state file's content.
type stateFile struct {
	PID       int       `json:"pid"`       // roost's
	Admin     string    `json:"admin"`     // host:port to connect to
	AppDir    string    `json:"appDir"`    // the app folder, absolute
	StartedAt time.Time `json:"startedAt"` // when roost started
}

// stateName is the state file's name for the app in appDir: the folder's
// base name, for people who list the folder, and a hash of its canonical
// path, so that two apps never share a file.
func stateName(appDir string) string {
	canon := canonicalDir(appDir)
	sum := sha256.Sum256([]byte(canon))
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, filepath.Base(canon))
	if len(base) > 40 {
		base = base[:40]
	}
	return base + "-" + hex.EncodeToString(sum[:8]) + ".json"
}

// canonicalDir is dir made absolute, with symbolic links resolved where
// it exists, and in the letter case the system compares names with (see
// foldCase), so that every spelling of one folder gives one name.
func canonicalDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return foldCase(filepath.Clean(dir))
}

// writeStateFile writes the state file of a roost whose admin listener
// is at admin, in the first state folder where it can, replacing it
// whole. It returns the file's path.
func writeStateFile(sf stateFile) (string, error) {
	data, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return "", err
	}
	data = append(data, '\n')
	var errs []error
	for _, dir := range stateDirs(true) {
		path := filepath.Join(dir, stateName(sf.AppDir))
		if err := writeReplacing(path, data); err != nil {
			errs = append(errs, err)
			continue
		}
		return path, nil
	}
	return "", errors.Join(errs...)
}

// writeReplacing writes data to path through a temporary file renamed
// over it, so that a reader never sees half a file. Others may read it:
// it holds an address and a pid, which anyone on the machine may find.
func writeReplacing(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// readStateFile reads the state file at path.
func readStateFile(path string) (stateFile, error) {
	var sf stateFile
	data, err := os.ReadFile(path)
	if err != nil {
		return sf, err
	}
	if err := json.Unmarshal(data, &sf); err != nil {
		return sf, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

// removeStateFile removes the state file at path if it is still the one
// of the roost with pid: another roost for the same app may have
// replaced it meanwhile.
func removeStateFile(path string, pid int) error {
	sf, err := readStateFile(path)
	if err != nil || sf.PID != pid {
		return nil
	}
	return os.Remove(path)
}

// ErrNotRunning is QueryStatus's error when no roost with an admin
// listener runs for the app.
var ErrNotRunning = errors.New("no roost runs for this app")

// QueryStatus finds the roost that runs the app in appDir through its
// state file, and asks its admin listener for its status. When no roost
// answers there with the pid of the file (or there is no file), the
// error is ErrNotRunning, wrapped with the stale files' names if any.
func QueryStatus(ctx context.Context, appDir string) (*Status, error) {
	name := stateName(appDir)
	var stale []string
	for _, dir := range stateDirs(false) {
		path := filepath.Join(dir, name)
		sf, err := readStateFile(path)
		if err != nil || canonicalDir(sf.AppDir) != canonicalDir(appDir) {
			continue
		}
		if st, err := fetchStatus(ctx, sf.Admin); err == nil && st.Roost.PID == sf.PID {
			return st, nil
		}
		stale = append(stale, fmt.Sprintf("%s (pid %d)", path, sf.PID))
	}
	if len(stale) > 0 {
		return nil, fmt.Errorf("%w (stale state file %s: that roost did not stop cleanly)", ErrNotRunning, strings.Join(stale, ", "))
	}
	return nil, ErrNotRunning
}

// fetchStatus asks the admin listener at addr (host:port) for /status.
func fetchStatus(ctx context.Context, addr string) (*Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{Proxy: nil} // loopback: never through a proxy
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET http://%s/status: %s", addr, resp.Status)
	}
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("GET http://%s/status: %w", addr, err)
	}
	return &st, nil
}

// dialAddr is where to connect to reach a listener bound to a: a
// wildcard address is reached on loopback.
func dialAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	host := "127.0.0.1"
	if tcp.IP.To4() == nil {
		host = "::1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port))
}
