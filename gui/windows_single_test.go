//go:build windows

package gui

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kuvert-app/kuvert/internal/single"
)

// TestClaimWhileAddressIsRead: when Explorer starts one kuvert-gui per
// selected file, the one that takes the lock writes its address while the
// others read the old one (a window that was closed left it). Windows
// does not replace a file someone has open, so a single try failed with
// "Access denied" under load and the claimant opened a second window. The
// claim waits until the readers let go. Windows only: Unix replaces an
// open file.
func TestClaimWhileAddressIsRead(t *testing.T) {
	dir := tempDir(t) // Wine's own cleanup quirk: tempdir_test.go
	addr := filepath.Join(dir, "gui.addr")
	if err := os.WriteFile(addr, []byte("kuvert-gui 1\ntcp\n127.0.0.1:1\n00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	// The premise: while it is open, the file cannot be replaced.
	tmp := filepath.Join(dir, "probe")
	if err := os.WriteFile(tmp, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, addr); err == nil {
		t.Fatal("an open file was replaced: the test proves nothing here")
	}
	os.Remove(tmp)

	go func() {
		time.Sleep(300 * time.Millisecond)
		reader.Close()
	}()
	s, err := single.Claim(dir)
	if err != nil {
		t.Fatalf("the claim gave up while the address was read: %v", err)
	}
	defer s.Close()
	go s.Serve(func(files []string) single.Reply { return single.Reply{InForm: len(files)} })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := single.Send(ctx, dir, []string{`C:\Lönelistor\Åsa.pdf`})
	if err != nil || rep.InForm != 1 {
		t.Fatalf("a later start reaches the window: %+v, %v", rep, err)
	}
}
