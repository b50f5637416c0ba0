package auditlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Attack: edit an entry, delete the checkpoints and the hash cache,
// run any ordinary command. Repair used to sign the edited entries as
// "written before an interruption" and verify with the kept key passed.
func TestForgeryThroughRepairRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		cut  func(t *testing.T, cp string)
	}{
		{"checkpoints deleted", func(t *testing.T, cp string) { os.Remove(cp) }},
		{"checkpoints emptied", func(t *testing.T, cp string) { os.WriteFile(cp, nil, 0o600) }},
		{"checkpoints cut back", func(t *testing.T, cp string) {
			writeLines(t, cp, readLines(t, cp)[:3]) // genesis + 2: entries 3..6 uncovered
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, _ := newLog(t)
			kept := l.VerifierKey()
			appendN(t, l, 6)
			ep := filepath.Join(l.dir, entriesFile)
			lines := readLines(t, ep)
			lines[4] = bytes.Replace(lines[4], []byte(`lönelista_4.zip`), []byte(`lönelista_X.zip`), 1)
			writeLines(t, ep, lines)
			c.cut(t, filepath.Join(l.dir, checkpointsFile))
			os.Remove(filepath.Join(l.dir, hashesFile))
			before, _ := os.ReadFile(ep)

			if _, err := l.Append(sealEntry(7)); !errors.Is(err, ErrTampered) {
				t.Fatalf("append after forgery: %v, want ErrTampered", err)
			}
			if _, err := l.Prune(time.Now(), "0d"); !errors.Is(err, ErrTampered) {
				t.Fatalf("prune after forgery: %v, want ErrTampered", err)
			}
			if _, err := l.Verify(kept); !errors.Is(err, ErrTampered) {
				t.Fatalf("verify with the kept key: %v, want ErrTampered", err)
			}
			after, _ := os.ReadFile(ep)
			if !bytes.Equal(before, after) {
				t.Fatal("the refused append changed the entries")
			}
		})
	}
}

// A crash between a commit's checkpoint and its entries: the next writer
// withdraws that checkpoint and records what it withdrew; nothing is
// signed that was not signed before.
func TestCrashAfterCheckpointWithdrawn(t *testing.T) {
	for _, partial := range []string{"", `{"seq":4,"id":"2026`, "full"} {
		t.Run(fmt.Sprintf("partial=%q", partial), func(t *testing.T) {
			l, _ := newLog(t)
			appendN(t, l, 3)
			l.testOnlyCrashAfterCheckpoint = true
			if _, err := l.Append(sealEntry(3)); err == nil {
				t.Fatal("test crash did not happen")
			}
			l.testOnlyCrashAfterCheckpoint = false
			ep := filepath.Join(l.dir, entriesFile)
			switch partial {
			case "full": // one line of a two-entry commit made it
				st, err := func() (*state, error) { u, _ := l.lock(false); defer u(); return l.recover() }()
				if err != nil {
					t.Fatal(err)
				}
				l.testOnlyCrashAfterCheckpoint = true
				l.write(st, []Entry{sealEntry(10), sealEntry(11)})
				l.testOnlyCrashAfterCheckpoint = false
				line, _ := json.Marshal(Entry{Seq: st.n + 1, Action: ActionSeal})
				f, _ := os.OpenFile(ep, os.O_APPEND|os.O_WRONLY, 0)
				f.Write(append(line, '\n'))
				f.Close()
			case "":
			default:
				f, _ := os.OpenFile(ep, os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString(partial)
				f.Close()
			}
			if _, err := l.Verify(""); !errors.Is(err, ErrTampered) {
				t.Fatalf("a dangling checkpoint verifies: %v", err)
			}
			e, err := l.Append(sealEntry(5))
			if err != nil {
				t.Fatal(err)
			}
			es, _ := l.Entries()
			rep := es[len(es)-2]
			if rep.Action != ActionRepair || rep.Repair == nil || rep.Repair.WithdrawnSize == 0 || rep.Repair.WithdrawnRoot == "" || rep.Repair.LostEntries == 0 {
				t.Fatalf("repair not recorded with what it withdrew: %+v", rep)
			}
			if !strings.Contains(rep.Details, "withdrew the checkpoint") {
				t.Fatalf("details: %q", rep.Details)
			}
			if e.Seq != rep.Seq+1 {
				t.Fatalf("seq %d after repair %d", e.Seq, rep.Seq)
			}
			res, err := l.Verify("")
			if err != nil {
				t.Fatal(err)
			}
			if res.Repairs == 0 {
				t.Fatalf("verify does not count the repair: %+v", res)
			}
		})
	}
}

// Attack: dropping the newest k entries with their k checkpoints
// leaves a log that is whole on its own; a checkpoint kept elsewhere
// catches it.
func TestRollbackCaughtByKeptCheckpoint(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 5)
	kept, err := l.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(kept, []byte(noteOrigin+"\n5\n")) {
		t.Fatalf("checkpoint note: %q", kept)
	}
	appendN(t, l, 3)
	if res, err := l.VerifyWith(VerifyOptions{Kept: [][]byte{kept}}); err != nil || res.Kept != 1 {
		t.Fatalf("honest log against kept checkpoint: %+v %v", res, err)
	}

	ep, cp := filepath.Join(l.dir, entriesFile), filepath.Join(l.dir, checkpointsFile)
	writeLines(t, ep, readLines(t, ep)[:3])
	writeLines(t, cp, readLines(t, cp)[:4])
	os.Remove(filepath.Join(l.dir, hashesFile))
	if _, err := l.Verify(""); err != nil {
		t.Fatalf("a cut-back log is whole on its own (documented): %v", err)
	}
	res, err := l.VerifyWith(VerifyOptions{Kept: [][]byte{kept}})
	if !errors.Is(err, ErrTampered) || !strings.Contains(res.Problem, "kept checkpoint covers 5") {
		t.Fatalf("rollback not caught: %+v %v", res, err)
	}
}

