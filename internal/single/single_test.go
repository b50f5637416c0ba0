package single

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Both transports run on Linux: the Unix socket and Windows' loopback
// port with its nonce.
func eachTransport(t *testing.T, f func(t *testing.T)) {
	for _, tcp := range []bool{false, true} {
		name := "unix"
		if tcp {
			name = "tcp"
		}
		t.Run(name, func(t *testing.T) {
			old := useTCP
			useTCP = tcp
			t.Cleanup(func() { useTCP = old })
			f(t)
		})
	}
}

// recorder is a handler that keeps what it was given, as the form would.
type recorder struct {
	mu    sync.Mutex
	files []string
}

func (r *recorder) handle(files []string) Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range files {
		if !slices.Contains(r.files, f) {
			r.files = append(r.files, f)
		}
	}
	return Reply{InForm: len(r.files)}
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(slices.Values(r.files))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSecondStartHandsFilesToFirst(t *testing.T) {
	eachTransport(t, func(t *testing.T) {
		dir := t.TempDir()
		first, rep, err := Start(ctx(t), dir, nil)
		if err != nil || first == nil || rep != nil {
			t.Fatalf("first start: server %v, reply %v, %v", first, rep, err)
		}
		t.Cleanup(func() { first.Close() })
		var r recorder
		r.handle([]string{"/a/lönelista 2026.xlsx"}) // what the first start had
		go first.Serve(r.handle)

		// The second start runs in another folder: its relative name
		// reaches the first as an absolute path.
		work := t.TempDir()
		t.Chdir(work)
		second, rep, err := Start(ctx(t), dir, []string{"intyg.pdf", "/b/Åsa Öberg.docx"})
		if err != nil || second != nil || rep == nil {
			t.Fatalf("second start: server %v, reply %v, %v", second, rep, err)
		}
		if rep.InForm != 3 {
			t.Errorf("reply %+v, want 3 in the form", rep)
		}
		want := []string{"/a/lönelista 2026.xlsx", "/b/Åsa Öberg.docx", filepath.Join(work, "intyg.pdf")}
		slices.Sort(want)
		if got := r.got(); !slices.Equal(got, want) {
			t.Errorf("the first has %q, want %q", got, want)
		}
		// The folder's files are the user's alone.
		for _, name := range []string{addrName} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, mode %v", name, err, fi.Mode())
			}
		}
		if err := first.Close(); err != nil {
			t.Fatal(err)
		}
		// After the first has gone, the next start is the instance.
		third, _, err := Start(ctx(t), dir, nil)
		if err != nil || third == nil {
			t.Fatalf("start after close: %v, %v", third, err)
		}
		third.Close()
	})
}

