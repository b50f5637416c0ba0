package heads

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
)

// HeadCheck is what [Check] found.
type HeadCheck struct {
	Server   string   `json:"server"`
	Key      string   `json:"key"`
	Head     api.Head `json:"head"`
	Previous *int64   `json:"previous_size,omitempty"` // the size last verified, if any
	Shipped  *int64   `json:"shipped_head_size,omitempty"`
}

// maxTries bounds the checks [Check] starts again after [ErrConflict].
const maxTries = 8

// Check fetches the server's current head, checks its signature with
// vkey and its consistency with every earlier head this computer holds
// for the server and key: the last verified one (in store) and the last
// one the shipping queue received (shipped, if signed by vkey). On
// success the new head is saved as the last verified one.
//
// When another check saved a head meanwhile, the whole check runs again
// against the head now saved: two heads each consistent with an older
// one need not be consistent with each other (a forked log), so the
// later write must be proved against the earlier, not overwrite it.
func Check(ctx context.Context, c *client.Client, store Store, vkey string, shipped *api.Head) (*HeadCheck, error) {
	for try := 1; ; try++ {
		res, err := check(ctx, c, store, vkey, shipped)
		if !errors.Is(err, ErrConflict) || try == maxTries {
			return res, err
		}
	}
}

func check(ctx context.Context, c *client.Client, store Store, vkey string, shipped *api.Head) (*HeadCheck, error) {
	vkey = strings.TrimSpace(vkey)
	h, err := c.Head(ctx)
	if err != nil {
		return nil, err
	}
	size, root, err := client.OpenHead(h, vkey)
	if err != nil {
		return nil, err
	}
	res := &HeadCheck{Server: c.URL(), Key: vkey, Head: h}
	var earlier []api.Head
	snap, err := store.Read()
	if err != nil {
		return nil, err
	}
	if seen := snap.Last(c.URL(), vkey); seen != nil {
		earlier = append(earlier, seen.Head)
		n := seen.Head.Size
		res.Previous = &n
	}
	if shipped != nil {
		if _, _, err := client.OpenHead(*shipped, vkey); err == nil {
			earlier = append(earlier, *shipped)
			n := shipped.Size
			res.Shipped = &n
		}
	}
	for _, e := range earlier {
		osize, oroot, err := client.OpenHead(e, vkey)
		if err != nil {
			return res, err
		}
		if err := c.Consistent(ctx, osize, oroot, size, root); err != nil {
			return res, err
		}
	}
	seen := Seen{Server: c.URL(), Key: vkey, Head: h, Seen: time.Now().Format(time.RFC3339)}
	if err := store.Put(ctx, snap, seen); err != nil {
		return res, err
	}
	return res, nil
}
