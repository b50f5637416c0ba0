package crypt

import (
	stdzip "archive/zip"
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"io"
	"os"
	"path"
	"strings"
	"time"
)

// Zip compression methods kuvert writes.
const (
	zipStore   = stdzip.Store
	zipDeflate = stdzip.Deflate
)

// storedExt lists extensions whose content is already compressed: deflating
// them again costs CPU and gains nothing, so they are stored.
var storedExt = map[string]bool{
	"pdf": true, "xlsx": true, "xlsm": true, "docx": true, "pptx": true,
	"odt": true, "ods": true, "odp": true, "jpg": true, "jpeg": true,
	"png": true, "gif": true, "webp": true, "heic": true, "zip": true,
	"gz": true, "tgz": true, "bz2": true, "xz": true, "zst": true, "7z": true,
	"rar": true, "mp4": true, "mov": true, "mkv": true, "mp3": true,
	"m4a": true, "aac": true, "ogg": true, "webm": true, "age": true,
	"gpg": true, "jar": true, "epub": true,
}

// probeSize is how much of a file of unknown type is test-compressed to
// decide between store and deflate.
const probeSize = 64 << 10

// chooseMethod stores already-compressed files (by extension, or because a
// quick test compression of the first 64 KiB saves less than 3 %) and
// deflates the rest.
func chooseMethod(in Input) uint16 {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(in.Name), "."))
	if storedExt[ext] || in.Size == 0 {
		return zipStore
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return zipDeflate // the real read reports the error
	}
	defer f.Close()
	head := make([]byte, probeSize)
	n, _ := io.ReadFull(f, head)
	if n < 512 {
		return zipDeflate
	}
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	fw.Write(head[:n])
	fw.Close()
	if buf.Len()*100 > n*97 {
		return zipStore
	}
	return zipDeflate
}

