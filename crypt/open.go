package crypt

import (
	stdzip "archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/kuvert-app/kuvert/internal/bytesize"
	"github.com/kuvert-app/kuvert/internal/termsafe"
)

// Limits bound what opening an archive may produce, against decompression
// bombs and archives built to exhaust disk or memory.
type Limits struct {
	MaxEntries int
	MaxTotal   int64 // bytes of plaintext in all
	MaxRatio   int64 // uncompressed/compressed, checked for entries > 1 MiB
}

// DefaultLimits fit attachments many times over: payroll lists, registers
// and scanned documents are megabytes, not gigabytes.
var DefaultLimits = Limits{MaxEntries: 10000, MaxTotal: 16 << 30, MaxRatio: 1000}

// Kind is the type of an archive found by [Inspect].
type Kind string

const (
	KindZip      Kind = "zip"
	KindAge      Kind = "age"
	KindAgeArmor Kind = "age-armor"
)

// Info is what can be learnt about an archive without a password.
type Info struct {
	Kind Kind
	// Passphrase is true when a password opens it (every AES zip; an age
	// file with a scrypt stanza) rather than an age identity.
	Passphrase bool
	// ScryptWorkFactor is the log2 of the scrypt cost an age passphrase
	// file asks for (18 for kuvert and age); 0 otherwise.
	ScryptWorkFactor int
}

// MaxScryptWorkFactor is the largest scrypt work factor (log2 N) kuvert
// accepts in an age passphrase file. The file chooses it, and each step
// doubles both the time and the memory of trying a password: 18, what
// kuvert, age and typage write, costs 256 MiB; 20 costs 1 GiB and a few
// seconds; 22, age's own limit, 4 GiB. Accepting up to 20 leaves room for
// rage, which calibrates the factor to about a second on the sealing
// machine, while a hostile file can no longer make opening it cost
// gigabytes. A larger factor is refused before any
// scrypt work, by [Inspect] and so by every opening path.
const MaxScryptWorkFactor = 20

// Credentials open an archive: a password, or age identities.
type Credentials struct {
	Password   string
	Identities []age.Identity
}

// OpenOptions are shared by [List], [Verify] and [Extract].
type OpenOptions struct {
	Credentials
	Limits   Limits // zero value means DefaultLimits
	Progress func(n int64)
}

