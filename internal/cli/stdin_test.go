package cli

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// A read from a pipe that never ends gives up when the context is
// cancelled (Ctrl-C at the password prompt), and readSecret says so as
// context.Canceled, which Run reports as the interruption.
func TestCtxReaderGivesUpOnCancel(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s := &IOStreams{In: pr}
	interruptible(ctx, s)
	done := make(chan error, 1)
	go func() {
		_, err := readSecret(&Factory{IOStreams: s}, "-")
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("readSecret: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readSecret still blocked after the cancel")
	}
}

// Uncancelled, the reader passes the data through unchanged.
func TestCtxReaderReads(t *testing.T) {
	s := &IOStreams{In: strings.NewReader("k7pq-x3mh-b9rt\r\n")}
	interruptible(context.Background(), s)
	pw, err := readSecret(&Factory{IOStreams: s}, "-")
	if err != nil || pw != "k7pq-x3mh-b9rt" {
		t.Fatalf("readSecret = %q, %v", pw, err)
	}
}

// An abandoned terminal prompt puts the terminal back.
func TestCtxPromptRestores(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	restored := false
	ctx, cancel := context.WithCancel(context.Background())
	read := ctxPrompt(ctx, func(string) (string, error) { <-block; return "", nil }, func() { restored = true })
	cancel()
	if _, err := read("Lösenord / Password: "); !errors.Is(err, context.Canceled) || !restored {
		t.Fatalf("err %v, restored %v", err, restored)
	}
}
