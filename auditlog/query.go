package auditlog

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query selects entries. Zero fields match everything.
type Query struct {
	Since, Until time.Time // Since ≤ time < Until
	Case         string    // diarienummer, case-insensitive
	Ref          string    // the SMS/e-mail reference code
	Batch        string    // batch run id
	Actions      []Action  // only these actions
}

// Match reports whether e is selected. Pruned stubs never match.
func (q Query) Match(e *Entry) bool {
	w := e.When()
	switch {
	case e.Pruned:
	case !q.Since.IsZero() && w.Before(q.Since):
	case !q.Until.IsZero() && !w.Before(q.Until):
	case q.Case != "" && !strings.EqualFold(e.Case, q.Case):
	case q.Ref != "" && (e.Delivery == nil || !strings.EqualFold(e.Delivery.Ref, q.Ref)):
	case q.Batch != "" && e.Batch != q.Batch:
	case len(q.Actions) > 0 && !slices.Contains(q.Actions, e.Action):
	default:
		return true
	}
	return false
}

// Entries returns all entries in log order (pruned ones as stubs).
func (l *Log) Entries() ([]Entry, error) {
	unlock, err := l.lock(true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var out []Entry
	err = l.scan(func(seq int64, line []byte, e *Entry) error {
		if e != nil {
			out = append(out, *e)
		}
		return nil
	})
	return out, err
}

// Query returns the entries q selects, oldest first, each sealing with
// its current delivery state folded in (see [Current]).
func (l *Log) Query(q Query) ([]Entry, error) {
	all, err := l.Entries()
	if err != nil {
		return nil, err
	}
	all = Current(all)
	return slices.DeleteFunc(all, func(e Entry) bool { return !q.Match(&e) }), nil
}

// Find returns the entry with the given ID (or sequence number).
func (l *Log) Find(id string) (*Entry, error) {
	es, err := l.Entries()
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].ID == id || strconv.FormatInt(es[i].Seq, 10) == id {
			return &es[i], nil
		}
	}
	return nil, fmt.Errorf("no entry %q in the log", id)
}

// Sealing is one sealed archive with what became of it.
type Sealing struct {
	Entry Entry // the seal entry, Delivery as recorded at sealing
	// Delivery is the password's current delivery: the latest one a
	// follow-up entry recorded, else the seal entry's own (pending);
	// nil when the password was not texted.
	Delivery *Delivery
	// Removed: the archive was removed again (its generated password
	// reached nobody).
	Removed bool
	// FollowUps are the entries that refer to this sealing, in order.
	FollowUps []Entry
	// SupersededBy is the id of the sealing that replaced this one with a
	// new password (`kuvert resend`): set by an ActionSuperseded
	// follow-up, and only while that new sealing was not removed again.
	SupersededBy string
}

// CentralServerDevice is the device name of the entries `kuvert server`
// writes itself (the SMS it relays for a device, its prune records).
const CentralServerDevice = "server"

// owner is whose entry e is in the central log: its device, or for the
// server's own entries the device it acted for (the operator it
// records). In a local log every entry's owner is "".
func owner(e *Entry) string {
	if e.Device == CentralServerDevice {
		return e.Operator
	}
	return e.Device
}

// Sent reports whether the password really went out by SMS.
func (s *Sealing) Sent() bool { return s.Delivery != nil && s.Delivery.Status.Sent() }

// Sealings folds every follow-up (SMS, delivery status, removal) onto the
// sealing it refers to and returns the sealings in log order. This is the
// one place that decides "what is the state of this sealing": log list,
// export, the desktop app and batch resume all use it.
//
// In the central log (entries with a Device) an entry follows up only a
// sealing of its own device, or, from the server itself (its SMS relay),
// one of the device it relayed for: another device cannot mark a
// sealing removed, superseded or delivered.
func Sealings(all []Entry) []Sealing {
	var out []Sealing
	at := map[string]int{}
	newer := map[string]string{} // old sealing → the sealing that refers to it
	for _, e := range all {
		if e.Pruned {
			continue
		}
		if e.Action == ActionSeal {
			at[e.ID] = len(out)
			out = append(out, Sealing{Entry: e, Delivery: e.Delivery})
			if i, ok := at[e.Refers]; e.Refers != "" && (!ok || owner(&out[i].Entry) == owner(&e)) {
				newer[e.Refers] = e.ID
			}
			continue
		}
		i, ok := at[e.Refers]
		if !ok || owner(&out[i].Entry) != owner(&e) {
			continue
		}
		s := &out[i]
		s.FollowUps = append(s.FollowUps, e)
		if e.Delivery != nil {
			s.Delivery = e.Delivery
		}
		if e.Action == ActionSealFailed {
			s.Removed = true
		}
		if e.Action == ActionSuperseded {
			s.SupersededBy = newer[e.Refers]
		}
	}
	for i := range out {
		if j, ok := at[out[i].SupersededBy]; ok && out[j].Removed {
			out[i].SupersededBy = ""
		}
	}
	return out
}

// Current returns the entries with each sealing's delivery replaced by
// its current state ([Sealings]), so a list shows "delivered" or
// "failed" on the sealing itself rather than the "pending" it was
// recorded with.
func Current(all []Entry) []Entry {
	state := map[string]*Delivery{}
	for _, s := range Sealings(all) {
		if s.Delivery != nil {
			state[s.Entry.ID] = s.Delivery
		}
	}
	out := slices.Clone(all)
	for i := range out {
		if d, ok := state[out[i].ID]; ok && out[i].Action == ActionSeal {
			out[i].Delivery = d
		}
	}
	return out
}
