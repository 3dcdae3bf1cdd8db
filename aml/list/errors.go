package list

import (
	"errors"
	"fmt"
	"strconv"
)

// Kinds of errors. A *ParseError wraps one of them; branch with errors.Is.
var (
	// ErrFormat: the input is not well formed for its format (wrong number of fields, a
	// required value missing or not a number, XML that does not parse...).
	ErrFormat = errors.New("list: malformed input")
	// ErrTruncated: the input ends in the middle of a record or element.
	ErrTruncated = errors.New("list: truncated input")
	// ErrEncoding: the input is not in the format's encoding (invalid UTF-8, a UTF-16 byte
	// order mark, a byte outside ASCII in an OFAC file, a control byte).
	ErrEncoding = errors.New("list: wrong encoding")
	// ErrEmpty: the input holds no entries.
	ErrEmpty = errors.New("list: no entries")
	// ErrUnknownFormat: the content of a file matches none of the formats read here.
	ErrUnknownFormat = errors.New("list: unknown file format")
	// ErrDuplicate: two entries of one list have the same source id.
	ErrDuplicate = errors.New("list: duplicate source id")
)

// ParseError says where a list file is bad. It names the file, the line and, for XML, the
// element, never the offending value: list entries are personal data.
type ParseError struct {
	File    string // the file as given to ReadPaths; empty when a parse function read a reader
	Line    int    // 1-based line, 0 when the error concerns the whole input
	Element string // XML element path (e.g. "INDIVIDUAL/INDIVIDUAL_DATE_OF_BIRTH"), CSV column or FtM property
	Err     error  // wraps one of the Err* kinds
}

func (e *ParseError) Error() string {
	b := []byte("list: ")
	if e.File != "" {
		b = append(b, e.File...)
	} else {
		b = append(b, "input"...)
	}
	if e.Line > 0 {
		b = append(b, " line "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
	}
	if e.Element != "" {
		if e.Line > 0 {
			b = append(b, ',')
		}
		b = append(b, " element "...)
		b = append(b, e.Element...)
	}
	b = append(b, ": "...)
	if e.Err != nil {
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

func (e *ParseError) Unwrap() error { return e.Err }

// detail is an error of one kind with a specific message: its text is the message alone
// (ParseError already says "list:"), errors.Is finds the kind.
type detail struct {
	kind error
	msg  string
}

func (d *detail) Error() string { return d.msg }
func (d *detail) Unwrap() error { return d.kind }

func errorf(kind error, format string, args ...any) error {
	return &detail{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// parseErr builds a ParseError for line and element with a message of the given kind.
func parseErr(line int, element string, kind error, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Element: element, Err: errorf(kind, format, args...)}
}

// inFile sets the file of a ParseError (keeping one that is already set), or wraps any
// other error in a ParseError for the file.
func inFile(err error, file string) error {
	if err == nil {
		return nil
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		if pe.File == "" {
			pe.File = file
		}
		return pe
	}
	return &ParseError{File: file, Err: err}
}
