package list

import (
	"bufio"
	"io"
)

// utf8Reader is a byte reader that refuses invalid UTF-8 as it goes (with the line where it
// was found) and remembers whether the end of the input was reached, which tells a
// truncated document from a malformed one.
type utf8Reader struct {
	r      *bufio.Reader
	line   int
	need   int  // continuation bytes still expected
	lo, hi byte // the range of the next continuation byte
	eof    bool
	err    error // sticky: the encoding error found
	ioErr  error // the last error of the underlying reader other than io.EOF
}

func newUTF8Reader(r *bufio.Reader) *utf8Reader {
	return &utf8Reader{r: r, line: 1, lo: 0x80, hi: 0xbf}
}

func (u *utf8Reader) ReadByte() (byte, error) {
	if u.err != nil {
		return 0, u.err
	}
	b, err := u.r.ReadByte()
	if err != nil {
		if err != io.EOF {
			u.ioErr = err
		}
		if err == io.EOF {
			u.eof = true
			if u.need > 0 {
				u.err = parseErr(u.line, "", ErrTruncated, "utf-8 sequence cut at the end: the file looks cut short")
				return 0, u.err
			}
		}
		return 0, err
	}
	switch {
	case u.need > 0:
		if b < u.lo || b > u.hi {
			return 0, u.bad()
		}
		u.need--
		u.lo, u.hi = 0x80, 0xbf
	case b < 0x80:
		if b == '\n' {
			u.line++
		}
	case b >= 0xc2 && b <= 0xdf:
		u.need = 1
	case b == 0xe0:
		u.need, u.lo = 2, 0xa0
	case b == 0xed:
		u.need, u.hi = 2, 0x9f
	case b >= 0xe1 && b <= 0xef:
		u.need = 2
	case b == 0xf0:
		u.need, u.lo = 3, 0x90
	case b >= 0xf1 && b <= 0xf3:
		u.need = 3
	case b == 0xf4:
		u.need, u.hi = 3, 0x8f
	default:
		return 0, u.bad()
	}
	return b, nil
}

func (u *utf8Reader) bad() error {
	u.err = parseErr(u.line, "", ErrEncoding, "invalid utf-8")
	return u.err
}

// Read lets the reader stand where an io.Reader is needed (encoding/xml hands its reader to
// CharsetReader).
func (u *utf8Reader) Read(p []byte) (int, error) {
	for i := range p {
		b, err := u.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = b
	}
	return len(p), nil
}
