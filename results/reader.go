package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// maxLine bounds one record line; a record with a very long stream holds one
// number per frame, so this is generous.
const maxLine = 64 << 20

// ReadRecords calls fn for every record of dir/requests.jsonl, in file order,
// without holding them all in memory. A final line cut short by a crash is
// skipped; a malformed line elsewhere is an error naming the line.
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
func DecodeRecords(rd io.Reader, name string, fn func(*Record) error) error {
	br := bufio.NewReaderSize(rd, 1<<20)
	line := 0
	for {
		b, err := readLine(br)
		line++ // every line counts, blank or not, so errors name the right one
		if len(b) > 0 {
			var r Record
			if jerr := json.Unmarshal(b, &r); jerr != nil {
				if errors.Is(err, io.EOF) {
					return nil // a torn last line: the writer was killed mid-record
				}
				if err != nil {
					return fmt.Errorf("%s:%d: %w", name, line, err)
				}
				return fmt.Errorf("%s:%d: not a record: %w", name, line, jerr)
			}
			if ferr := fn(&r); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
}

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
