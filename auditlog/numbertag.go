package auditlog

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/kuvert-app/kuvert/internal/atomicfile"
)

// numberTagKeyFile holds the secret behind [Log.NumberTag] (0600, beside
// the signing key).
const numberTagKeyFile = "number-tag.key"

// NumberTag is a keyed hash (HMAC-SHA256 under a secret in the key
// folder, first 16 bytes, hex) of a full E.164 phone number. The log keeps
// numbers masked (+46 70-*** ** 67), which is not enough to check that a
// number typed again later is the same one — `kuvert resend` must not
// text a new password to a number that differs only in its middle
// digits. The tag lets it check exactly, while the log still holds no
// number: without the key folder's secret the tag cannot be turned back
// into a number, not even by trying all Swedish mobile numbers. Empty if
// the secret cannot be had.
func (l *Log) NumberTag(e164 string) string {
	key, err := l.numberTagKey()
	if err != nil || e164 == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(e164))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// numberTagKey reads the secret, creating it on first use under the key
// folder's lock.
func (l *Log) numberTagKey() ([]byte, error) {
	l.tagOnce.Do(func() {
		p := filepath.Join(l.keyDir, numberTagKeyFile)
		read := func() ([]byte, error) {
			b, err := os.ReadFile(p)
			if err == nil && len(b) != 32 {
				return nil, errors.New(p + " is damaged")
			}
			return b, err
		}
		b, err := read()
		if errors.Is(err, fs.ErrNotExist) {
			var unlock func()
			if unlock, err = takeLock(filepath.Join(l.keyDir, lockFile), false); err == nil {
				if b, err = read(); errors.Is(err, fs.ErrNotExist) {
					b = make([]byte, 32)
					rand.Read(b)
					err = atomicfile.WriteNew(p, b, 0o600)
				}
				unlock()
			}
		}
		l.tagKey, l.tagErr = b, err
	})
	return l.tagKey, l.tagErr
}
