package crypt

import (
	stdzip "archive/zip"
	"encoding/binary"
	"hash/crc32"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// entryName is an entry's name as Unicode. Zip names are UTF-8 only when
// the entry says so (flag bit 11). 7-Zip and the zip built into Windows
// leave the flag unset whenever a name fits the console's code page, and
// write it in that code page: CP850 on Swedish, Norwegian, Danish and
// Finnish Windows, where å ä ö Å Ä Ö have the same bytes as in the IBM PC
// code page the zip specification names. Read as UTF-8, such a name would
// reach the disk as l\x94nelista.csv, or with U+FFFD on Windows.
//
// In order: the UTF-8 flag; the Info-ZIP Unicode Path field (0x7075),
// when it belongs to this name; a name that is valid UTF-8 (macOS and
// several Linux tools write UTF-8 without the flag); else CP850.
func entryName(f *stdzip.File) string {
	if f.Flags&utf8NameFlag != 0 {
		return f.Name
	}
	if n, ok := unicodePath(f.Extra, f.Name); ok {
		return n
	}
	if utf8.ValidString(f.Name) {
		return f.Name
	}
	n, err := charmap.CodePage850.NewDecoder().String(f.Name)
	if err != nil {
		return f.Name
	}
	return n
}

// unicodePath returns the UTF-8 name of an Info-ZIP Unicode Path field
// (version 1, the CRC-32 of the name it stands for, the name), if the
// field is there, well formed and made for name: a tool that renamed the
// entry without updating the field leaves a CRC that no longer matches.
func unicodePath(extra []byte, name string) (string, bool) {
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return "", false
		}
		body := extra[:size]
		extra = extra[size:]
		if tag != 0x7075 || size < 5 || body[0] != 1 {
			continue
		}
		u := string(body[5:])
		if binary.LittleEndian.Uint32(body[1:]) != crc32.ChecksumIEEE([]byte(name)) || u == "" || !utf8.ValidString(u) {
			return "", false
		}
		return u, true
	}
	return "", false
}
