package crypt

import (
	stdzip "archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kuvert-app/kuvert/internal/bytesize"
)

// zipEntry is what the reader needs of one central-directory record, cross
// checked between archive/zip and yeka/zip.
type zipEntry struct {
	name      string
	size      int64 // declared uncompressed size
	csize     int64
	modified  time.Time
	isDir     bool
	isLink    bool
	encrypted bool
	aes       *aesExtra // the WinZip AES field of an encrypted entry
	crc       uint32
}

// aesExtra is the WinZip AES extra field (0x9901).
type aesExtra struct {
	version  uint16 // 1 = AE-1, 2 = AE-2
	strength byte   // 1, 2, 3 = AES-128, -192, -256
	method   uint16 // the real compression method
}

// parseExtra walks a central-directory extra block and returns the AES
// field and the extended timestamp, if present. Malformed blocks are errors:
// yeka/zip panics on an AES field shorter than 7 bytes, so this runs first.
func parseExtra(b []byte) (aes *aesExtra, mtime time.Time, err error) {
	var ntfs time.Time
	for len(b) >= 4 {
		tag := binary.LittleEndian.Uint16(b[0:])
		size := int(binary.LittleEndian.Uint16(b[2:]))
		b = b[4:]
		if size > len(b) {
			return nil, time.Time{}, errors.New("extra field overruns its record")
		}
		body := b[:size]
		b = b[size:]
		switch tag {
		case 0x9901:
			if size != 7 || body[2] != 'A' || body[3] != 'E' {
				return nil, time.Time{}, errors.New("malformed AES extra field")
			}
			aes = &aesExtra{
				version:  binary.LittleEndian.Uint16(body[0:]),
				strength: body[4],
				method:   binary.LittleEndian.Uint16(body[5:]),
			}
		case 0x5455: // Info-ZIP extended timestamp (Unix seconds)
			if size >= 5 && body[0]&1 != 0 && ntfs.IsZero() {
				mtime = time.Unix(int64(binary.LittleEndian.Uint32(body[1:])), 0)
			}
		case 0x000a: // NTFS times, written by 7-Zip and Windows tools
			if size >= 32 && binary.LittleEndian.Uint16(body[4:]) == 1 && binary.LittleEndian.Uint16(body[6:]) >= 24 {
				ft := int64(binary.LittleEndian.Uint64(body[8:])) // 100 ns since 1601
				if ft > 0 {
					ntfs = time.Unix(ft/1e7-11644473600, ft%1e7*100)
					mtime = ntfs
				}
			}
		}
	}
	return aes, mtime, nil
}

// dosLocal reads an MS-DOS date and time as the local wall-clock time it
// was written in, the way Windows and 7-Zip mean it.
func dosLocal(d, t uint16) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Date(int(d>>9)+1980, time.Month(d>>5&0xf), int(d&0x1f),
		int(t>>11), int(t>>5&0x3f), int(t&0x1f)*2, 0, time.Local)
}

// aesOverhead is salt + password verifier + authentication code.
func aesOverhead(strength byte) int64 {
	return int64(4*(int(strength)+1)) + 2 + 10
}

