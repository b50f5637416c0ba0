package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/internal/atomicfile"
	"github.com/kuvert-app/kuvert/server/api"
)

// HeadsFile, in KUVERT_HOME, keeps the last verified head of each server
// (per address and verifier key) for `kuvert log verify --server`.
const HeadsFile = "server-heads.json"

// ErrTampered: the server's signed heads contradict each other or a head
// this client saw before: its log was cut back or rewritten. It matches
// auditlog.ErrTampered (exit code 6).
var ErrTampered = fmt.Errorf("%w: centralloggen på kuvert-servern håller inte / the central log on the kuvert server", auditlog.ErrTampered)

// SeenHead is a verified head kept between runs.
type SeenHead struct {
	Server string   `json:"server"`
	Key    string   `json:"key"`
	Head   api.Head `json:"head"`
	Seen   string   `json:"seen"` // when it was verified, RFC 3339
}

type headsFile struct {
	Heads []SeenHead `json:"heads"`
}

func readHeads(home string) (*headsFile, error) {
	var h headsFile
	if err := readState(filepath.Join(home, HeadsFile), &h); err != nil {
		return nil, fmt.Errorf("%w; remove it, and the next check starts afresh", err)
	}
	return &h, nil
}

// readState reads one of the client's JSON state files into v; a missing
// file leaves v as it is (the start).
func readState(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s is damaged (%v)", path, err)
	}
	return nil
}

// LastSeen returns the head last verified for server and key, or nil.
func LastSeen(home, server, key string) (*SeenHead, error) {
	h, err := readHeads(home)
	if err != nil {
		return nil, err
	}
	for i := range h.Heads {
		if h.Heads[i].Server == server && h.Heads[i].Key == key {
			return &h.Heads[i], nil
		}
	}
	return nil, nil
}

// OtherKeys returns the keys other than key whose heads were seen from
// server: a server that changed its key started a new log.
func OtherKeys(home, server, key string) []string {
	h, err := readHeads(home)
	if err != nil {
		return nil
	}
	var out []string
	for _, s := range h.Heads {
		if s.Server == server && s.Key != key {
			out = append(out, s.Key)
		}
	}
	return out
}

// SaveSeen records head as the last verified one for server and key.
func SaveSeen(home, server, key string, head api.Head, now time.Time) error {
	h, err := readHeads(home)
	if err != nil {
		return err
	}
	s := SeenHead{Server: server, Key: key, Head: head, Seen: now.Format(time.RFC3339)}
	found := false
	for i := range h.Heads {
		if h.Heads[i].Server == server && h.Heads[i].Key == key {
			h.Heads[i], found = s, true
		}
	}
	if !found {
		h.Heads = append(h.Heads, s)
	}
	b, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(home, HeadsFile), append(b, '\n'), 0o600)
}

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

// HeadCheck is what [CheckServer] found.
type HeadCheck struct {
	Server   string   `json:"server"`
	Key      string   `json:"key"`
	Head     api.Head `json:"head"`
	Previous *int64   `json:"previous_size,omitempty"` // the size last verified, if any
	Shipped  *int64   `json:"shipped_head_size,omitempty"`
}

// CheckServer fetches the server's current head, checks its signature
// with vkey and its consistency with every earlier head this computer
// holds for the server and key: the last verified one (in home) and the
// last one the shipping queue received (shipped, if signed by vkey). On
// success the new head is saved as the last verified one.
func (c *Client) CheckServer(ctx context.Context, home, vkey string, shipped *api.Head) (*HeadCheck, error) {
	vkey = strings.TrimSpace(vkey)
	h, err := c.Head(ctx)
	if err != nil {
		return nil, err
	}
	size, root, err := OpenHead(h, vkey)
	if err != nil {
		return nil, err
	}
	res := &HeadCheck{Server: c.URL(), Key: vkey, Head: h}
	var earlier []api.Head
	seen, err := LastSeen(home, c.URL(), vkey)
	if err != nil {
		return nil, err
	}
	if seen != nil {
		earlier = append(earlier, seen.Head)
		n := seen.Head.Size
		res.Previous = &n
	}
	if shipped != nil {
		if _, _, err := OpenHead(*shipped, vkey); err == nil {
			earlier = append(earlier, *shipped)
			n := shipped.Size
			res.Shipped = &n
		}
	}
	for _, e := range earlier {
		osize, oroot, err := OpenHead(e, vkey)
		if err != nil {
			return res, err
		}
		if err := c.Consistent(ctx, osize, oroot, size, root); err != nil {
			return res, err
		}
	}
	if err := SaveSeen(home, c.URL(), vkey, h, time.Now()); err != nil {
		return res, err
	}
	return res, nil
}
