package targets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrameBytes bounds one frame (and one line) of a stream.
const DefaultMaxFrameBytes = 8 << 20

// ErrFrameTooLarge is returned when a line or frame exceeds the reader's bound.
var ErrFrameTooLarge = errors.New("frame too large")

// ErrTruncated is returned at the end of the body when it stopped inside a
// line or an event (no terminating newline or blank line).
var ErrTruncated = errors.New("stream ended inside a frame")

// Frame is one unit of a response stream. For SSE it is an event; for NDJSON
// a line in Data. The slices are valid until the next call to Next.
type Frame struct {
	Event []byte // SSE event type, empty when absent
	Data  []byte // SSE data lines joined with '\n', or the NDJSON line
	ID    []byte // SSE id, empty when absent
	// Bare is set on an SSE frame that is not an event but a line of bare
	// JSON (starting with '{') outside SSE's field syntax, in Data: some
	// servers write a mid-stream error that way (Ollama's OpenAI layer).
	// DecodeFrame reads it for an error and otherwise ignores it.
	Bare bool
}

// FrameReader reads frames from a response body.
type FrameReader interface {
	// Next reads the next frame into f. It returns io.EOF after the last
	// frame, ErrTruncated when the body ended mid-frame, ErrFrameTooLarge
	// when a frame exceeds the bound, or the underlying read error.
	Next(f *Frame) error
}

// NewFrameReader returns the frame reader for a framing.
func NewFrameReader(fr Framing, rd io.Reader, maxBytes int) FrameReader {
	if fr == NDJSON {
		return NewNDJSONReader(rd, maxBytes)
	}
	return NewSSEReader(rd, maxBytes)
}

// lineReader cuts a byte stream into lines ended by LF, CRLF or CR, without
// copying the common case and with a bound on line length.
type lineReader struct {
	rd     io.Reader
	buf    []byte
	r, w   int
	max    int
	err    error
	skipLF bool // the last line ended in CR; a following LF belongs to it
}

func newLineReader(rd io.Reader, maxBytes int) lineReader {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFrameBytes
	}
	size := 4096
	if size > maxBytes+2 {
		size = maxBytes + 2
	}
	return lineReader{rd: rd, buf: make([]byte, size), max: maxBytes}
}

// line returns the next line without its terminator. The slice is valid until
// the next call. At the end of input it returns io.EOF, or ErrTruncated with
// the partial line when the input did not end with a line terminator.
func (l *lineReader) line() ([]byte, error) {
	for {
		if l.skipLF && l.r < l.w {
			if l.buf[l.r] == '\n' {
				l.r++
			}
			l.skipLF = false
		}
		if !l.skipLF {
			seg := l.buf[l.r:l.w]
			end := bytes.IndexByte(seg, '\n')
			scan := seg
			if end >= 0 {
				scan = seg[:end]
			}
			// The buffer holds up to max+2 bytes, so a line of max+1 bytes
			// can arrive whole with its terminator: check its length here
			// too, or the bound would depend on how the body was chunked.
			if cr := bytes.IndexByte(scan, '\r'); cr >= 0 {
				if cr > l.max {
					return nil, ErrFrameTooLarge
				}
				l.r += cr + 1
				l.skipLF = true
				return seg[:cr], nil
			}
			if end >= 0 {
				if end > l.max {
					return nil, ErrFrameTooLarge
				}
				l.r += end + 1
				return seg[:end], nil
			}
		}
		if l.w-l.r > l.max {
			return nil, ErrFrameTooLarge
		}
		if l.err != nil {
			// Only a clean end of the body means the server stopped
			// mid-line; any other read error (deadline, reset, cancel) is
			// returned as it is so the caller can classify it.
			if l.r < l.w && errors.Is(l.err, io.EOF) {
				rest := l.buf[l.r:l.w]
				l.r = l.w
				return rest, ErrTruncated
			}
			return nil, l.err
		}
		l.fill()
	}
}

// maxEmptyReads is how many reads in a row may return no data and no error
// before the reader gives up with io.ErrNoProgress (as bufio does).
const maxEmptyReads = 100

