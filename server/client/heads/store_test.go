package heads

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client/clienttest"
	"github.com/kuvert-app/kuvert/server/servertest"
)

func seen(server string, size int64) Seen {
	return Seen{Server: server, Key: "k+1+x", Head: api.Head{Size: size}}
}

// Two writers that read the same file: the first lands, the second is
// refused (nothing written), and after reading again it lands too.
func TestPutIsCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	st := Store{Dir: t.TempDir()}
	a, err := st.Read()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := st.Read()
	if err := st.Put(ctx, a, seen("https://a", 5)); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, b, seen("https://b", 7)); !errors.Is(err, ErrConflict) {
		t.Fatalf("a write over a changed file: %v", err)
	}
	now, err := st.Read()
	if err != nil || len(now.Heads) != 1 || now.Last("https://a", "k+1+x") == nil {
		t.Fatalf("the refused write changed the file: %+v %v", now, err)
	}
	if err := st.Put(ctx, now, seen("https://b", 7)); err != nil {
		t.Fatal(err)
	}
	// The same server and key again: replaced, not added.
	now, _ = st.Read()
	if err := st.Put(ctx, now, seen("https://a", 9)); err != nil {
		t.Fatal(err)
	}
	now, _ = st.Read()
	if len(now.Heads) != 2 || now.Last("https://a", "k+1+x").Head.Size != 9 || now.Last("https://b", "k+1+x").Head.Size != 7 {
		t.Fatalf("%+v", now.Heads)
	}
	// A file that appeared after a read of none is a change too.
	empty := Store{Dir: t.TempDir()}
	none, _ := empty.Read()
	if err := os.WriteFile(filepath.Join(empty.Dir, File), []byte(`{"heads":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := empty.Put(ctx, none, seen("https://a", 1)); !errors.Is(err, ErrConflict) {
		t.Fatalf("a file written meanwhile: %v", err)
	}
}

// Many writers at once, each reading and retrying on a conflict: every
// head lands.
func TestConcurrentWritersAllLand(t *testing.T) {
	ctx := context.Background()
	st := Store{Dir: t.TempDir()}
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				snap, err := st.Read()
				if err != nil {
					errs <- err
					return
				}
				err = st.Put(ctx, snap, seen(fmt.Sprintf("https://s%d", i), int64(i)))
				if !errors.Is(err, ErrConflict) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	snap, err := st.Read()
	if err != nil || len(snap.Heads) != n {
		t.Fatalf("%d of %d heads landed: %v", len(snap.Heads), n, err)
	}
}

// A damaged file is an error that says which file and what to do; it is
// never taken for an empty one, and no check writes over it.
func TestDamagedFileIsAnError(t *testing.T) {
	for name, body := range map[string]string{"cut short": `{"heads":[{"server":"https://a"`, "empty": ``, "not json": "kuvert\n"} {
		t.Run(name, func(t *testing.T) {
			st := Store{Dir: t.TempDir()}
			path := filepath.Join(st.Dir, File)
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := st.Read()
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "remove it") {
				t.Fatalf("read: %v", err)
			}
			if err := st.Put(context.Background(), &Snapshot{}, seen("https://a", 1)); !errors.Is(err, ErrConflict) {
				t.Fatalf("a write over the damaged file: %v", err)
			}
			if b, _ := os.ReadFile(path); string(b) != body {
				t.Fatalf("the damaged file was overwritten: %q", b)
			}
		})
	}
}

// Checks of one server running at once from one home all pass, and the
// file ends holding the server's head.
func TestConcurrentChecks(t *testing.T) {
	srv := servertest.Start(t, cluster, servertest.Options{})
	home := t.TempDir()
	ctx := context.Background()
	if _, _, err := srv.Store.Append(ctx, "pc1", []auditlog.Entry{{ID: "a-1", Action: auditlog.ActionSeal, Time: time.Now().Format(time.RFC3339)}}); err != nil {
		t.Fatal(err)
	}
	c := clienttest.Client(t, srv.URL, srv.Registrar)
	const n = 4
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Check(ctx, c, Store{Dir: home}, srv.VKey, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	snap, err := Store{Dir: home}.Read()
	if err != nil || len(snap.Heads) != 1 || snap.Heads[0].Key != srv.VKey || snap.Heads[0].Head.Size != 1 {
		t.Fatalf("%+v %v", snap, err)
	}
	// A damaged file stops the check with the store's error.
	if err := os.WriteFile(filepath.Join(home, File), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, c, Store{Dir: home}, srv.VKey, nil); !errors.Is(err, ErrDamaged) {
		t.Fatalf("a damaged file: %v", err)
	}
}
