package crypt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// Format is the kind of archive [Seal] writes.
type Format string

const (
	FormatZip Format = "zip" // WinZip AES-256 (AE-2); opens in 7-Zip, WinZip
	FormatAge Format = "age" // age v1, passphrase (scrypt) or public keys
)

// ParseFormat accepts "zip" and "age".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "zip", "":
		return FormatZip, nil
	case "age":
		return FormatAge, nil
	}
	return "", fmt.Errorf("unknown format %q (use zip or age)", s)
}

// SealOptions says what to seal, how and where.
type SealOptions struct {
	Inputs     []Input
	Output     string // final path; written through a temporary file
	Format     Format
	Password   Password        // zip, and age without Recipients
	Recipients []age.Recipient // age public keys (then no Password)
	Armor      bool            // age only: ASCII armor
	Force      bool            // replace an existing Output
	// HideNames keeps every file name out of a zip's clear directory: the
	// AES zip then holds one entry, HiddenNamesEntry, itself a plain zip
	// with the real files, names and times (see docs/formats.md).
	HideNames bool
	// Fast compresses compressible entries about five times faster for a
	// somewhat larger archive ([LevelFast], `--fast`); the default keeps
	// the size close to 7-Zip's.
	Fast bool
	// Progress, if set, is called with the number of input bytes read
	// since the last call.
	Progress func(n int64)
}

// FileResult describes one sealed input.
type FileResult struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// SealResult describes a sealed archive.
type SealResult struct {
	Archive string       `json:"archive"`
	Format  string       `json:"format"` // zip-aes256, age-scrypt, age-x25519, …
	SHA256  string       `json:"sha256"`
	Size    int64        `json:"size"`
	Files   []FileResult `json:"files"`
}

// MaxZipPasswordBytes is the longest zip password kuvert seals with:
// 7-Zip (26.02) refuses a WinZip AES password of 100 bytes or more
// ("E_INVALIDARG"), so a longer one would seal an archive its recipient
// cannot open. age passwords have no such limit.
const MaxZipPasswordBytes = 99

// ZipPasswordError is a password a zip cannot carry so that 7-Zip opens
// it: a character outside printable ASCII, or more than
// [MaxZipPasswordBytes] bytes. It matches [ErrInput]; the shells word it
// for people from its fields. It never holds the password.
type ZipPasswordError struct {
	NonASCII bool // a character outside printable ASCII (å, ä, ö …)
	Bytes    int  // the password's length in bytes
}

func (e *ZipPasswordError) Error() string {
	if e.NonASCII {
		return "a zip password may hold only ASCII letters, digits and punctuation; 7-Zip cannot open a zip whose password has å, ä, ö or other characters"
	}
	return fmt.Sprintf("the password is %d bytes; 7-Zip opens a zip only with a password of at most %d", e.Bytes, MaxZipPasswordBytes)
}

func (e *ZipPasswordError) Unwrap() error { return ErrInput }

// CheckZipPassword refuses a password 7-Zip cannot take for a zip (see
// [ZipPasswordError]): characters outside printable ASCII — 7-Zip (26.02)
// rejects å, ä or ö in a zip AES password, so a recipient could never
// type it — and more than [MaxZipPasswordBytes] bytes.
func CheckZipPassword(pw string) error {
	for _, r := range pw {
		if r < 0x20 || r > 0x7e {
			return &ZipPasswordError{NonASCII: true, Bytes: len(pw)}
		}
	}
	if len(pw) > MaxZipPasswordBytes {
		return &ZipPasswordError{Bytes: len(pw)}
	}
	return nil
}

// AgeBundle reports whether an age archive of these inputs carries a zip
// inside (several files, or files from a folder, whose names and times must
// survive) rather than the one file as it is, which `age -d` gives back.
// Archive names follow it (package naming).
func AgeBundle(inputs []Input) bool {
	return len(inputs) > 1 || strings.Contains(inputs[0].Name, "/")
}

