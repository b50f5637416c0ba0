// Package single keeps the desktop app to one window per user: the first
// kuvert-gui to start claims a per-user folder and listens; a later start
// (Explorer's "Skicka med kuvert" starts one process per file when its
// verb passes "%1") hands its files to the running one and exits.
//
// The rendezvous is three files in the folder:
//
//   - gui.lock, an OS file lock (gofrs/flock: flock(2) on Unix, LockFileEx
//     on Windows) that the running app holds for its whole life. The OS
//     drops it when the process dies, so a crash never leaves a stale
//     claim: the next start takes the lock and replaces the other files.
//   - gui.addr, where to reach the running app and a random nonce
//     (32 bytes from crypto/rand), written atomically with mode 0600.
//   - on Unix, gui.sock, the listening Unix socket.
//
// On Windows the app listens on a loopback TCP port: Wine 8 (which the
// tests run under) has no AF_UNIX sockets and Go's standard library no
// named pipes. Any local user may connect to a loopback port — on a
// Remote Desktop or Citrix host many staff share one machine — so every
// request must carry the nonce, and only the user can read it: the folder
// is under %LOCALAPPDATA%, whose ACL admits the user, SYSTEM and
// administrators only. On Unix the folder is 0700 and the socket 0600, and
// the nonce is checked there too.
//
// The protocol is one JSON request and one JSON reply per connection,
// bounded in size and time; a request with a wrong nonce reaches no
// handler.
package single

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// ErrRunning is Claim's answer when another instance holds the folder.
var ErrRunning = errors.New("kuvert-gui already runs for this user")

// errBadNonce is what the running app answers a request without the
// right nonce; it is not told why beyond that.
const errBadNonce = "refused"

const (
	lockName = "gui.lock"
	addrName = "gui.addr"
	sockName = "gui.sock"
	// maxRequest bounds what a connection may send: a selection of a few
	// thousand long Windows paths fits many times over.
	maxRequest = 4 << 20
	// ioTimeout bounds a connection on the server's side: a client that
	// connects and says nothing cannot hold a handler.
	ioTimeout = 10 * time.Second
)

// useTCP is the transport: a loopback TCP port on Windows, a Unix socket
// elsewhere. Tests run both on Linux.
var useTCP = runtime.GOOS == "windows"

// Request is what a later start sends: absolute paths as given.
type Request struct {
	Nonce string   `json:"nonce"`
	Files []string `json:"files"`
}