// dosTime returns t's local wall-clock time dressed as UTC. yeka/zip
// converts to UTC before encoding the MS-DOS date, but zip readers (7-Zip,
// Windows) show DOS times as local time, so a file saved at 09:00 in
// Stockholm must be stored as 09:00. The exact instant goes into the
// extended-timestamp field beside it.
func dosTime(t time.Time) time.Time {
	t = t.Local()
	if t.Year() < 1980 {
		return time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// extTimeExtra is the Info-ZIP "extended timestamp" extra field (0x5455)
// with the modification time in Unix seconds, read by 7-Zip, bsdtar and
// kuvert itself to restore the exact time whatever the time zone.
func extTimeExtra(t time.Time) []byte {
	b := make([]byte, 9)
	binary.LittleEndian.PutUint16(b[0:], 0x5455)
	binary.LittleEndian.PutUint16(b[2:], 5)
	b[4] = 1 // mtime present
	u := t.Unix()
	if u < 0 || u > 0xffffffff {
		u = 0
	}
	binary.LittleEndian.PutUint32(b[5:], uint32(u))
	return b
}

// entryWriter abstracts the two zip writers kuvert uses: yeka/zip for
// WinZip AES-256 archives and archive/zip for the plain inner zip of a
// multi-file age bundle (age provides the encryption there).
type entryWriter interface {
	create(in Input, method uint16) (io.Writer, error)
	close() error
}

const utf8NameFlag = 0x800

// aesZipWriter writes WinZip AE-2 AES-256 entries through archive/zip's
// raw writer (see winzip.go). yeka/zip wrote them before; its own
// counter mode ran at ~0.27 GB/s and capped every stored entry.
type aesZipWriter struct {
	zw       *stdzip.Writer
	password string
	level    Level
	keys     *keyMaker
	last     *aesEntryWriter
	block    int // deflate block size; 0 means pflateBlock (tests set less)
}

// newAESZipWriter writes to w; entries is how many entries will follow,
// so that their keys can be derived ahead on every core.
func newAESZipWriter(w io.Writer, password string, level Level, entries int) *aesZipWriter {
	return &aesZipWriter{zw: stdzip.NewWriter(w), password: password, level: level, keys: newKeyMaker(password, entries)}
}

func (w *aesZipWriter) create(in Input, method uint16) (io.Writer, error) {
	if err := w.finishLast(); err != nil {
		return nil, err
	}
	k, err := w.keys.next()
	if err != nil {
		return nil, err
	}
	// The header as yeka/zip wrote it, with kuvert's additions: UTF-8
	// flag, local DOS time, extended timestamp, the AES field last.
	fh := &stdzip.FileHeader{Name: in.Name, Method: 99, Flags: 0x1 | 0x8 | utf8NameFlag, CreatorVersion: 20, ReaderVersion: 20}
	fh.ModifiedTime, fh.ModifiedDate = msDosTime(dosTime(in.ModTime))
	fh.Extra = append(extTimeExtra(in.ModTime), aesExtraField(method)...)
	raw, err := w.zw.CreateRaw(fh)
	if err != nil {
		return nil, err
	}
	ew, err := newAESEntryWriter(raw, fh, k, in.Size < smallEntry)
	if err != nil {
		return nil, err
	}
	w.last = ew
	if method == zipDeflate {
		ew.comp = newPflateWriterBlock(ew, w.level, cmp.Or(w.block, pflateBlock))
	}
	return ew.input(), nil
}

// finishLast completes the previous entry: its compressor, its MAC, its
// sizes in the header (written by archive/zip's data descriptor).
func (w *aesZipWriter) finishLast() error {
	if w.last == nil {
		return nil
	}
	ew := w.last
	w.last = nil
	return ew.close()
}

func (w *aesZipWriter) close() error {
	defer w.keys.close()
	if err := w.finishLast(); err != nil {
		return err
	}
	return w.zw.Close()
}

// abort releases the goroutines of a writer that will not be finished.
func (w *aesZipWriter) abort() {
	w.keys.close()
	if w.last != nil {
		w.last.abort()
	}
}

// aesExtraField is the WinZip AES extra field (0x9901): AE-2, vendor "AE",
// strength 3 (AES-256) and the real compression method.
func aesExtraField(method uint16) []byte {
	b := make([]byte, 11)
	binary.LittleEndian.PutUint16(b[0:], 0x9901)
	binary.LittleEndian.PutUint16(b[2:], 7)
	binary.LittleEndian.PutUint16(b[4:], 2)
	b[6], b[7] = 'A', 'E'
	b[8] = aes256Strength
	binary.LittleEndian.PutUint16(b[9:], method)
	return b
}

// msDosTime encodes t's wall clock (already local, dressed as UTC by
// dosTime) as an MS-DOS time and date.
func msDosTime(t time.Time) (tm, date uint16) {
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return tm, date
}

// bundleComment marks the plain zip inside a multi-file age archive, so
// opening tells it apart from a single .zip file that was sealed alone.
const bundleComment = "kuvert-bundle/1"

// HiddenNamesEntry is the one name a hidden-names AES zip shows, and
// hiddenNamesComment marks the plain zip inside it.
const (
	HiddenNamesEntry   = "bilagor.zip"
	hiddenNamesComment = "kuvert-hidden-names/1"
)

type plainZipWriter struct{ zw *stdzip.Writer }

// newPlainZipWriter writes a plain zip whose deflated entries are
// compressed in parallel at level (see [pflateWriter]).
func newPlainZipWriter(w io.Writer, comment string, level Level) *plainZipWriter {
	zw := stdzip.NewWriter(w)
	zw.SetComment(comment)
	zw.RegisterCompressor(stdzip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return newPflateWriter(w, level), nil
	})
	return &plainZipWriter{zw: zw}
}

func (w *plainZipWriter) create(in Input, method uint16) (io.Writer, error) {
	fh := &stdzip.FileHeader{Name: in.Name, Method: method, Modified: in.ModTime.Local()}
	return w.zw.CreateHeader(fh)
}

func (w *plainZipWriter) close() error { return w.zw.Close() }
