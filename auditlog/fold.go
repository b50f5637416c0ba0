package auditlog

import "slices"

// Sealing is one sealed archive with what became of it.
type Sealing struct {
	Entry Entry // the seal entry, Delivery as recorded at sealing
	// Delivery is the password's current delivery: that of the text
	// (Texts) a follow-up entry last spoke of, else the seal entry's own
	// (pending); nil when the password was not texted.
	Delivery *Delivery
	// Texts are the SMS that carried this sealing's password, one per
	// text however many entries record it, in the order they were sent.
	Texts []Text
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

// Text is one SMS as the log knows it. A text the central server relayed
// is recorded twice: by the device that asked for it (its provider is the
// relay) and by the server that handed it to the SMS provider (Device
// [CentralServerDevice], Operator the device). Both carry the text's
// reference and the provider's message id; status checks may add more
// entries with that id. All of them describe one text and fold into one
// Text, so no view shows two texts where one went out.
type Text struct {
	// Delivery is the text's current state: the provider that really sent
	// it, the relay's word on the sending over the device's, then the
	// latest status check that did not step back.
	Delivery Delivery
	// Entry is the id of the entry that stands for the text in a list:
	// the device's own record when there is one.
	Entry string
	// Folded are the ids of the other entries that record this text.
	Folded []string

	rank          int  // of Delivery.Status
	device, relay bool // which sides' records were seen
	last          int  // index of the latest entry folded in (for Sealing.Delivery)
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
func (s *Sealing) Sent() bool { return s.Delivery.Sent() }

// Sealings folds every follow-up (SMS, delivery status, removal) onto the
// sealing it refers to and returns the sealings in log order. This is the
// one place that decides "what is the state of this sealing": log list,
// export, the desktop app, the server's search and batch resume all use
// it (through [View] where they list entries).
//
// In the central log (entries with a Device) an entry follows up only a
// sealing of its own device, or, from the server itself (its SMS relay),
// one of the device it relayed for: another device cannot mark a
// sealing removed, superseded or delivered.
func Sealings(all []Entry) []Sealing {
	var out []Sealing
	at := map[string]int{}
	newer := map[string]string{} // old sealing → the sealing that refers to it
	// Sealings first: in the central log a follow-up can precede its
	// sealing (the relay records the SMS it sent before the device has
	// shipped the sealing).
	for _, e := range all {
		if e.Pruned || e.Action != ActionSeal {
			continue
		}
		at[e.ID] = len(out)
		out = append(out, Sealing{Entry: e, Delivery: e.Delivery})
		if i, ok := at[e.Refers]; e.Refers != "" && (!ok || owner(&out[i].Entry) == owner(&e)) {
			newer[e.Refers] = e.ID
		}
	}
	for n, e := range all {
		if e.Pruned || e.Action == ActionSeal {
			continue
		}
		i, ok := at[e.Refers]
		if !ok || owner(&out[i].Entry) != owner(&e) {
			continue
		}
		s := &out[i]
		s.FollowUps = append(s.FollowUps, e)
		if e.Delivery != nil {
			t := s.foldText(&e, n)
			s.Delivery = &t.Delivery
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
		// Texts were grown in place: point Delivery at the final copy.
		s := &out[i]
		if len(s.Texts) > 0 {
			k := 0
			for j := range s.Texts {
				if s.Texts[j].last > s.Texts[k].last {
					k = j
				}
			}
			s.Delivery = &s.Texts[k].Delivery
		}
	}
	return out
}

// textSide says which record of a text e is: the relaying server's, a
// status check's, or the device's own.
func textSide(e *Entry) (relay, status bool) {
	return e.Device == CentralServerDevice, e.Action == ActionSMSStatus
}

// foldText adds e, a follow-up with a delivery at index n of the log, to
// the text it records, or starts a new text.
func (s *Sealing) foldText(e *Entry, n int) *Text {
	d := e.Delivery
	relay, status := textSide(e)
	var t *Text
	// The provider's message id names one text.
	if d.MessageID != "" {
		for i := range s.Texts {
			if s.Texts[i].Delivery.MessageID == d.MessageID {
				t = &s.Texts[i]
				break
			}
		}
	}
	switch {
	case t != nil:
	case status:
		// A status check without a known id: the latest text with its
		// reference.
		for i := len(s.Texts) - 1; i >= 0 && t == nil; i-- {
			if d.Ref == "" || s.Texts[i].Delivery.Ref == d.Ref {
				t = &s.Texts[i]
			}
		}
	default:
		// The other side's record of the same send: the same reference,
		// this side not yet seen, and no two different ids (a send the
		// provider refused has none; a device that lost the relay's
		// answer has none either, while the relay recorded it).
		for i := range s.Texts {
			c := &s.Texts[i]
			if c.Delivery.Ref == d.Ref && (relay && c.device && !c.relay || !relay && c.relay && !c.device) &&
				(c.Delivery.MessageID == "" || d.MessageID == "") {
				t = c
				break
			}
		}
	}
	if t == nil {
		s.Texts = append(s.Texts, Text{Delivery: *d, Entry: e.ID, rank: statusRank(d.Status), device: !relay && !status, relay: relay, last: n})
		return &s.Texts[len(s.Texts)-1]
	}
	t.last = n
	t.Folded = append(t.Folded, e.ID)
	td := &t.Delivery
	if !relay && !status && !t.device {
		// The device's own record stands for the text in lists.
		t.Folded = slices.DeleteFunc(t.Folded, func(id string) bool { return id == e.ID })
		t.Folded = append([]string{t.Entry}, t.Folded...)
		t.Entry = e.ID
	}
	td.MessageID = first(td.MessageID, d.MessageID)
	td.Ref = first(td.Ref, d.Ref)
	td.ToTag = first(td.ToTag, d.ToTag)
	if td.To == "" || td.To == "-" {
		td.To = d.To
	}
	rank := statusRank(d.Status)
	switch {
	case relay && t.device, !relay && !status && t.relay:
		// The two records of one send: the relay's provider is the one
		// that sent it; the relay's word on the outcome counts over the
		// device's, which may only know that the relay's answer was lost.
		rp, dp := d.Provider, td.Provider
		if !relay {
			rp, dp = td.Provider, d.Provider
		}
		if rp != dp {
			td.Provider = dp + "/" + rp // kuvert-server/twilio
		}
		if relay {
			td.Status, td.Error, t.rank = d.Status, d.Error, rank
		}
	case rank >= t.rank:
		// A later word on the text (a status check, a record found again
		// after an interruption), unless it steps back: entries shipped
		// late can arrive after newer news.
		td.Status, td.Error, t.rank = d.Status, d.Error, rank
	}
	if relay {
		t.relay = true
	} else if !status {
		t.device = true
	}
	return t
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// statusRank orders delivery states by how far the text got; final
// states rank highest.
func statusRank(s Status) int {
	switch s {
	case StatusPending:
		return 0
	case StatusQueued, StatusAccepted:
		return 1
	case StatusSending:
		return 2
	case StatusSent:
		return 3
	case StatusDelivered, StatusUndelivered, StatusFailed, StatusDemo, StatusOutbox:
		return 4
	}
	return 1
}

// Row is one line of a view of the log ([View]): an entry as the fold
// shows it, and the ids of the entries folded into it.
type Row struct {
	Entry
	// Folded are the other entries that record the same SMS as this one
	// (the relaying server's record, status checks): they are not rows of
	// their own.
	Folded []string `json:"folded,omitempty"`
	// State and StateEn are the row's delivery in staff's words
	// ([Delivery.Words]), when it has one.
	State   string `json:"state,omitempty"`
	StateEn string `json:"state_en,omitempty"`
}

// View is the log as every list of it shows it (`kuvert log list` and
// `log export`, local and central, the desktop app's log, the
// registrar's page): the entries in log order, each sealing with its
// current delivery state rather than the "pending" it was recorded with,
// and one row per SMS, carrying the text's current state, however many
// entries record it ([Text]). Pruned stubs stay as they are.
func View(all []Entry) []Row {
	state := map[string]*Delivery{}
	folded := map[string]bool{}
	text := map[string]*Text{}
	for _, s := range Sealings(all) {
		if s.Delivery != nil {
			state[s.Entry.ID] = s.Delivery
		}
		for i := range s.Texts {
			t := &s.Texts[i]
			text[t.Entry] = t
			for _, id := range t.Folded {
				folded[id] = true
			}
		}
	}
	out := make([]Row, 0, len(all))
	for _, e := range all {
		if e.Pruned {
			out = append(out, Row{Entry: e})
			continue
		}
		if folded[e.ID] {
			continue
		}
		r := Row{Entry: e}
		if d, ok := state[e.ID]; ok && e.Action == ActionSeal {
			r.Delivery = d
		}
		if t, ok := text[e.ID]; ok && e.Action != ActionSeal {
			d := t.Delivery
			r.Delivery = &d
			r.Folded = slices.Clone(t.Folded)
		}
		if r.Delivery != nil {
			r.State, r.StateEn = r.Delivery.Words()
		}
		out = append(out, r)
	}
	return out
}

// Entries returns the rows' entries.
func Entries(rows []Row) []Entry {
	out := make([]Entry, len(rows))
	for i := range rows {
		out[i] = rows[i].Entry
	}
	return out
}