func (l *lineReader) fill() {
	if l.r > 0 {
		n := copy(l.buf, l.buf[l.r:l.w])
		l.w = n
		l.r = 0
	}
	if l.w == len(l.buf) {
		size := 2 * len(l.buf)
		if size > l.max+2 {
			size = l.max + 2
		}
		if size <= len(l.buf) {
			size = len(l.buf) + 1
		}
		nb := make([]byte, size)
		copy(nb, l.buf[:l.w])
		l.buf = nb
	}
	for i := 0; i < maxEmptyReads; i++ {
		n, err := l.rd.Read(l.buf[l.w:])
		l.w += n
		if err != nil {
			l.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	l.err = io.ErrNoProgress
}

// SSEReader reads Server-Sent Events (the WHATWG event-stream format): lines
// ended by LF, CRLF or CR; comment lines starting with ':' (keep-alives);
// "field: value" with or without the space; several data lines joined by
// '\n'; event and id fields. An event ends at a blank line.
//
// Two departures from the standard, both for errors servers really send:
// an "error" field (older llama.cpp servers write "error: {...}" instead of
// a data line) makes its event an error event: Event is "error" and Data the
// error lines' values, joined like data. And a line that starts with '{' is
// not a field but bare JSON (a server writing an error object straight into
// the stream): it ends the pending event, as a blank line would, and is a
// Bare frame of its own. Every other unknown field is ignored, as the
// standard says.
type SSEReader struct {
	lr      lineReader
	data    []byte
	errData []byte // the values of error field lines
	event   []byte
	id      []byte
	bare    []byte // a bare line held while the event it ended is returned
	hasBare bool
	unknown []byte // the start of the last line with a field SSE does not define
	started bool   // the first line has been read (and its BOM dropped)
	pending []byte // a field line read past the end of a bare JSON block
	hasPend bool
}

// bom is the UTF-8 byte order mark, which the SSE specification says to
// ignore at the start of a stream.
var bom = []byte("\xEF\xBB\xBF")

// NewSSEReader returns an SSE reader of rd with frames bounded by maxBytes
// (DefaultMaxFrameBytes when <= 0).
func NewSSEReader(rd io.Reader, maxBytes int) *SSEReader {
	return &SSEReader{lr: newLineReader(rd, maxBytes)}
}

// Next implements FrameReader. Events with no data (or error) line are
// skipped, as the SSE specification says, except an event named "error":
// the server said something failed, even without details. When the body ends after complete
// lines but without the final blank line, the pending event is still
// returned.
func (s *SSEReader) Next(f *Frame) error {
	if s.hasBare {
		s.hasBare = false
		*f = Frame{Data: s.bare, Bare: true}
		return nil
	}
	s.data, s.errData, s.event, s.id = s.data[:0], s.errData[:0], s.event[:0], s.id[:0]
	hasData, hasErr := false, false
	for {
		line, err := s.line()
		if err != nil {
			if errors.Is(err, io.EOF) && (hasData || hasErr || bytes.Equal(s.event, errorType)) {
				s.emit(f, hasErr)
				return nil
			}
			if errors.Is(err, ErrTruncated) {
				return fmt.Errorf("%w (last line %q)", ErrTruncated, clip(line, 64))
			}
			return err
		}
		if !s.started {
			s.started = true
			line = bytes.TrimPrefix(line, bom)
		}
		if len(line) == 0 {
			if hasData || hasErr || bytes.Equal(s.event, errorType) {
				s.emit(f, hasErr)
				return nil
			}
			s.event, s.id = s.event[:0], s.id[:0]
			continue
		}
		switch line[0] {
		case ':':
			continue
		case '{':
			if err := s.bareBlock(line); err != nil {
				return err
			}
			if hasData || hasErr {
				// Return the event the block ended; the block comes next.
				s.hasBare = true
				s.emit(f, hasErr)
				return nil
			}
			*f = Frame{Data: s.bare, Bare: true}
			return nil
		}
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if err := s.add(&s.data, &hasData, value); err != nil {
				return err
			}
		case "error":
			if err := s.add(&s.errData, &hasErr, value); err != nil {
				return err
			}
		case "event":
			s.event = append(s.event[:0], value...)
		case "id":
			s.id = append(s.id[:0], value...)
		case "retry":
		default:
			s.unknown = append(s.unknown[:0], line[:min(len(line), maxUnknown)]...)
		}
	}
}

// line returns the line held back by bareBlock, else the next one.
func (s *SSEReader) line() ([]byte, error) {
	if s.hasPend {
		s.hasPend = false
		return s.pending, nil
	}
	return s.lr.line()
}

// bareBlock reads into s.bare the bare JSON that starts with first: that
// line, and when its braces are still open (JSON pretty-printed over several
// lines, as a proxy writes an error body into the stream) the lines that
// follow, joined by '\n', until they close. A blank line or the end of the
// body ends the block early, and a line that starts with an SSE field
// (data:, event:, ...) or a comment ends it and is read next. The block is
// bounded like a frame.
func (s *SSEReader) bareBlock(first []byte) error {
	s.bare = append(s.bare[:0], first...)
	joined := true // s.bare holds a line: the next is joined with '\n'
	var sc jsonNesting
	sc.feed(first)
	for sc.depth > 0 {
		line, err := s.line()
		switch {
		case errors.Is(err, ErrTruncated):
			// The body ended inside the block: what came is the frame.
			return s.add(&s.bare, &joined, line)
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		case len(line) == 0:
			return nil
		case isSSEField(line):
			s.pending = append(s.pending[:0], line...)
			s.hasPend = true
			return nil
		}
		if err := s.add(&s.bare, &joined, line); err != nil {
			return err
		}
		sc.feed(line)
	}
	return nil
}

// sseFields are the line starts that make a line an SSE field or comment
// rather than the continuation of a bare JSON block.
var sseFields = [...]string{":", "data:", "event:", "id:", "retry:", "error:"}

// isSSEField reports whether line starts with an SSE field the reader
// knows, or is a comment.
func isSSEField(line []byte) bool {
	for _, p := range sseFields {
		if bytes.HasPrefix(line, []byte(p)) {
			return true
		}
	}
	return false
}

// jsonNesting follows how many objects and arrays are open in JSON text fed
// to it line by line, skipping brackets inside strings.
type jsonNesting struct {
	depth      int
	inStr, esc bool
}

// feed advances the count over b.
func (n *jsonNesting) feed(b []byte) {
	for _, c := range b {
		switch {
		case n.esc:
			n.esc = false
		case n.inStr:
			switch c {
			case '\\':
				n.esc = true
			case '"':
				n.inStr = false
			}
		case c == '"':
			n.inStr = true
		case c == '{' || c == '[':
			n.depth++
		case c == '}' || c == ']':
			n.depth--
		}
	}
}

// maxUnknown bounds what Unrecognised keeps of a line.
const maxUnknown = 120

// Unrecognised returns the start of the last line the reader ignored for a
// field the SSE standard does not define (a proxy's HTML error page, say),
// or "" when there was none: for the message of a stream that ends badly.
func (s *SSEReader) Unrecognised() string {
	return string(s.unknown)
}

// add appends a line to buf (a field's value to the data or error lines,
// a line to a bare JSON block), joining lines with '\n'. It checks the bound before appending, so the buffer never
// grows past it.
func (s *SSEReader) add(buf *[]byte, has *bool, value []byte) error {
	n := len(*buf) + len(value)
	if *has {
		n++
	}
	if n > s.lr.max {
		return ErrFrameTooLarge
	}
	if *has {
		*buf = append(*buf, '\n')
	}
	*buf = append(*buf, value...)
	*has = true
	return nil
}

func (s *SSEReader) emit(f *Frame, isErr bool) {
	if isErr {
		s.event = append(s.event[:0], "error"...)
		f.Data, f.Event, f.ID, f.Bare = s.errData, s.event, s.id, false
		return
	}
	f.Data, f.Event, f.ID, f.Bare = s.data, s.event, s.id, false
}

// errorType is the event type of an error event.
var errorType = []byte("error")

// NDJSONReader reads newline-delimited JSON: one frame per non-blank line.
type NDJSONReader struct {
	lr lineReader
}

// NewNDJSONReader returns an NDJSON reader of rd with lines bounded by
// maxBytes (DefaultMaxFrameBytes when <= 0).
func NewNDJSONReader(rd io.Reader, maxBytes int) *NDJSONReader {
	return &NDJSONReader{lr: newLineReader(rd, maxBytes)}
}

// Next implements FrameReader. A last line without a newline is still a
// frame: NDJSON streams commonly end that way.
func (n *NDJSONReader) Next(f *Frame) error {
	for {
		line, err := n.lr.line()
		if errors.Is(err, ErrTruncated) {
			err = nil
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		*f = Frame{Data: line}
		return nil
	}
}

func clip(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
