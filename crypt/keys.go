package crypt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/agessh"
)

// ParseRecipient reads one age recipient: X25519 (age1…), hybrid
// post-quantum (age1pq1…) or an SSH public key (ssh-ed25519, ssh-rsa).
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "ssh-") {
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("%w: not a valid SSH public key: %v", ErrInput, err)
		}
		return r, nil
	}
	rs, err := age.ParseRecipients(strings.NewReader(s))
	if err != nil || len(rs) != 1 {
		if strings.HasPrefix(s, "age1") {
			return nil, fmt.Errorf("%w: %q is not a valid age recipient", ErrInput, abbreviate(s))
		}
		// It may be a secret key pasted by mistake: never echo it.
		return nil, fmt.Errorf("%w: not an age recipient (expected age1…, age1pq1… or ssh-…)", ErrInput)
	}
	return rs[0], nil
}

// ReadRecipientsFile reads a recipients file in age's format: one recipient
// a line, # comments and blank lines ignored.
func ReadRecipientsFile(path string) ([]age.Recipient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInput, describeFSError(err))
	}
	defer f.Close()
	var out []age.Recipient
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		r, err := ParseRecipient(t)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInput, path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s holds no recipients", ErrInput, path)
	}
	return out, nil
}

// ReadIdentitiesFile reads age identities (AGE-SECRET-KEY-1…, the
// post-quantum AGE-SECRET-KEY-PQ-1…) or an unencrypted SSH private key.
func ReadIdentitiesFile(path string) ([]age.Identity, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInput, describeFSError(err))
	}
	if strings.Contains(string(b), "PRIVATE KEY-----") {
		id, err := agessh.ParseIdentity(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: not a usable SSH private key (passphrase-protected keys are not supported): %v", ErrInput, path, err)
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: no age identities found", ErrInput, path)
	}
	return ids, nil
}

func recipientsFormat(rs []age.Recipient) string {
	kind := ""
	for _, r := range rs {
		var k string
		switch r.(type) {
		case *age.X25519Recipient:
			k = "age-x25519"
		case *age.HybridRecipient:
			k = "age-pq"
		case *agessh.Ed25519Recipient, *agessh.RSARecipient:
			k = "age-ssh"
		default:
			k = "age-recipients"
		}
		if kind != "" && kind != k {
			return "age-recipients"
		}
		kind = k
	}
	return kind
}

func abbreviate(s string) string {
	if len(s) > 24 {
		return s[:20] + "…"
	}
	return s
}
