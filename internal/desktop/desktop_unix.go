//go:build !windows

package desktop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Open opens path with its type's default program (xdg-open, macOS open).
func Open(path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if runtime.GOOS == "darwin" {
		return run("open", path)
	}
	return run("xdg-open", path)
}

// Reveal shows the folder holding path (macOS: with path selected).
func Reveal(path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if runtime.GOOS == "darwin" {
		return run("open", "-R", path)
	}
	return run("xdg-open", filepath.Dir(path))
}

// run waits for the opener, which hands the file on and returns. Exit
// codes are xdg-open's: 3 no tool found, 4 the action failed (which is
// what it answers when nothing takes the type); macOS open exits 1 when
// no application is set.
func run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		switch code := ee.ExitCode(); {
		case name == "xdg-open" && (code == 3 || code == 4), name == "open" && code == 1:
			return fmt.Errorf("%w (%s: %s)", ErrNoAssociation, name, strings.TrimSpace(string(out)))
		}
	}
	if errors.Is(err, exec.ErrNotFound) {
		return fmt.Errorf("%w (%s is not installed)", ErrNoAssociation, name)
	}
	return fmt.Errorf("%s: %v: %s", name, err, strings.TrimSpace(string(out)))
}

func allowForeground() {}