// A kept checkpoint also catches history rewritten under the kept size
// by someone with the key (a consistency proof, not just a size).
func TestKeptCheckpointCatchesRewriteWithKey(t *testing.T) {
	dir := t.TempDir()
	open := func(logDir string) *Log {
		l, err := Open(Options{Dir: filepath.Join(dir, logDir), KeyDir: filepath.Join(dir, "keys")})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	honest := open("a")
	appendN(t, honest, 4)
	kept, _ := honest.Checkpoint()
	// The key holder builds another history in another folder with the
	// same key and puts it in place.
	forged := open("b")
	for i := 0; i < 6; i++ {
		e := sealEntry(i)
		e.Note = "rewritten"
		if _, err := forged.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := forged.Verify(honest.VerifierKey()); err != nil {
		t.Fatalf("the forgery is signed with the real key: %v", err)
	}
	if _, err := forged.VerifyWith(VerifyOptions{Kept: [][]byte{kept}}); !errors.Is(err, ErrTampered) {
		t.Fatalf("rewritten history passed the kept checkpoint: %v", err)
	}
	// A kept checkpoint signed by another key is refused, not ignored.
	other, _ := newLog(t)
	appendN(t, other, 1)
	ok, _ := other.Checkpoint()
	if _, err := honest.VerifyWith(VerifyOptions{Kept: [][]byte{ok}}); !errors.Is(err, ErrTampered) {
		t.Fatalf("foreign checkpoint: %v", err)
	}
}

// Deleting both files where a log existed is reported, not "0 entries".
func TestDeletedLogReported(t *testing.T) {
	l, dir := newLog(t)
	appendN(t, l, 2)
	os.RemoveAll(l.dir)
	l2, err := Open(Options{Dir: filepath.Join(dir, "log"), KeyDir: filepath.Join(dir, "keys")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := l2.Verify("")
	if !errors.Is(err, ErrTampered) || !strings.Contains(res.Problem, "gone") {
		t.Fatalf("deleted log: %+v %v", res, err)
	}
	if _, err := l2.Append(sealEntry(1)); !errors.Is(err, ErrTampered) {
		t.Fatalf("append to a deleted log started a new one: %v", err)
	}
	// A new folder never started by this key is a new log.
	l3, _ := Open(Options{Dir: filepath.Join(dir, "other"), KeyDir: filepath.Join(dir, "keys")})
	if res, err := l3.Verify(""); err != nil || res.Entries != 0 {
		t.Fatalf("new log: %+v %v", res, err)
	}
	appendN(t, l3, 1)
}

// Attack: any entry could be hidden by a "pruned" stub with the right
// leaf hash and no prune record.
func TestStubWithoutPruneRecordIsTampering(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 6)
	ep := filepath.Join(l.dir, entriesFile)
	hide := func(lines [][]byte, i int) {
		line := bytes.TrimSuffix(lines[i], []byte("\n"))
		leaf := tlog.RecordHash(line)
		stub, _ := json.Marshal(Entry{Seq: int64(i + 1), Pruned: true, Leaf: base64.StdEncoding.EncodeToString(leaf[:])})
		lines[i] = append(stub, '\n')
	}
	orig := readLines(t, ep)
	lines := readLines(t, ep)
	hide(lines, 2)
	writeLines(t, ep, lines)
	res, err := l.Verify("")
	if !errors.Is(err, ErrTampered) || res.FirstBad != 3 || !strings.Contains(res.Problem, "no prune record") {
		t.Fatalf("hidden entry: %+v %v", res, err)
	}
	writeLines(t, ep, orig)

	// A real pruning covers what it pruned and nothing written after it.
	if n, err := l.Prune(time.Now().Add(time.Hour), "0d"); err != nil || n != 6 {
		t.Fatalf("prune: %d %v", n, err)
	}
	appendN(t, l, 2)
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
	lines = readLines(t, ep)
	hide(lines, 7) // entry 8: after the prune record (7)
	writeLines(t, ep, lines)
	if res, err := l.Verify(""); !errors.Is(err, ErrTampered) || res.FirstBad != 8 {
		t.Fatalf("stub after the prune record: %+v %v", res, err)
	}
}

// The prune record is what makes stubs legitimate: it names the range
// and the limit, and is never pruned itself.
func TestPruneRecordNamesRange(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 3)
	limit := time.Now().Add(time.Minute)
	l.Prune(limit, "0d")
	l.Prune(limit.Add(time.Hour), "0d")
	es, _ := l.Entries()
	first := es[3]
	if first.Action != ActionPrune || first.Prune == nil || first.Prune.Through != 3 || first.Prune.Count != 3 || first.Prune.Seqs != "1-3" || first.Prune.Before != limit.UTC().Format(time.RFC3339) {
		t.Fatalf("prune record: %+v %+v", first, first.Prune)
	}
	if es[4].Prune == nil || es[4].Prune.Count != 0 || es[3].Pruned {
		t.Fatalf("the second pruning pruned the first one's record: %+v", es[3])
	}
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
}

// Attack: one sealing of a folder with 4,600 long paths wrote an
// 18 MB line that broke every later reader.
func TestHugeFileListBounded(t *testing.T) {
	l, _ := newLog(t)
	e := sealEntry(1)
	e.Files = nil
	for i := 0; i < 4600; i++ {
		e.Files = append(e.Files, FileRef{Name: fmt.Sprintf("%s/fil-%d.pdf", strings.Repeat("mapp/", 800), i), Size: int64(i), SHA256: strings.Repeat("ef", 32)})
	}
	full := FilesDigest(e.Files)
	got, err := l.Append(e)
	if err != nil {
		t.Fatal(err)
	}
	if got.FileCount != 4600 || len(got.Files) != MaxFiles || got.FilesDigest != full || got.FilesTotal() != 4600 {
		t.Fatalf("bounded entry: count %d, listed %d, digest %v", got.FileCount, len(got.Files), got.FilesDigest == full)
	}
	if len(got.Files[0].Name) > MaxNameLen {
		t.Fatalf("name of %d bytes kept", len(got.Files[0].Name))
	}
	b, _ := os.ReadFile(filepath.Join(l.dir, entriesFile))
	if len(b) > 200<<10 {
		t.Fatalf("entry line is %d bytes", len(b))
	}
	appendN(t, l, 1)
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
}

// Logs written before the bound may hold very long lines: every reader
// copes with lines of any length.
func TestLongLinesRead(t *testing.T) {
	long := `{"seq":1,"id":"x","action":"seal","note":"` + strings.Repeat("a", 20<<20) + `"}`
	var got []int
	torn, err := eachLine(strings.NewReader(long+"\n"+`{"seq":2}`+"\n"+"tail"), func(line []byte) error {
		got = append(got, len(line))
		return nil
	})
	if err != nil || torn != 4 || len(got) != 2 || got[0] != len(long) {
		t.Fatalf("eachLine: %v %d %v", got, torn, err)
	}
	l, _ := newLog(t)
	os.WriteFile(filepath.Join(l.dir, entriesFile), []byte(long+"\n"), 0o600)
	es, err := l.Entries()
	if err != nil || len(es) != 1 || len(es[0].Note) != 20<<20 {
		t.Fatalf("Entries on a long line: %d %v", len(es), err)
	}
	f, _ := os.Open(filepath.Join(l.dir, entriesFile))
	defer f.Close()
	if n, off, more, err := countLines(f, 5); n != 1 || off != int64(len(long)+1) || more || err != nil {
		t.Fatalf("countLines: %d %d %v %v", n, off, more, err)
	}
}

// Found by attacking the log: the checkpoints' JSON size and root sit
// beside the signed note. An editor who rewrote them to fit edited
// entries (leaving the notes alone) got the next append to sign the
// edited history. Recovery now builds only on what the key signed.
func TestCheckpointJSONRewrittenToFitEdits(t *testing.T) {
	for _, edit := range []string{"change", "delete"} {
		t.Run(edit, func(t *testing.T) {
			l, _ := newLog(t)
			kept := l.VerifierKey()
			appendN(t, l, 4)
			ep, cp := filepath.Join(l.dir, entriesFile), filepath.Join(l.dir, checkpointsFile)
			lines := readLines(t, ep)
			if edit == "change" {
				lines[1] = bytes.Replace(lines[1], []byte("lönelista_1.zip"), []byte("lönelista_Y.zip"), 1)
			} else {
				lines = append(lines[:2:2], lines[3:]...)
				for i := 2; i < len(lines); i++ {
					lines[i] = bytes.Replace(lines[i], []byte(fmt.Sprintf(`"seq":%d,`, i+2)), []byte(fmt.Sprintf(`"seq":%d,`, i+1)), 1)
				}
			}
			writeLines(t, ep, lines)
			// Recompute every checkpoint's JSON root and offset from the
			// edited entries, as the attacker's script did.
			var stored []tlog.Hash
			var offsets []int64
			var off int64
			for i, line := range lines {
				hs, _ := tlog.StoredHashes(int64(i), bytes.TrimSuffix(line, []byte("\n")), Hashes(stored))
				stored = append(stored, hs...)
				off += int64(len(line))
				offsets = append(offsets, off)
			}
			var out [][]byte
			for _, raw := range readLines(t, cp) {
				var c checkpoint
				json.Unmarshal(raw, &c)
				c.Size = min(c.Size, int64(len(lines)))
				root, _ := tlog.TreeHash(c.Size, Hashes(stored))
				c.Root = base64.StdEncoding.EncodeToString(root[:])
				if c.Size > 0 {
					c.Offset = offsets[c.Size-1]
				}
				b, _ := json.Marshal(c)
				out = append(out, append(b, '\n'))
			}
			writeLines(t, cp, out)
			os.Remove(filepath.Join(l.dir, hashesFile))

			if _, err := l.Append(sealEntry(9)); !errors.Is(err, ErrTampered) {
				t.Fatalf("append over rewritten checkpoints: %v, want ErrTampered", err)
			}
			if _, err := l.Verify(kept); !errors.Is(err, ErrTampered) {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}

// Found by attacking the log: a prune record that pruned nothing (or any
// record whose range reached far enough) used to cover a stub hiding any
// earlier entry. A record names exactly the stubs it made.
func TestPruneRecordCoversOnlyWhatItPruned(t *testing.T) {
	l, _ := newLog(t)
	old := time.Now().AddDate(0, 0, -100)
	l.now = func() time.Time { return old }
	appendN(t, l, 2)
	l.now = time.Now
	appendN(t, l, 3)
	if n, err := l.Prune(time.Now().AddDate(0, 0, -90), "90d"); err != nil || n != 2 {
		t.Fatalf("prune: %d %v", n, err)
	}
	if n, err := l.Prune(time.Now().AddDate(0, 0, -90), "90d"); err != nil || n != 0 {
		t.Fatalf("second prune: %d %v", n, err)
	}
	if _, err := l.Verify(""); err != nil {
		t.Fatal(err)
	}
	ep := filepath.Join(l.dir, entriesFile)
	lines := readLines(t, ep)
	line := bytes.TrimSuffix(lines[3], []byte("\n")) // entry 4: recent, not pruned
	leaf := tlog.RecordHash(line)
	stub, _ := json.Marshal(Entry{Seq: 4, Pruned: true, Leaf: base64.StdEncoding.EncodeToString(leaf[:])})
	lines[3] = append(stub, '\n')
	writeLines(t, ep, lines)
	res, err := l.Verify("")
	if !errors.Is(err, ErrTampered) || res.FirstBad != 4 {
		t.Fatalf("a stub for an entry no pruning named: %+v %v", res, err)
	}
}

func TestRanges(t *testing.T) {
	for _, c := range []struct {
		in   []int64
		want string
	}{{nil, ""}, {[]int64{1}, "1"}, {[]int64{1, 2, 3, 7, 9, 10}, "1-3,7,9-10"}} {
		got := formatRanges(c.in)
		if got != c.want {
			t.Errorf("formatRanges(%v) = %q, want %q", c.in, got, c.want)
		}
		var back []int64
		ranges, err := ParseSeqs(got)
		if err != nil {
			t.Errorf("ParseSeqs(%q): %v", got, err)
		}
		for _, r := range ranges {
			for s := r.From; s <= r.To; s++ {
				back = append(back, s)
			}
		}
		if fmt.Sprint(back) != fmt.Sprint(c.in) && len(c.in) > 0 {
			t.Errorf("ParseSeqs(%q) = %v", got, back)
		}
	}
	for _, bad := range []string{"x", "3-1", "0-2", "1-", "-4",
		// Only what FormatSeqs writes: no spelling that reads the same.
		"1,,3", ",1", "1,", "+1", "01", "1-1", "1-2,3", "5,3", "1-4,2-6", " 1", "1 ", "1-2-3"} {
		if r, err := ParseSeqs(bad); err == nil || r != nil {
			t.Errorf("ParseSeqs(%q) accepted: %v", bad, r)
		}
	}
}

// A kept checkpoint that went through mail or an editor (CRLF, a BOM,
// blank lines) is still the same checkpoint; a changed one is not.
func TestKeptCheckpointFormatting(t *testing.T) {
	l, _ := newLog(t)
	appendN(t, l, 3)
	kept, _ := l.Checkpoint()
	for name, k := range map[string][]byte{
		"crlf":     bytes.ReplaceAll(kept, []byte("\n"), []byte("\r\n")),
		"bom":      append([]byte("\xef\xbb\xbf"), kept...),
		"newlines": append(append([]byte("\n\n"), kept...), "\n\n  "...),
	} {
		if _, err := l.VerifyWith(VerifyOptions{Kept: [][]byte{k}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	changed := bytes.Replace(kept, []byte("\n3\n"), []byte("\n2\n"), 1)
	if _, err := l.VerifyWith(VerifyOptions{Kept: [][]byte{changed}}); !errors.Is(err, ErrTampered) {
		t.Errorf("a changed kept checkpoint: %v", err)
	}
}