// checkZip parses the directory with the standard library, which is fuzzed
// and robust, and refuses what kuvert does not open before yeka/zip ever
// sees the bytes. plainOK allows unencrypted entries (inside an age file,
// where age authenticates everything).
func checkZip(ra io.ReaderAt, size int64, lim Limits, plainOK bool) (*stdzip.Reader, []zipEntry, error) {
	zr, err := stdzip.NewReader(ra, size)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: not a readable zip archive (%v)", ErrDamaged, plainZipErr(err))
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, nil, fmt.Errorf("%w: %d entries, the limit is %d", ErrUnsafe, len(zr.File), lim.MaxEntries)
	}
	var total int64
	entries := make([]zipEntry, 0, len(zr.File))
	for _, f := range zr.File {
		name := entryName(f)
		aes, mtime, err := parseExtra(f.Extra)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: entry %s: %v", ErrDamaged, quoteName(name), err)
		}
		if mtime.IsZero() {
			mtime = dosLocal(f.ModifiedDate, f.ModifiedTime)
		}
		e := zipEntry{
			name:      name,
			size:      int64(f.UncompressedSize64),
			csize:     int64(f.CompressedSize64),
			modified:  mtime,
			isDir:     strings.HasSuffix(f.Name, "/") || f.Mode().IsDir(),
			isLink:    f.Mode()&os.ModeSymlink != 0,
			encrypted: f.Flags&1 != 0,
			aes:       aes,
			crc:       f.CRC32,
		}
		if e.size < 0 || e.csize < 0 {
			return nil, nil, fmt.Errorf("%w: entry %s has an impossible size", ErrDamaged, quoteName(name))
		}
		switch {
		case f.Flags&0x40 != 0:
			return nil, nil, fmt.Errorf("%w: entry %s uses PKWARE strong encryption", ErrUnsupported, quoteName(name))
		case e.encrypted && aes == nil:
			return nil, nil, fmt.Errorf("%w: entry %s uses ZipCrypto, the old zip encryption that is broken; ask the sender to use AES-256", ErrUnsupported, quoteName(name))
		case e.encrypted:
			if f.Method != 99 || (aes.version != 1 && aes.version != 2) || aes.strength < 1 || aes.strength > 3 {
				return nil, nil, fmt.Errorf("%w: entry %s has an unknown AES variant", ErrUnsupported, quoteName(name))
			}
			if aes.method != zipStore && aes.method != zipDeflate {
				return nil, nil, fmt.Errorf("%w: entry %s uses compression method %d (only stored and deflated entries are supported)", ErrUnsupported, quoteName(name), aes.method)
			}
			if e.csize < aesOverhead(aes.strength) {
				return nil, nil, fmt.Errorf("%w: entry %s is too short to be encrypted", ErrDamaged, quoteName(name))
			}
		case e.isDir || e.size == 0 && e.csize == 0:
			// Directories and empty files carry no data to protect.
		case !plainOK:
			return nil, nil, fmt.Errorf("%w: entry %s is not encrypted although the archive is; it may have been added by someone else", ErrDamaged, quoteName(name))
		default:
			if f.Method != stdzip.Store && f.Method != stdzip.Deflate {
				return nil, nil, fmt.Errorf("%w: entry %s uses compression method %d", ErrUnsupported, quoteName(name), f.Method)
			}
		}
		if e.size > lim.MaxTotal-total {
			return nil, nil, fmt.Errorf("%w: the contents exceed %s, the size limit", ErrUnsafe, bytesize.Human(lim.MaxTotal))
		}
		total += e.size
		if e.size > ratioFloor && e.size/max(e.csize, 1) > lim.MaxRatio {
			return nil, nil, fmt.Errorf("%w: entry %s expands %d times (limit %d): a decompression bomb?", ErrUnsafe, quoteName(name), e.size/max(e.csize, 1), lim.MaxRatio)
		}
		entries = append(entries, e)
	}
	if err := checkLayout(ra, size, zr.File); err != nil {
		if errors.Is(err, errLayout) {
			return nil, nil, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		return nil, nil, err
	}
	// The whole is bounded as well as each entry: many entries just under
	// the per-entry threshold add up.
	if total > ratioFloor && total/max(size, 1) > lim.MaxRatio {
		return nil, nil, fmt.Errorf("%w: %s of contents in a %s archive expands %d times (limit %d): a decompression bomb?", ErrUnsafe, bytesize.Human(total), bytesize.Human(size), total/max(size, 1), lim.MaxRatio)
	}
	return zr, entries, nil
}

// ratioFloor is the output below which the expansion ratio is not
// checked: a small file of repeated bytes compresses 1000-fold honestly.
const ratioFloor = 1 << 20

func plainZipErr(err error) string {
	switch {
	case errors.Is(err, stdzip.ErrFormat), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated or corrupt"
	}
	return "corrupt directory"
}

// inflateReader inflates an authenticated raw stream and, when the deflate
// stream ends, reads the raw stream to its end so that the MAC is checked
// before EOF is reported: a flate reader stops at the end of the deflate
// stream and would otherwise never ask for the bytes (and the check) after
// it.
type inflateReader struct {
	raw  io.ReadCloser
	fr   io.ReadCloser
	name string
	err  error
}

func (r *inflateReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.fr.Read(p)
	switch {
	case err == io.EOF:
		if _, derr := io.Copy(io.Discard, r.raw); derr != nil {
			r.err = derr
			return 0, derr // never hand out the last bytes of an unverified entry
		}
		r.err = io.EOF
	case err != nil:
		if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrWrongPassword) {
			err = fmt.Errorf("%w: entry %s does not inflate", ErrDamaged, quoteName(r.name))
		}
		r.err = err
	}
	return n, err
}

func (r *inflateReader) Close() error {
	r.fr.Close()
	return r.raw.Close()
}
