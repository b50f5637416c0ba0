// Package serverproc runs real `kuvert server run` processes for tests
// and benchmarks: built once per test binary, started on a fixed loopback
// port (so a restarted server answers at the same address), killed with
// SIGKILL or stopped with SIGTERM.
package serverproc

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// Binary builds cmd/kuvert once and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kuvert-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "kuvert")
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/kuvert")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

// moduleRoot is the folder holding go.mod, from the test's working
// folder (its package's) up: not from this file's compiled-in path, which
// -trimpath (make test) leaves as an import path.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("serverproc: no go.mod above the working folder")
		}
		dir = up
	}
}

// Proc is one server process.
type Proc struct {
	URL  string
	Addr string
	bin  string
	env  []string
	args []string
	cmd  *exec.Cmd
	out  *syncBuf
	done chan struct{}
	// client reaches the server (trusting its certificate under TLS).
	client *http.Client
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr is a loopback address nothing listens on.
func FreeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs `kuvert server run --listen ADDR extra…` with env added to
// the test's environment and waits until /healthz answers 200.
func Start(t testing.TB, env []string, extra ...string) *Proc {
	t.Helper()
	return start(t, env, nil, extra)
}

// StartTLS is [Start] for a server given --tls-cert and --tls-key in
// extra, whose certificate pool trusts.
func StartTLS(t testing.TB, env []string, pool *x509.CertPool, extra ...string) *Proc {
	t.Helper()
	return start(t, env, pool, extra)
}

func start(t testing.TB, env []string, pool *x509.CertPool, extra []string) *Proc {
	addr := FreeAddr(t)
	p := &Proc{URL: "http://" + addr, Addr: addr, bin: Binary(t), env: env, args: append([]string{"server", "run", "--listen", addr}, extra...), out: &syncBuf{}, client: http.DefaultClient}
	if pool != nil {
		p.URL = "https://" + addr
		p.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	p.Restart(t)
	t.Cleanup(func() { p.Kill() })
	return p
}

// Restart starts the process again on the same address.
func (p *Proc) Restart(t testing.TB) {
	t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.done = make(chan struct{})
	go func(c *exec.Cmd, d chan struct{}) { c.Wait(); close(d) }(p.cmd, p.done)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("kuvert server exited: %s", p.out.String())
		default:
		}
		if resp, err := p.client.Get(p.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("kuvert server did not answer /healthz: %s", p.out.String())
}

// Kill stops the process with SIGKILL, as a crash would.
func (p *Proc) Kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// Stop stops it with SIGTERM and waits.
func (p *Proc) Stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	}
}

// Output is what the process wrote so far.
func (p *Proc) Output() string { return p.out.String() }
