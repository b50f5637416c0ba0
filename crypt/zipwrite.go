package crypt

import (
	stdzip "archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"io"
	"os"
	"path"
	"strings"
	"time"

	yzip "github.com/yeka/zip"
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
		return yzip.Store
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return yzip.Deflate // the real read reports the error
	}
	defer f.Close()
	head := make([]byte, probeSize)
	n, _ := io.ReadFull(f, head)
	if n < 512 {
		return yzip.Deflate
	}
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestSpeed)
	fw.Write(head[:n])
	fw.Close()
	if buf.Len()*100 > n*97 {
		return yzip.Store
	}
	return yzip.Deflate
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

type aesZipWriter struct {
	zw       *yzip.Writer
	password string
}

func (w *aesZipWriter) create(in Input, method uint16) (io.Writer, error) {
	fh := &yzip.FileHeader{Name: in.Name, Method: method}
	fh.Flags |= utf8NameFlag
	fh.SetModTime(dosTime(in.ModTime))
	fh.Extra = extTimeExtra(in.ModTime)
	fh.SetPassword(w.password)
	fh.SetEncryptionMethod(yzip.AES256Encryption)
	ew, err := w.zw.CreateHeader(fh)
	if err != nil {
		return nil, err
	}
	// yeka/zip writes the salt and password verifier on the first Write.
	// A stored empty file never gets one, and the entry comes out as a bare
	// 10-byte MAC that 7-Zip reports as broken. An empty write forces them.
	if _, err := ew.Write(nil); err != nil {
		return nil, err
	}
	return ew, nil
}

func (w *aesZipWriter) close() error { return w.zw.Close() }

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

func newPlainZipWriter(w io.Writer, comment string) *plainZipWriter {
	zw := stdzip.NewWriter(w)
	zw.SetComment(comment)
	return &plainZipWriter{zw: zw}
}

func (w *plainZipWriter) create(in Input, method uint16) (io.Writer, error) {
	fh := &stdzip.FileHeader{Name: in.Name, Method: method, Modified: in.ModTime.Local()}
	return w.zw.CreateHeader(fh)
}

func (w *plainZipWriter) close() error { return w.zw.Close() }
