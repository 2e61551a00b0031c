package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode"
)

// maxLine bounds one record line; a record with a very long stream holds one
// number per frame, so this is generous.
const maxLine = 64 << 20

// TornLine is the last line of a requests.jsonl that is not a whole record
// (not valid JSON): a writer killed mid-record, a disk that filled up, a
// copy cut short. Every reader skips it, so every command counts the same
// records; callers tell the user with String.
type TornLine struct {
	// File is the path of the requests file.
	File string
	// Line is the line's number, from 1.
	Line int
	// Bytes is the line's length, without its newline.
	Bytes int
	// Terminated is true when the line ends with a newline.
	Terminated bool
}

// String is the one-line warning to show the user.
func (t *TornLine) String() string {
	how := "no newline"
	if t.Terminated {
		how = "invalid JSON"
	}
	return fmt.Sprintf("%s:%d: the last line is not a whole record (%d bytes, %s; the run was cut short?): skipped", t.File, t.Line, t.Bytes, how)
}

// ReadRecords calls fn for every record of dir/requests.jsonl, in file order,
// without holding them all in memory. A torn last line (see TornLine) is
// skipped; a malformed line elsewhere is an error naming the file and line.
// TornTail says whether a file has a torn last line.
func ReadRecords(dir string, fn func(*Record) error) error {
	p := filepath.Join(dir, RequestsFile)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("read run %s: %w", dir, err)
	}
	defer f.Close()
	return DecodeRecords(f, p, fn)
}

// DecodeRecords reads JSON lines of records from rd; name is used in errors.
// It reads as ReadRecords does.
func DecodeRecords(rd io.Reader, name string, fn func(*Record) error) error {
	_, err := ScanRecords(rd, name, func(r *Record, _ Line) error { return fn(r) })
	return err
}

// Line places one record line in its file.
type Line struct {
	// Number is the line's number, from 1.
	Number int
	// Offset is the byte offset of the line's start.
	Offset int64
	// Raw is the line as written, without its newline. It is valid only
	// during the callback.
	Raw []byte
}

// ScanRecords is the one reader of record lines: ReadRecords, DecodeRecords
// and Merge all use it, so every command agrees on which lines are records.
// Blank lines are skipped. A line that is not valid JSON is a torn line
// when no record follows it: it is skipped and returned, for the caller to
// warn about. Anywhere else it is an error naming name and the line, as is a
// valid JSON line that is not a record object.
func ScanRecords(rd io.Reader, name string, fn func(*Record, Line) error) (*TornLine, error) {
	br := bufio.NewReaderSize(rd, 1<<20)
	var off int64
	var torn *TornLine
	var tornErr error
	for n := 1; ; n++ {
		b, err := readLine(br)
		terminated := err == nil
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		if !isBlank(b) {
			if torn != nil {
				// A record follows the bad line: it is damage in the
				// middle of the file, not a write cut short.
				return nil, tornErr
			}
			var r Record
			if jerr := decodeRecord(b, &r); jerr != nil {
				if !json.Valid(b) {
					torn = &TornLine{File: name, Line: n, Bytes: len(b), Terminated: terminated}
					tornErr = fmt.Errorf("%s:%d: not a record: %w", name, n, jerr)
				} else {
					return nil, fmt.Errorf("%s:%d: not a record: %w", name, n, jerr)
				}
			} else if ferr := fn(&r, Line{Number: n, Offset: off, Raw: b}); ferr != nil {
				return nil, ferr
			}
		}
		if !terminated {
			return torn, nil
		}
		off += int64(len(b)) + 1
	}
}

// decodeRecord decodes one line, which must be a JSON object.
func decodeRecord(b []byte, r *Record) error {
	if t := bytes.TrimLeftFunc(b, unicode.IsSpace); len(t) == 0 || t[0] != '{' {
		if json.Valid(b) {
			return errors.New("a JSON value that is not an object")
		}
	}
	return json.Unmarshal(b, r)
}

func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// readLine returns the next line without its newline; err is io.EOF when the
// line was not terminated.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > maxLine {
			return nil, fmt.Errorf("line longer than %d bytes", maxLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return buf, err
		}
		return buf[:len(buf)-1], nil
	}
}

// TornTail reports whether dir/requests.jsonl ends with a torn line (see
// TornLine), the one every reader skips, so that a command can warn once.
// It reads the file's tail, and counts the lines before it only when there
// is one; nil means the last line is whole (or the file is empty).
func TornTail(dir string) (*TornLine, error) {
	p := filepath.Join(dir, RequestsFile)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", dir, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", dir, err)
	}
	size := st.Size()
	for window := int64(64 << 10); ; window *= 2 {
		off := max(0, size-window)
		buf := make([]byte, size-off)
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		end := len(bytes.TrimRightFunc(buf, unicode.IsSpace))
		start := bytes.LastIndexByte(buf[:end], '\n') + 1
		if (end == 0 || start == 0) && off > 0 {
			if window > 2*maxLine {
				return nil, fmt.Errorf("%s: last line longer than %d bytes", p, maxLine)
			}
			continue // the last line starts before this window
		}
		if end == 0 {
			return nil, nil // empty, or blank lines only
		}
		last := buf[start:]
		terminated := false
		if i := bytes.IndexByte(last, '\n'); i >= 0 {
			last, terminated = last[:i], true
		}
		if json.Valid(last) {
			return nil, nil // a whole record, or damage ScanRecords reports as an error
		}
		n, err := countLines(f, off+int64(start))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		return &TornLine{File: p, Line: n + 1, Bytes: len(last), Terminated: terminated}, nil
	}
}

// countLines counts the newlines in f's first n bytes.
func countLines(f *os.File, n int64) (int, error) {
	buf := make([]byte, 1<<20)
	count := 0
	for off := int64(0); off < n; {
		k, err := f.ReadAt(buf[:min(int64(len(buf)), n-off)], off)
		count += bytes.Count(buf[:k], []byte{'\n'})
		off += int64(k)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if k == 0 {
			break
		}
	}
	return count, nil
}

// ReadJSON decodes dir/name into v.
func ReadJSON(dir, name string, v any) error {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("read run %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// IsDamaged reports whether err, from ReadJSON, says the file is there but
// is not the JSON it should be (cut short, empty, overwritten), as opposed to
// missing or unreadable.
func IsDamaged(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}