// TestManyStartsAtOnce is Explorer's "%1" verb: one process per selected
// file, all at once. One becomes the window; every file reaches it.
func TestManyStartsAtOnce(t *testing.T) {
	eachTransport(t, func(t *testing.T) {
		dir := t.TempDir()
		var r recorder
		var wg sync.WaitGroup
		var mu sync.Mutex
		var servers []*Server
		const n = 12
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := filepath.Join("/filer", "fil "+string(rune('a'+i))+".pdf")
				s, _, err := Start(ctx(t), dir, []string{f})
				if err != nil {
					errs <- err
					return
				}
				if s != nil {
					r.handle([]string{f}) // its own argument
					mu.Lock()
					servers = append(servers, s)
					mu.Unlock()
					go s.Serve(r.handle)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(servers) != 1 {
			t.Fatalf("%d instances claimed the folder", len(servers))
		}
		servers[0].Close()
		if got := r.got(); len(got) != n {
			t.Errorf("the window got %d files, want %d: %q", len(got), n, got)
		}
	})
}

// TestWrongNonceReachesNoHandler: another user can connect to a loopback
// port but cannot read the nonce; what they send is refused.
func TestWrongNonceReachesNoHandler(t *testing.T) {
	eachTransport(t, func(t *testing.T) {
		dir := t.TempDir()
		s, err := Claim(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var r recorder
		go s.Serve(r.handle)
		network, address := s.ln.Addr().Network(), s.ln.Addr().String()
		for _, body := range []string{
			`{"nonce":"00","files":["C:\\evil.exe"]}` + "\n",
			`{"files":["C:\\evil.exe"]}` + "\n",
			"not json at all\n",
			strings.Repeat("x", maxRequest+10),
		} {
			c, err := net.Dial(network, address)
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte(body))
			var rep Reply
			json.NewDecoder(c).Decode(&rep)
			c.Close()
			if rep.InForm != 0 {
				t.Errorf("%.30q: reply %+v", body, rep)
			}
		}
		if got := r.got(); len(got) != 0 {
			t.Fatalf("injected files reached the form: %q", got)
		}
		// The server still answers its own user.
		rep, err := Send(ctx(t), dir, []string{"/ok.pdf"})
		if err != nil || rep.InForm != 1 {
			t.Fatalf("after the junk: %+v, %v", rep, err)
		}
	})
}

// TestStaleFilesAfterCrash: a crashed instance leaves gui.addr (and the
// socket) behind but not its lock; the next start takes over.
func TestStaleFilesAfterCrash(t *testing.T) {
	if os.Getenv("KUVERT_SINGLE_CRASH") != "" {
		dir := os.Getenv("KUVERT_SINGLE_CRASH")
		if _, err := Claim(dir); err != nil {
			os.Stdout.WriteString("claim: " + err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString("claimed\n")
		time.Sleep(time.Minute) // killed before this ends
		os.Exit(0)
	}
	eachTransport(t, func(t *testing.T) {
		dir := t.TempDir()
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^TestStaleFilesAfterCrash$")
		tcp := "0"
		if useTCP {
			tcp = "1"
		}
		cmd.Env = append(os.Environ(), "KUVERT_SINGLE_CRASH="+dir, "KUVERT_SINGLE_TCP="+tcp)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, _ := out.Read(buf)
		if !strings.Contains(string(buf[:n]), "claimed") {
			cmd.Process.Kill()
			t.Fatalf("helper: %q", buf[:n])
		}
		// While it runs, a start is refused the claim.
		if _, err := Claim(dir); !errors.Is(err, ErrRunning) {
			t.Fatalf("claim beside a running instance: %v", err)
		}
		cmd.Process.Kill() // a crash: no Close, files left behind
		cmd.Wait()
		if _, err := os.Stat(filepath.Join(dir, addrName)); err != nil {
			t.Fatalf("the crash left no %s to test with: %v", addrName, err)
		}
		s, rep, err := Start(ctx(t), dir, []string{"/x.pdf"})
		if err != nil || s == nil || rep != nil {
			t.Fatalf("start after a crash: %v, %v, %v", s, rep, err)
		}
		defer s.Close()
		var r recorder
		go s.Serve(r.handle)
		if rep, err := Send(ctx(t), dir, []string{"/y.pdf"}); err != nil || rep.InForm != 1 {
			t.Fatalf("the new instance answers %+v, %v", rep, err)
		}
	})
}

func TestMain(m *testing.M) {
	if os.Getenv("KUVERT_SINGLE_TCP") == "1" {
		useTCP = true
	}
	os.Exit(m.Run())
}

func TestDirFollowsKuvertHome(t *testing.T) {
	h := t.TempDir()
	t.Setenv("KUVERT_HOME", h)
	if d, err := Dir(); err != nil || d != h {
		t.Fatalf("Dir() = %q, %v; want %q", d, err, h)
	}
	if runtime.GOOS != "linux" {
		return
	}
	t.Setenv("KUVERT_HOME", "")
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	if d, _ := Dir(); d != "/run/user/1000/kuvert" {
		t.Fatalf("Dir() = %q", d)
	}
}
