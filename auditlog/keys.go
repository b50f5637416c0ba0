package auditlog

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

const (
	keyName         = "kuvert-log"
	signingKeyFile  = "log-signing.key"
	verifierKeyFile = "log-signing.pub"
	// logsFile lists the log folders this key has started. A listed
	// folder without checkpoints is a log that was deleted, not a new
	// one.
	logsFile = "logs.json"
)

// loadOrCreateKey reads the signing key pair, creating it on first use.
// Creation happens under a lock in the key folder, and each file appears
// whole (written aside, then renamed; the verifier key first), so
// processes starting at once share one key and never read half of one.
func loadOrCreateKey(dir string) (skey, vkey string, err error) {
	if skey, vkey, err := readKey(dir); !errors.Is(err, fs.ErrNotExist) {
		return skey, vkey, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	unlock, err := takeLock(filepath.Join(dir, lockFile), false)
	if err != nil {
		return "", "", err
	}
	defer unlock()
	if skey, vkey, err := readKey(dir); !errors.Is(err, fs.ErrNotExist) {
		return skey, vkey, err // made by another process while we waited
	}
	skey, vkey, err = note.GenerateKey(rand.Reader, keyName)
	if err != nil {
		return "", "", err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, verifierKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
		return "", "", err
	}
	return skey, vkey, atomicfile.WriteFile(filepath.Join(dir, signingKeyFile), []byte(skey+"\n"), 0o600)
}

// readKey reads the key pair; fs.ErrNotExist means there is none yet.
func readKey(dir string) (skey, vkey string, err error) {
	sp, vp := filepath.Join(dir, signingKeyFile), filepath.Join(dir, verifierKeyFile)
	b, err := os.ReadFile(sp)
	if err != nil {
		return "", "", err
	}
	v, err := os.ReadFile(vp)
	if err != nil {
		// Not fs.ErrNotExist: a lost verifier key must not make a new pair.
		return "", "", fmt.Errorf("%s is missing", vp)
	}
	return strings.TrimSpace(string(b)), strings.TrimSpace(string(v)), nil
}

// startedLogs reads the folders this key has started logs in.
func startedLogs(keyDir string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(keyDir, logsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var dirs []string
	if err := json.Unmarshal(b, &dirs); err != nil {
		return nil, fmt.Errorf("%w: %s is damaged", ErrTampered, filepath.Join(keyDir, logsFile))
	}
	return dirs, nil
}

// wasStarted reports whether this key started a log in dir.
func wasStarted(keyDir, dir string) (bool, error) {
	dirs, err := startedLogs(keyDir)
	return slices.Contains(dirs, dir), err
}

// markStarted records that this key started a log in dir.
func markStarted(keyDir, dir string) error {
	unlock, err := takeLock(filepath.Join(keyDir, lockFile), false)
	if err != nil {
		return err
	}
	defer unlock()
	dirs, err := startedLogs(keyDir)
	if err != nil || slices.Contains(dirs, dir) {
		return err
	}
	b, _ := json.MarshalIndent(append(dirs, dir), "", "  ")
	return atomicfile.WriteFile(filepath.Join(keyDir, logsFile), append(b, '\n'), 0o600)
}
