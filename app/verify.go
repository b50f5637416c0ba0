package app

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/kuvert-app/kuvert/auditlog"
	"github.com/kuvert-app/kuvert/fault"
	"github.com/kuvert-app/kuvert/server/api"
	"github.com/kuvert-app/kuvert/server/client"
	"github.com/kuvert-app/kuvert/server/client/heads"
	"github.com/kuvert-app/kuvert/server/client/shipping"
)

// VerifyLog checks the local compliance log: its Merkle tree against
// every signed checkpoint, with o.Key and against o.Kept. A log that
// does not verify is [auditlog.ErrTampered], with the result saying
// where; the result is nil only when the log could not be read.
func (a *App) VerifyLog(o auditlog.VerifyOptions) (*auditlog.VerifyResult, error) {
	l, _, err := a.OpenLog()
	if err != nil {
		return nil, err
	}
	return l.VerifyWith(o)
}

// ServerWarning is something a server check passed despite; the shells
// put it into words.
type ServerWarning string

// The warnings of [App.VerifyServer].
const (
	// KeyFromServer: no key was given, so the head was checked with the
	// key the server itself reports.
	KeyFromServer ServerWarning = "key-from-server"
	// OtherKeys: this computer saw the server sign with other keys
	// before ([ServerCheck.OtherKeys]); a new key means a new log.
	OtherKeys ServerWarning = "other-keys"
	// ShippedOtherKey: the head the shipping queue received is not
	// signed with this key, so what was shipped was not checked.
	ShippedOtherKey ServerWarning = "shipped-other-key"
	// NotFullCheck: the token may not run the server's full check
	// (registrars may); only the signed head was checked.
	NotFullCheck ServerWarning = "not-full-check"
)

// ServerCheck is the outcome of [App.VerifyServer], also when it fails.
type ServerCheck struct {
	URL       string
	Key       string // the verifier key the head was checked with
	Head      *heads.HeadCheck
	Server    *api.VerifyResponse // the server's own full check, when the token may run it
	Warnings  []ServerWarning
	OtherKeys []string // with OtherKeys: the keys seen before
}

// VerifyServer checks the central log on the kuvert server c: its signed
// head with key (the verifier key the administrator published; "" takes
// the key the server reports, with a warning), proved consistent with
// the heads this computer saw from it before (Home/server-heads.json)
// and with the head the shipping queue last received; then the server's
// own full check, when the token may run it.
//
// The key-swap rule is here so that every shell applies it: without a
// key of its own, a server that now reports a key other than the one
// the heads this computer holds were signed with is tampering, since
// only the server vouches for the new key, and a server that rewrote its
// history under a new key would pass otherwise. Likewise a server the
// queue caught not proving it kept an upload fails, whatever it says now.
//
// It returns a nil check only when the server's key could not be read;
// otherwise the check says how far it got, and the error is
// [client.ErrTampered] for anything a server must not do.
func (a *App) VerifyServer(ctx context.Context, c *client.Client, key string) (*ServerCheck, error) {
	key = strings.TrimSpace(key)
	out := &ServerCheck{URL: c.URL()}
	fromServer := key == ""
	if fromServer {
		k, err := c.Key(ctx)
		if err != nil {
			return nil, err
		}
		key = strings.TrimSpace(k)
		out.Warnings = append(out.Warnings, KeyFromServer)
	}
	out.Key = key
	// A damaged file of seen heads is reported (below, once the check
	// can carry it), not taken for "none seen": the key-swap rule needs
	// to know every key seen.
	store := heads.Store{Dir: a.Home()}
	seen, seenErr := store.Read()
	if seenErr == nil {
		out.OtherKeys = seen.OtherKeys(c.URL(), key)
	}
	if len(out.OtherKeys) > 0 {
		out.Warnings = append(out.Warnings, OtherKeys)
	}
	// The head the shipping queue last received from this server, if
	// this computer ships to it.
	var shipped *api.Head
	var refused *shipping.Stuck // the queue caught this server not proving what it took
	if l, _, err := a.OpenLog(); err == nil {
		if cur, err := shipping.ReadCursor(l.Dir()); err == nil && cur.Server == c.URL() {
			shipped = cur.Head
			if cur.Stuck != nil && cur.Stuck.Code == shipping.StuckTampered {
				refused = cur.Stuck
			}
		}
	}
	shippedOther := false
	if shipped != nil {
		if _, _, err := client.OpenHead(*shipped, key); err != nil {
			shippedOther = true
			out.Warnings = append(out.Warnings, ShippedOtherKey)
		}
	}
	if seenErr != nil {
		return out, seenErr
	}
	if fromServer && (len(out.OtherKeys) > 0 || shippedOther) {
		return out, fault.New(CodeServerKeySwapped, "key", key).Also(client.ErrTampered)
	}
	if refused != nil {
		// Whatever the server's head says now, it answered this
		// computer's upload without proving it kept the entries.
		return out, fault.New(CodeUploadUnproved, "seq", strconv.FormatInt(refused.Seq, 10), "id", refused.ID, "message", refused.Message).Also(client.ErrTampered)
	}
	hc, err := heads.Check(ctx, c, store, key, shipped)
	out.Head = hc
	if err != nil {
		return out, err
	}
	vr, err := c.Verify(ctx)
	switch {
	case err == nil:
		out.Server = vr
		if !vr.OK {
			return out, fault.New(CodeServerCheckFailed, "entry", strconv.FormatInt(vr.FirstBad, 10), "problem", vr.Problem).Also(client.ErrTampered)
		}
		if strings.TrimSpace(vr.Key) != key {
			return out, fault.New(CodeServerKeyDiffers, "key", vr.Key).Also(client.ErrTampered)
		}
	case errors.Is(err, client.ErrForbidden):
		out.Warnings = append(out.Warnings, NotFullCheck)
	default:
		return out, err
	}
	return out, nil
}
