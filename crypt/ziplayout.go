package crypt

import (
	stdzip "archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// errLayout is a directory the layout check cannot follow; checkZip turns
// it into ErrDamaged.
var errLayout = errors.New("inconsistent zip directory")

// checkLayout refuses archives whose entries share bytes.
// Every entry occupies its local header and its data; those spans
// must not overlap each other and must end before the central directory
// begins. An honest zip writer lays entries out one after another, so
// this refuses nothing 7-Zip, WinZip or kuvert write, while a bomb made of
// many directory records pointing at the same (or each other's) data is
// refused before a byte is decrypted, however small each entry looks.
//
// archive/zip does not say where a local header starts, so the central
// directory is walked here once more, and each header offset found is
// cross-checked against archive/zip's own idea of where the data begins.
func checkLayout(ra io.ReaderAt, size int64, files []*stdzip.File) error {
	cdStart, offsets, err := centralOffsets(ra, size, len(files))
	if err != nil {
		return err
	}
	type span struct {
		start, end int64
		name       string
	}
	spans := make([]span, len(files))
	for i, f := range files {
		hdr := offsets[i]
		var lh [30]byte
		if _, err := ra.ReadAt(lh[:], hdr); err != nil || binary.LittleEndian.Uint32(lh[:]) != 0x04034b50 {
			return fmt.Errorf("%w: entry %s has no local header", ErrDamaged, quoteName(f.Name))
		}
		data := hdr + 30 + int64(binary.LittleEndian.Uint16(lh[26:])) + int64(binary.LittleEndian.Uint16(lh[28:]))
		if off, err := f.DataOffset(); err != nil || off != data {
			return errLayout
		}
		end := data + int64(f.CompressedSize64)
		if end < data || end > cdStart {
			return fmt.Errorf("%w: entry %s overlaps the zip directory: a zip bomb?", ErrUnsafe, quoteName(f.Name))
		}
		spans[i] = span{hdr, end, f.Name}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return fmt.Errorf("%w: entries %s and %s overlap (they share their bytes): a zip bomb?", ErrUnsafe, quoteName(spans[i-1].name), quoteName(spans[i].name))
		}
	}
	return nil
}

// centralOffsets reads the end-of-directory record the way archive/zip
// does (including its zip64 and base-offset rules) and returns where the
// central directory starts and each record's local header offset, in
// directory order.
func centralOffsets(ra io.ReaderAt, size int64, want int) (cdStart int64, offsets []int64, err error) {
	n := min(size, 22+65535)
	tail := make([]byte, n)
	if _, err := ra.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return 0, nil, errLayout
	}
	p := -1
	for i := len(tail) - 22; i >= 0; i-- {
		if binary.LittleEndian.Uint32(tail[i:]) == 0x06054b50 && i+22+int(binary.LittleEndian.Uint16(tail[i+20:])) <= len(tail) {
			p = i
			break
		}
	}
	if p < 0 {
		return 0, nil, errLayout
	}
	endOff := size - n + int64(p)
	e := tail[p:]
	records := uint64(binary.LittleEndian.Uint16(e[10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(e[12:]))
	dirOff := uint64(binary.LittleEndian.Uint32(e[16:]))
	if records == 0xffff || dirSize == 0xffff || dirOff == 0xffffffff {
		var loc [20]byte
		if endOff >= 20 {
			if _, err := ra.ReadAt(loc[:], endOff-20); err == nil && binary.LittleEndian.Uint32(loc[:]) == 0x07064b50 {
				z := int64(binary.LittleEndian.Uint64(loc[8:]))
				var d [56]byte
				if z < 0 || z+56 > size {
					return 0, nil, errLayout
				}
				if _, err := ra.ReadAt(d[:], z); err != nil || binary.LittleEndian.Uint32(d[:]) != 0x06064b50 {
					return 0, nil, errLayout
				}
				endOff = z
				records = binary.LittleEndian.Uint64(d[32:])
				dirSize = binary.LittleEndian.Uint64(d[40:])
				dirOff = binary.LittleEndian.Uint64(d[48:])
			}
		}
	}
	if dirSize > uint64(size) || dirOff > uint64(size) || records != uint64(want) {
		return 0, nil, errLayout
	}
	base := endOff - int64(dirSize) - int64(dirOff)
	if base > 0 { // archive/zip's rule for wrong base offsets
		var sig [4]byte
		if _, err := ra.ReadAt(sig[:], int64(dirOff)); err == nil && binary.LittleEndian.Uint32(sig[:]) == 0x02014b50 {
			base = 0
		}
	}
	cdStart = base + int64(dirOff)
	if base < 0 || cdStart < 0 || cdStart > size {
		return 0, nil, errLayout
	}
	dir := make([]byte, min(int64(dirSize), size-cdStart))
	if _, err := ra.ReadAt(dir, cdStart); err != nil && err != io.EOF {
		return 0, nil, errLayout
	}
	offsets = make([]int64, 0, want)
	for len(offsets) < want {
		if len(dir) < 46 || binary.LittleEndian.Uint32(dir) != 0x02014b50 {
			return 0, nil, errLayout
		}
		nl := int(binary.LittleEndian.Uint16(dir[28:]))
		ml := int(binary.LittleEndian.Uint16(dir[30:]))
		kl := int(binary.LittleEndian.Uint16(dir[32:]))
		if 46+nl+ml+kl > len(dir) {
			return 0, nil, errLayout
		}
		off := uint64(binary.LittleEndian.Uint32(dir[42:]))
		if off == 0xffffffff {
			var ok bool
			if off, ok = zip64Offset(dir[46+nl:46+nl+ml], dir); !ok {
				return 0, nil, errLayout
			}
		}
		if off > uint64(size) {
			return 0, nil, errLayout
		}
		offsets = append(offsets, base+int64(off))
		dir = dir[46+nl+ml+kl:]
	}
	return cdStart, offsets, nil
}

// zip64Offset finds the local header offset in a record's zip64 extra
// field (0x0001), whose fields appear only for values set to 0xffffffff
// in the record, in the order: size, compressed size, offset.
func zip64Offset(extra, rec []byte) (uint64, bool) {
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			return 0, false
		}
		body := extra[4 : 4+n]
		extra = extra[4+n:]
		if tag != 0x0001 {
			continue
		}
		skip := 0
		if binary.LittleEndian.Uint32(rec[24:]) == 0xffffffff {
			skip += 8
		}
		if binary.LittleEndian.Uint32(rec[20:]) == 0xffffffff {
			skip += 8
		}
		if len(body) < skip+8 {
			return 0, false
		}
		return binary.LittleEndian.Uint64(body[skip:]), true
	}
	return 0, false
}
