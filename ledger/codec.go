package ledger

import (
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/regledger/regledger/keys"
)

// The canonical binary encoding. Every value has exactly one encoding, so decoding and
// re-encoding gives back the same bytes:
//
//   - unsigned integers are minimal unsigned LEB128 varints (a trailing 0x00 group is refused);
//   - booleans are one byte, 0 or 1;
//   - byte strings and text are a varint length then the bytes; text is valid UTF-8 without
//     control characters;
//   - lists are a varint count then the elements;
//   - fixed-size values (addresses, hashes) are their raw bytes;
//   - records are their fields in declaration order, with no tags and no padding.
//
// Decoding refuses trailing bytes, lengths beyond the per-field limits and out-of-range enums.

type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)          { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64)    { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) addr(a keys.Address) { e.b = append(e.b, a[:]...) }
func (e *encoder) hash(h Hash)         { e.b = append(e.b, h[:]...) }
func (e *encoder) bytes(b []byte)      { e.uvarint(uint64(len(b))); e.b = append(e.b, b...) }
func (e *encoder) str(s string)        { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) time(t int64)        { e.uvarint(uint64(t)) }
func (e *encoder) date(d Date)         { e.uvarint(uint64(d)) }

func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("unexpected end of input")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	if n > 1 && d.b[n-1] == 0 {
		d.fail("non-minimal varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// uint returns a varint that must not exceed max.
func (d *decoder) uint(max uint64, what string) uint64 {
	v := d.uvarint()
	if v > max {
		d.fail("%s %d exceeds %d", what, v, max)
		return 0
	}
	return v
}

func (d *decoder) bool() bool {
	switch d.u8() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("boolean not 0 or 1")
	return false
}

func (d *decoder) count(max int, what string) int {
	return int(d.uint(uint64(max), what+" count"))
}

func (d *decoder) bytes(max int, what string) []byte {
	n := d.count(max, what)
	b := d.take(n)
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

func (d *decoder) str(max int, what string) string {
	b := d.take(d.count(max, what))
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.fail("%s is not valid UTF-8", what)
		return ""
	}
	for _, r := range string(b) {
		if r < 0x20 || r == 0x7f {
			d.fail("%s holds a control character", what)
			return ""
		}
	}
	return string(b)
}

func (d *decoder) addr() keys.Address {
	var a keys.Address
	copy(a[:], d.take(keys.AddressSize))
	return a
}

func (d *decoder) hash() Hash {
	var h Hash
	copy(h[:], d.take(len(h)))
	return h
}

func (d *decoder) time() int64 { return int64(d.uint(math.MaxInt64, "time")) }

func (d *decoder) date() Date {
	v := d.uint(math.MaxUint32, "date")
	if d.err != nil {
		return 0
	}
	dt := Date(v)
	if v != 0 && !dt.Valid() {
		d.fail("invalid date %d", v)
		return 0
	}
	return dt
}

// enum reads a one-byte enumeration value in [lo, hi].
func (d *decoder) enum(lo, hi uint8, what string) uint8 {
	v := d.u8()
	if d.err == nil && (v < lo || v > hi) {
		d.fail("%s %d out of range", what, v)
	}
	return v
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	return d.err
}