// Seal writes the archive to a temporary file beside Output and moves it
// into place only when it is complete and synced, so a failure or a
// cancellation never leaves a half-written archive under the final name.
func Seal(ctx context.Context, o SealOptions) (res *SealResult, err error) {
	if len(o.Inputs) == 0 {
		return nil, fmt.Errorf("%w: no files to seal", ErrInput)
	}
	if err := checkOutput(o.Output, o.Inputs, o.Force); err != nil {
		return nil, err
	}
	switch o.Format {
	case FormatZip:
		if o.Password.Value == "" || len(o.Recipients) > 0 {
			return nil, fmt.Errorf("%w: a zip archive needs a password and takes no age recipients", ErrInput)
		}
		if o.Armor {
			return nil, fmt.Errorf("%w: armor is for age only", ErrInput)
		}
		if err := CheckZipPassword(o.Password.Value); err != nil {
			return nil, err
		}
	case FormatAge:
		if (o.Password.Value == "") == (len(o.Recipients) == 0) {
			return nil, fmt.Errorf("%w: age takes either a password or recipients, not both", ErrInput)
		}
	default:
		return nil, fmt.Errorf("%w: unknown format %q", ErrInput, o.Format)
	}

	dir := filepath.Dir(o.Output)
	tmp, err := os.CreateTemp(dir, ".kuvert-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write in %s: %s", dir, describeFSError(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	sink := newArchiveSink(tmp)
	res = &SealResult{Archive: o.Output}
	files, err := sealTo(ctx, sink, o, res)
	sum, size, serr := sink.finish()
	if err == nil && serr != nil {
		err = writeErr(o.Output, serr)
	}
	if err != nil {
		return nil, err
	}
	// The archive is not fsynced: like 7-Zip and age, kuvert leaves that
	// to the OS (an fsync of 500 MB cost 2.3 s here). The rename below is
	// still atomic; the compliance log, which must survive a crash, syncs.
	if err := tmp.Close(); err != nil {
		return nil, writeErr(o.Output, err)
	}
	if err := place(tmp.Name(), o.Output, o.Force); err != nil {
		return nil, err
	}
	res.Files = files
	res.SHA256 = sum
	res.Size = size
	return res, nil
}

func sealTo(ctx context.Context, w io.Writer, o SealOptions, res *SealResult) ([]FileResult, error) {
	level := LevelDefault
	if o.Fast {
		level = LevelFast
	}
	if o.Format == FormatZip {
		res.Format = "zip-aes256"
		n := len(o.Inputs)
		if o.HideNames {
			n = 1
		}
		outer := newAESZipWriter(w, o.Password.Value, level, n)
		if !o.HideNames {
			files, err := writeEntries(ctx, outer, o)
			if err != nil {
				outer.abort()
			}
			return files, err
		}
		var total int64 // a size hint: large contents get the pipelined writer
		for _, in := range o.Inputs {
			total += in.Size
		}
		ew, err := outer.create(Input{Name: HiddenNamesEntry, ModTime: time.Now(), Size: total}, zipStore)
		if err != nil {
			outer.abort()
			return nil, writeErr(o.Output, err)
		}
		inner := newPlainZipWriter(ew, hiddenNamesComment, level)
		files, err := writeEntries(ctx, inner, o)
		if err != nil {
			outer.abort()
			return nil, err
		}
		if err := outer.close(); err != nil {
			return nil, writeErr(o.Output, err)
		}
		return files, nil
	}
	var recips []age.Recipient
	if o.Password.Value != "" {
		r, err := age.NewScryptRecipient(o.Password.Value)
		if err != nil {
			return nil, err
		}
		recips = []age.Recipient{r} // work factor stays at age's default 18
		res.Format = "age-scrypt"
	} else {
		recips = o.Recipients
		res.Format = recipientsFormat(o.Recipients)
	}
	var out io.Writer = w
	var aw io.WriteCloser
	if o.Armor {
		aw = armor.NewWriter(w)
		out = aw
	}
	ew, err := age.Encrypt(out, recips...)
	if err != nil {
		return nil, fmt.Errorf("age: %w", err)
	}
	var files []FileResult
	if !AgeBundle(o.Inputs) {
		fr, err := copyInput(ctx, ew, o.Inputs[0], o.Progress)
		if err != nil {
			return nil, err
		}
		files = []FileResult{fr}
	} else {
		files, err = writeEntries(ctx, newPlainZipWriter(ew, bundleComment, level), o)
		if err != nil {
			return nil, err
		}
	}
	if err := ew.Close(); err != nil {
		return nil, writeErr(o.Output, err)
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return nil, writeErr(o.Output, err)
		}
	}
	return files, nil
}

func writeEntries(ctx context.Context, ew entryWriter, o SealOptions) (_ []FileResult, err error) {
	defer func() {
		if err != nil {
			ew.close() // stops the compressors' goroutines; the output is discarded
		}
	}()
	files := make([]FileResult, 0, len(o.Inputs))
	for _, in := range o.Inputs {
		w, err := ew.create(in, chooseMethod(in))
		if err != nil {
			return nil, writeErr(o.Output, err)
		}
		fr, err := copyInput(ctx, w, in, o.Progress)
		if err != nil {
			return nil, err
		}
		files = append(files, fr)
	}
	if cerr := ew.close(); cerr != nil {
		return nil, writeErr(o.Output, cerr)
	}
	return files, nil
}

// copyInput streams one input into w, hashing it on the way. The size
// recorded is what was actually read, even if the file changed meanwhile.
func copyInput(ctx context.Context, w io.Writer, in Input, progress func(int64)) (FileResult, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return FileResult{}, inputFSError(err)
	}
	defer f.Close()
	// Large inputs are hashed on their own goroutine, beside the sealing;
	// small ones here, where a thread hand-over would cost more.
	var h inputHash
	if in.Size < smallEntry {
		h = &syncHash{h: sha256.New()}
	} else {
		h = newAsyncHash()
	}
	defer func() {
		if h != nil {
			h.Abort()
		}
	}()
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return FileResult{}, err
		}
		bp := chunkPool.Get().(*[]byte)
		n, rerr := io.ReadFull(f, *bp)
		if rerr == io.ErrUnexpectedEOF {
			rerr = io.EOF
		}
		if n > 0 {
			// w copies what it keeps (io.Writer's contract), so the
			// buffer then goes to the hash without a copy; the hash
			// returns it to the pool. Hashing chunk i overlaps with
			// sealing chunk i+1.
			*bp = (*bp)[:n]
			if _, err := w.Write(*bp); err != nil {
				putChunk(bp)
				return FileResult{}, writeErr("archive", err)
			}
			h.give(bp)
			total += int64(n)
			if progress != nil {
				progress(int64(n))
			}
		} else {
			putChunk(bp)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return FileResult{}, fmt.Errorf("%w: reading %s: %v", ErrInput, in.Path, rerr)
		}
	}
	sum := h.Sum()
	h = nil
	return FileResult{Name: in.Name, Size: total, SHA256: sum}, nil
}

