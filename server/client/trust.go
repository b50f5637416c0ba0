package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/api"
)

// ErrTampered: the server's signed heads contradict each other or a head
// this client saw before: its log was cut back or rewritten. It matches
// auditlog.ErrTampered (exit code 6).
var ErrTampered error = fault.New(CodeCentralTampered).Also(auditlog.ErrTampered)

// OpenHead checks that h is signed by vkey as a central log head and that
// its size and root fields say what the signed note says.
func OpenHead(h api.Head, vkey string) (int64, tlog.Hash, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("%q is not a verifier key (kuvert server key prints it)", vkey)
	}
	size, root, err := auditlog.OpenTreeHead([]byte(h.Note), v, auditlog.CentralOrigin)
	if err != nil {
		return 0, root, fmt.Errorf("%w: its signed head does not verify with key %s: %v", ErrTampered, keyName(vkey), err)
	}
	if size != h.Size || base64.StdEncoding.EncodeToString(root[:]) != h.Root {
		return 0, root, fmt.Errorf("%w: the head's size and root differ from what its signature covers", ErrTampered)
	}
	return size, root, nil
}

func keyName(vkey string) string {
	parts := strings.Split(vkey, "+")
	if len(parts) >= 2 {
		return parts[0] + "+" + parts[1]
	}
	return parts[0]
}

// Consistent checks that the server's tree of size/root (a verified
// head) contains the earlier verified tree oldSize/oldRoot unchanged,
// with a consistency proof from the server (RFC 6962).
func (c *Client) Consistent(ctx context.Context, oldSize int64, oldRoot tlog.Hash, size int64, root tlog.Hash) error {
	switch {
	case size < oldSize:
		return fmt.Errorf("%w: it has %d entries, but it had %d when this computer last checked: it was cut back", ErrTampered, size, oldSize)
	case size == oldSize && root != oldRoot:
		return fmt.Errorf("%w: it has the same %d entries as when this computer last checked, but a different root: it was rewritten", ErrTampered, size)
	case oldSize == 0 || size == oldSize:
		return nil
	}
	p, err := c.Proof(ctx, oldSize, size)
	if err != nil {
		return err
	}
	proof := make(tlog.TreeProof, len(p.Hashes))
	for i, s := range p.Hashes {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return fmt.Errorf("%w: its consistency proof is malformed", ErrTampered)
		}
		copy(proof[i][:], b)
	}
	if err := tlog.CheckTree(proof, size, root, oldSize, oldRoot); err != nil {
		return fmt.Errorf("%w: its tree of %d entries does not contain the tree of %d entries this computer saw before: its history was rewritten (%v)", ErrTampered, size, oldSize, err)
	}
	return nil
}
