// Package pgtest starts a real PostgreSQL for tests: initdb and pg_ctl in
// a temporary folder, listening on a loopback port, as the postgres user
// when the tests run as root (PostgreSQL refuses to run as root). No
// database is mocked anywhere in kuvert's tests.
//
// A test binary shares one cluster ([Start] in TestMain); each test takes
// a database of its own ([Cluster.NewDB]).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running PostgreSQL.
type Cluster struct {
	Dir  string // holds data/ and the socket
	Port int
	bin  string
	run  []string // prefix that runs a command as the cluster's owner
	n    atomic.Int64
	opts Options
}

// Options for [Start].
type Options struct {
	// Durable keeps fsync on (benchmarks); tests run without it, which
	// survives a killed server but not a power cut.
	Durable bool
}

// ErrMissing: PostgreSQL's programs are not installed (make deps).
var ErrMissing = errors.New("PostgreSQL is not installed (make deps installs Debian's postgresql)")

// binDir finds initdb and pg_ctl: Debian keeps them in
// /usr/lib/postgresql/VERSION/bin, elsewhere they are on PATH.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrMissing
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initialises and starts a cluster.
func Start(o Options) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kuvert-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, opts: o}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs the postgres user (Debian's postgresql package): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.run = []string{"runuser", "-u", "postgres", "--"}
	}
	if out, err := c.cmd("initdb", "-D", c.data(), "-U", "kuvert", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if err := c.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.Dir, "data") }

func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	full := append(append(append([]string{}, c.run...), filepath.Join(c.bin, name)), args...)
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Dir = c.Dir
	return cmd
}

// Start starts the (stopped) cluster, on its old port if it had one.
func (c *Cluster) Start() error {
	if c.Port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		c.Port = p
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=128MB", c.Port, c.Dir)
	if !c.opts.Durable {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	out, err := c.cmd("pg_ctl", "-D", c.data(), "-o", opts, "-l", filepath.Join(c.Dir, "server.log"), "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		logb, _ := os.ReadFile(filepath.Join(c.Dir, "server.log"))
		return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, logb)
	}
	return nil
}

// Stop stops the cluster; immediate is a crash (no checkpoint).
func (c *Cluster) Stop(immediate bool) error {
	mode := "fast"
	if immediate {
		mode = "immediate"
	}
	out, err := c.cmd("pg_ctl", "-D", c.data(), "-m", mode, "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

// Close stops the cluster and removes its folder.
func (c *Cluster) Close() {
	c.Stop(true)
	os.RemoveAll(c.Dir)
}

// URL is the connection string of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://kuvert@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// CreateDB makes a new empty database and returns its URL.
func (c *Cluster) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.n.Add(1))
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return c.URL(name), nil
}

// Dump runs pg_dump on the database at url and returns the dump.
func (c *Cluster) Dump(db string) ([]byte, error) {
	return c.cmd("pg_dump", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "kuvert", db).Output()
}

// DBName is the database name in a URL from [Cluster.CreateDB].
func DBName(url string) string {
	s := url[strings.LastIndex(url, "/")+1:]
	s, _, _ = strings.Cut(s, "?")
	return s
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Main starts a shared cluster for a test binary's tests and stops it
// afterwards; use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m, &cluster) }
//
// Without PostgreSQL the tests that need it fail under CI=true (the
// tool must be there) and are skipped elsewhere, saying why.
func Main(m *testing.M, c **Cluster) {
	var cl *Cluster
	var err error
	if runtime.GOOS == "windows" {
		// A test binary cross-built for Windows runs under Wine (make
		// test-windows), where drive Z: shows Debian's PostgreSQL, a
		// Linux program: the tests that need a database run on Linux.
		err = errors.New("PostgreSQL tests run on Linux")
	} else {
		cl, err = Start(Options{})
	}
	if err != nil {
		startErr = err
	}
	*c = cl
	code := m.Run()
	if cl != nil {
		cl.Close()
	}
	os.Exit(code)
}

var startErr error

// DB gives the test a new database on the shared cluster.
func DB(t testing.TB, c *Cluster) string {
	t.Helper()
	if c == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is needed: %v", startErr)
		}
		t.Skipf("PostgreSQL is needed: %v", startErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, err := c.CreateDB(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return url
}