// Reply is the running app's answer.
type Reply struct {
	// InForm is how many files the sealing form lists now.
	InForm int `json:"in_form"`
	// Missing are the paths that did not exist and were not added.
	Missing []string `json:"missing,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Handler takes the files a later start handed over.
type Handler func(files []string) Reply

// Server is the running instance's claim and listener.
type Server struct {
	dir   string
	lock  *flock.Flock
	ln    net.Listener
	nonce string

	mu     sync.Mutex
	closed bool
	conns  sync.WaitGroup
}

// Dir is the folder for the claim: $KUVERT_HOME when set (an app with a
// state folder of its own is an instance of its own), else
// %LOCALAPPDATA%\kuvert on Windows (local, never a roaming profile that
// syncs a lock file between machines), $XDG_RUNTIME_DIR/kuvert on Linux
// when there is one, else the user's config folder.
func Dir() (string, error) {
	if h := os.Getenv("KUVERT_HOME"); h != "" {
		return filepath.Abs(h)
	}
	if runtime.GOOS == "windows" {
		d, err := os.UserCacheDir() // %LocalAppData%
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "kuvert"), nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && runtime.GOOS != "darwin" {
		return filepath.Join(d, "kuvert"), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "kuvert"), nil
}

// Claim makes this process the instance for dir and starts listening;
// connections wait in the listener's queue until Serve. It returns
// ErrRunning when another process holds the claim.
func Claim(dir string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lk := flock.New(filepath.Join(dir, lockName))
	ok, err := lk.TryLock()
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", lk.Path(), err)
	}
	if !ok {
		return nil, ErrRunning
	}
	s, err := listen(dir, lk)
	if err != nil {
		_ = lk.Unlock()
		return nil, err
	}
	return s, nil
}

func listen(dir string, lk *flock.Flock) (*Server, error) {
	var nonce [32]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	network, address := "unix", filepath.Join(dir, sockName)
	if useTCP {
		network, address = "tcp", "127.0.0.1:0"
	} else {
		// Whatever is there is a crashed instance's: we hold the lock.
		if err := os.Remove(address); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if err := os.Chmod(address, 0o600); err != nil {
			ln.Close()
			return nil, err
		}
	}
	s := &Server{dir: dir, lock: lk, ln: ln, nonce: hex.EncodeToString(nonce[:])}
	addr := fmt.Sprintf("kuvert-gui 1\n%s\n%s\n%s\n", network, ln.Addr().String(), s.nonce)
	if err := writeAddr(filepath.Join(dir, addrName), []byte(addr)); err != nil {
		ln.Close()
		return nil, err
	}
	return s, nil
}

// addrWriteWait bounds how long the new window keeps trying to put its
// address in place.
const addrWriteWait = 3 * time.Second

// writeAddr replaces the address file atomically. On Windows a file that
// is open cannot be replaced ("Access denied"), and when Explorer starts
// one kuvert-gui per selected file, the others read the address file, a
// crashed window's or the one being written, many times a second while
// this one claims. Each holds it open for a moment only, so the write is
// tried again; giving up would leave the claimant to open a window of its
// own, and the files would end up in two.
func writeAddr(path string, b []byte) error {
	deadline := time.Now().Add(addrWriteWait)
	for {
		err := atomicfile.WriteFile(path, b, 0o600)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Serve answers later starts with h until Close. Requests are handled one
// at a time, in the order they came.
func (s *Server) Serve(h Handler) {
	var one sync.Mutex
	for {
		c, err := s.ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(50 * time.Millisecond) // e.g. out of file handles: do not spin
			continue
		}
		s.conns.Add(1)
		go func() {
			defer s.conns.Done()
			defer c.Close()
			s.serveConn(c, func(files []string) Reply {
				one.Lock()
				defer one.Unlock()
				return h(files)
			})
		}()
	}
}

func (s *Server) serveConn(c net.Conn, h Handler) {
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	var req Request
	if err := json.NewDecoder(io.LimitReader(c, maxRequest)).Decode(&req); err != nil {
		return
	}
	if subtle.ConstantTimeCompare([]byte(req.Nonce), []byte(s.nonce)) != 1 {
		_ = json.NewEncoder(c).Encode(Reply{Error: errBadNonce})
		return
	}
	rep := h(req.Files)
	// The handler may wait for the window; the reply gets time of its own.
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	_ = json.NewEncoder(c).Encode(rep)
}

// Close stops listening and gives up the claim; gui.addr goes with it.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.ln.Close()
	s.conns.Wait()
	_ = os.Remove(filepath.Join(s.dir, addrName))
	if err2 := s.lock.Unlock(); err == nil {
		err = err2
	}
	return err
}

// Send hands files to the instance running for dir and returns its
// reply. Relative paths are made absolute here, against this process's
// working folder, which the running app does not share.
func Send(ctx context.Context, dir string, files []string) (Reply, error) {
	b, err := os.ReadFile(filepath.Join(dir, addrName))
	if err != nil {
		return Reply{}, err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "kuvert-gui 1" {
		return Reply{}, fmt.Errorf("%s: not an address kuvert-gui wrote", addrName)
	}
	network, address, nonce := lines[1], lines[2], lines[3]
	if network != "tcp" && network != "unix" {
		return Reply{}, fmt.Errorf("%s: unknown network %q", addrName, network)
	}
	abs := make([]string, 0, len(files))
	for _, f := range files {
		if a, err := filepath.Abs(f); err == nil {
			f = a
		}
		abs = append(abs, f)
	}
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, network, address)
	if err != nil {
		return Reply{}, err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if err := json.NewEncoder(c).Encode(Request{Nonce: nonce, Files: abs}); err != nil {
		return Reply{}, err
	}
	var rep Reply
	if err := json.NewDecoder(bufio.NewReader(io.LimitReader(c, maxRequest))).Decode(&rep); err != nil {
		return Reply{}, fmt.Errorf("no answer from the running kuvert-gui: %w", err)
	}
	if rep.Error != "" {
		return rep, fmt.Errorf("the running kuvert-gui refused the files: %s", rep.Error)
	}
	return rep, nil
}

// Start is what the app does first: claim dir and return the Server, or,
// when an instance runs, hand it files and return its reply. Instances
// that start together (one per selected file) settle on one: while the
// winner has the lock but is not listening yet, or the one running is on
// its way out, Start tries again until ctx ends.
func Start(ctx context.Context, dir string, files []string) (*Server, *Reply, error) {
	for {
		s, err := Claim(dir)
		if err == nil {
			return s, nil, nil
		}
		if !errors.Is(err, ErrRunning) {
			return nil, nil, err
		}
		rep, err := Send(ctx, dir, files)
		if err == nil {
			return nil, &rep, nil
		}
		if rep.Error != "" {
			return nil, nil, err
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("kuvert-gui runs but does not answer: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