// checkOutput refuses to overwrite without force, to write into a folder
// path, and to write the archive over one of its own inputs.
func checkOutput(out string, inputs []Input, force bool) error {
	if out == "" {
		return fmt.Errorf("%w: no output path", ErrInput)
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	ofi, statErr := os.Stat(out)
	for _, in := range inputs {
		absIn, err := filepath.Abs(in.Path)
		if err != nil {
			return err
		}
		same := absIn == absOut
		if statErr == nil && !same {
			if ifi, err := os.Stat(in.Path); err == nil && os.SameFile(ifi, ofi) {
				same = true
			}
		}
		if same {
			return fmt.Errorf("%w: the output %s is also an input", ErrInput, out)
		}
	}
	if statErr == nil {
		if ofi.IsDir() {
			return fmt.Errorf("%w: the output %s is a folder", ErrInput, out)
		}
		if !force {
			return fmt.Errorf("%w: %s", ErrExists, out)
		}
	}
	return nil
}

// place moves the finished temporary file to its final name. Without force
// it uses a hard link, which fails atomically if the name was taken in the
// meantime; file systems without links fall back to a checked rename.
func place(tmp, final string, force bool) error {
	if force {
		if err := os.Rename(tmp, final); err != nil {
			return writeErr(final, err)
		}
		return nil
	}
	err := os.Link(tmp, final)
	if err == nil {
		os.Remove(tmp)
		return nil
	}
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, final)
	}
	if _, serr := os.Lstat(final); serr == nil {
		return fmt.Errorf("%w: %s", ErrExists, final)
	}
	if err := os.Rename(tmp, final); err != nil {
		return writeErr(final, err)
	}
	return nil
}

func writeErr(what string, err error) error {
	return fmt.Errorf("cannot write %s: %s", what, describeFSError(err))
}