// Entry is one file inside an archive.
type Entry struct {
	Name     string    `json:"name"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
}

const ageMagic = "age-encryption.org/v1\n"

// Inspect tells what kind of archive path is.
func Inspect(path string) (Info, error) {
	f, _, err := openArchive(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(64)
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Info{Kind: KindZip, Passphrase: true}, nil
	case bytes.HasPrefix(head, []byte(ageMagic)):
		return ageInfo(KindAge, br)
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(armor.Header)):
		return ageInfo(KindAgeArmor, armor.NewReader(br))
	}
	return Info{}, fmt.Errorf("%w: %s is neither a zip nor an age file", ErrUnsupported, termsafe.Escape(path))
}

// ageInfo reads an age header and refuses a scrypt work factor above
// [MaxScryptWorkFactor]. A header age cannot parse is left for opening to
// report.
func ageInfo(kind Kind, r io.Reader) (Info, error) {
	info := Info{Kind: kind}
	hdr, err := age.ExtractHeader(io.LimitReader(r, 1<<20))
	if err != nil {
		return info, nil
	}
	for _, line := range strings.Split(string(hdr), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "->" || f[1] != "scrypt" {
			continue
		}
		info.Passphrase = true
		if len(f) != 4 {
			continue // malformed: age refuses it
		}
		logN, err := strconv.Atoi(f[3])
		if err != nil {
			continue
		}
		if logN > MaxScryptWorkFactor {
			return Info{}, fmt.Errorf("%w: the age file asks for scrypt work factor %d (%s of memory to try a password); kuvert opens files up to %d, and age and kuvert write 18", ErrUnsafe, logN, scryptMemory(logN), MaxScryptWorkFactor)
		}
		info.ScryptWorkFactor = logN
	}
	return info, nil
}

// scryptMemory is what scrypt with r=8 needs at work factor logN.
func scryptMemory(logN int) string {
	if logN > 40 {
		return "more than a terabyte"
	}
	return bytesize.Human(int64(128*8) << logN)
}

// openArchive opens an archive only if it is a regular file. Opening a
// named pipe waits for a writer that never comes, and a device or a folder
// is never an archive; they are refused before open,
// and the file opened is checked to be the one looked at.
func openArchive(path string) (*os.File, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInput, describeFSError(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s is not a regular file (%s)", ErrInput, termsafe.Escape(path), fileKind(fi.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrInput, describeFSError(err))
	}
	st, err := f.Stat()
	if err != nil || !os.SameFile(fi, st) {
		f.Close()
		return nil, nil, fmt.Errorf("%w: %s changed while it was being opened", ErrInput, termsafe.Escape(path))
	}
	return f, st, nil
}

// fileKind names what a non-regular file is, for messages.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// source is an opened archive: its entries and a way to read each.
type source struct {
	entries []zipEntry
	open    func(i int) (io.ReadCloser, error)
	close   func()
}

func openSource(path string, o OpenOptions) (*source, error) {
	info, err := Inspect(path)
	if err != nil {
		return nil, err
	}
	f, st, err := openArchive(path)
	if err != nil {
		return nil, err
	}
	var s *source
	if info.Kind == KindZip {
		s, err = openZipSource(f, st.Size(), o)
	} else {
		s, err = openAgeSource(f, st.Size(), info, path, o)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	inner := s.close
	s.close = func() {
		if inner != nil {
			inner()
		}
		f.Close()
	}
	return s, nil
}

func openZipSource(ra io.ReaderAt, size int64, o OpenOptions) (*source, error) {
	zr, entries, err := checkZip(ra, size, o.Limits, false)
	if err != nil {
		return nil, err
	}
	var ka *keyAhead // started on the first entry opened
	s := &source{entries: entries}
	s.open = func(i int) (io.ReadCloser, error) {
		if !entries[i].encrypted {
			return io.NopCloser(bytes.NewReader(nil)), nil // empty, checked in checkZip
		}
		if o.Password == "" {
			return nil, ErrNeedPassword
		}
		if ka == nil {
			ka = newKeyAhead(zr, entries, o.Password)
		}
		k, err := ka.get(i)
		if err != nil {
			return nil, err
		}
		return openAESEntryKeys(zr.File[i], entries[i], k)
	}
	s.close = func() {
		if ka != nil {
			ka.close()
		}
	}
	return s, nil
}

func openAgeSource(f *os.File, size int64, info Info, path string, o OpenOptions) (*source, error) {
	var ra io.ReaderAt = f
	var cleanup func()
	if info.Kind == KindAgeArmor {
		// De-armor into a temporary file: it holds ciphertext only, and
		// gives DecryptReaderAt the random access it needs.
		tmp, err := os.CreateTemp("", "kuvert-dearmor-*")
		if err != nil {
			return nil, err
		}
		cleanup = func() { tmp.Close(); os.Remove(tmp.Name()) }
		n, err := io.Copy(tmp, armor.NewReader(f))
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("%w: the armored text is damaged", ErrDamaged)
		}
		ra, size = tmp, n
	}
	ids := append([]age.Identity(nil), o.Identities...)
	if o.Password != "" {
		id, err := age.NewScryptIdentity(o.Password)
		if err != nil {
			return nil, err
		}
		id.SetMaxWorkFactor(MaxScryptWorkFactor) // Inspect refused larger ones already
		ids = append(ids, id)
	}
	fail := func(err error) (*source, error) {
		if cleanup != nil {
			cleanup()
		}
		return nil, err
	}
	if len(ids) == 0 {
		if info.Passphrase {
			return fail(ErrNeedPassword)
		}
		return fail(fmt.Errorf("%w: this age file is for a key holder: give the identity file with -i", ErrNeedPassword))
	}
	pt, ptSize, err := decryptAge(ra, size, ids)
	if err != nil {
		return fail(err)
	}
	if ptSize > o.Limits.MaxTotal {
		return fail(fmt.Errorf("%w: the contents exceed %s, the size limit", ErrUnsafe, bytesize.Human(o.Limits.MaxTotal)))
	}
	if zr, entries, ok := markedZip(pt, ptSize, o.Limits, bundleComment); ok {
		s := plainSource(zr, entries)
		s.close = cleanup
		return s, nil
	} else if entries != nil {
		return fail(fmt.Errorf("%w: the bundle inside is not a valid zip", ErrDamaged))
	}
	name := ageStem(filepath.Base(path))
	st, _ := f.Stat()
	e := zipEntry{name: name, size: ptSize, modified: st.ModTime()}
	return &source{entries: []zipEntry{e}, close: cleanup, open: func(int) (io.ReadCloser, error) {
		return &ageReadCloser{rc: io.NopCloser(io.NewSectionReader(pt, 0, ptSize))}, nil
	}}, nil
}

// plainSource reads a checked plain zip (authenticated by the layer
// around it: age, or the AES entry it came out of).
func plainSource(zr *stdzip.Reader, entries []zipEntry) *source {
	return &source{entries: entries, open: func(i int) (io.ReadCloser, error) {
		rc, err := zr.File[i].Open()
		if err != nil {
			return nil, fmt.Errorf("%w: entry %s: %v", ErrDamaged, quoteName(entries[i].name), err)
		}
		return &ageReadCloser{rc: rc}, nil
	}}
}

// markedZip recognises a plain zip kuvert wrote, by its comment: the
// multi-file bundle inside an age file, or the hidden-names zip inside an
// AES zip. ok is false for anything else; entries is non-nil when it
// claimed to be one but failed the checks.
func markedZip(pt io.ReaderAt, size int64, lim Limits, comment string) (zr *stdzip.Reader, entries []zipEntry, ok bool) {
	probe, err := stdzip.NewReader(pt, size)
	if err != nil || probe.Comment != comment {
		return nil, nil, false
	}
	zr, entries, err = checkZip(pt, size, lim, true)
	if err != nil {
		return nil, []zipEntry{}, false
	}
	return zr, entries, true
}

func decryptAge(ra io.ReaderAt, size int64, ids []age.Identity) (io.ReaderAt, int64, error) {
	pt, n, err := age.DecryptReaderAt(ra, size, ids...)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			return nil, 0, ErrWrongPassword
		}
		return nil, 0, fmt.Errorf("%w: %s", ErrDamaged, ageErrText(err))
	}
	return pt, n, nil
}

// ageErrText keeps age's own words where they help ("failed to read
// header") but never a byte of the file.
func ageErrText(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120]
	}
	return "age: " + s
}

// ageReadCloser maps age's STREAM errors (a chunk failed to authenticate,
// truncation) to ErrDamaged.
type ageReadCloser struct{ rc io.ReadCloser }

func (a *ageReadCloser) Read(p []byte) (int, error) {
	n, err := a.rc.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %s", ErrDamaged, ageErrText(err))
	}
	return n, err
}

func (a *ageReadCloser) Close() error { return a.rc.Close() }

// ageStem is the file name a single-file age archive gives back.
func ageStem(base string) string {
	for _, suf := range []string{".asc", ".age"} {
		base = strings.TrimSuffix(base, suf)
	}
	if base == "" || base == "." || base == ".." {
		return "decrypted"
	}
	return base
}

func (o *OpenOptions) limits() {
	if o.Limits == (Limits{}) {
		o.Limits = DefaultLimits
	}
}

// List returns the entries of an archive. A zip's names and sizes are
// readable without the password (they are not encrypted: see
// docs/threat-model.md); an age file must be decrypted to be listed.
func List(path string, o OpenOptions) ([]Entry, error) {
	o.limits()
	s, err := openSource(path, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var out []Entry
	for _, e := range s.entries {
		if !e.isDir {
			out = append(out, Entry{Name: e.name, Size: e.size, Modified: e.modified})
		}
	}
	return out, nil
}

// Verify checks the password and the integrity of every entry by reading
// it completely, writing no plaintext anywhere.
func Verify(ctx context.Context, path string, o OpenOptions) ([]Entry, error) {
	o.limits()
	s, err := openSource(path, o)
	if err != nil {
		return nil, err
	}
	defer s.close()
	var out []Entry
	for i, e := range s.entries {
		if e.isDir {
			continue
		}
		if err := readEntry(ctx, s, i, io.Discard, o.Progress); err != nil {
			return nil, err
		}
		out = append(out, Entry{Name: e.name, Size: e.size, Modified: e.modified})
	}
	return out, nil
}

// readEntry copies entry i to w and succeeds only if its authentication
// verified and it produced exactly its declared size. When w is an
// [asyncWriter] the buffers are handed to its goroutine, so writing the
// file overlaps with decrypting and inflating the next piece.
func readEntry(ctx context.Context, s *source, i int, w io.Writer, progress func(int64)) error {
	e := s.entries[i]
	rc, err := s.open(i)
	if err != nil {
		return err
	}
	defer rc.Close()
	aw, async := w.(*asyncWriter)
	var own *[]byte
	if !async {
		own = chunkPool.Get().(*[]byte)
		defer putChunk(own)
	}
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		bp := own
		if async {
			bp = chunkPool.Get().(*[]byte)
		}
		k, rerr := io.ReadFull(rc, *bp)
		if rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
		}
		if k > 0 {
			n += int64(k)
			if n > e.size {
				return fmt.Errorf("%w: entry %s is larger than its header says", ErrDamaged, quoteName(e.name))
			}
			if async {
				*bp = (*bp)[:k]
				if err := aw.send(bp); err != nil {
					return writeErr(e.name, err)
				}
			} else if _, err := w.Write((*bp)[:k]); err != nil {
				return writeErr(e.name, err)
			}
			if progress != nil {
				progress(int64(k))
			}
		} else if async {
			putChunk(bp)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if n != e.size {
		return fmt.Errorf("%w: entry %s is shorter than its header says", ErrDamaged, quoteName(e.name))
	}
	return nil
}

// asyncWriter writes pooled buffers to a file on its own goroutine.
type asyncWriter struct {
	w    io.Writer
	ch   chan *[]byte
	done chan struct{}
	err  error // read only after done
	fail chan struct{}
	once sync.Once
}

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, ch: make(chan *[]byte, 4), done: make(chan struct{}), fail: make(chan struct{})}
	go func() {
		defer close(a.done)
		for bp := range a.ch {
			if a.err == nil {
				if _, err := a.w.Write(*bp); err != nil {
					a.err = err
					close(a.fail)
				}
			}
			putChunk(bp)
		}
	}()
	return a
}

// send hands bp over; it fails once a write failed.
func (a *asyncWriter) send(bp *[]byte) error {
	select {
	case <-a.fail:
		putChunk(bp)
		return a.close()
	case a.ch <- bp:
		return nil
	}
}

// Write copies p, for callers that are not readEntry.
func (a *asyncWriter) Write(p []byte) (int, error) {
	for q := p; len(q) > 0; {
		bp := chunkPool.Get().(*[]byte)
		k := copy(*bp, q)
		*bp = (*bp)[:k]
		if err := a.send(bp); err != nil {
			return 0, err
		}
		q = q[k:]
	}
	return len(p), nil
}

// close waits for every write and returns the first error.
func (a *asyncWriter) close() error {
	a.once.Do(func() { close(a.ch) })
	<-a.done
	return a.err
}
