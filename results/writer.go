package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// File names inside a run directory.
const (
	RunFile      = "run.json"
	RequestsFile = "requests.jsonl"
	SummaryFile  = "summary.json"
)

// Writer appends records to a run directory's requests.jsonl as requests
// finish. It is safe for concurrent use. Each record is written to the file
// (one write call) before Append returns, so a process killed at any moment
// leaves every finished record on disk; at worst the record being written is
// cut short, and the reader skips a torn last line.
type Writer struct {
	dir string
	mu  sync.Mutex
	f   *os.File
	buf bytes.Buffer
	enc *json.Encoder
	n   int
	err error
}

// Create makes dir (and its parents) and opens requests.jsonl in it for
// appending. An existing requests.jsonl is an error: a run never mixes its
// records with another's.
func Create(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	p := filepath.Join(dir, RequestsFile)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		if os.IsExist(err) {
			return nil, fmt.Errorf("run directory %s already holds a run; choose another --out", dir)
		}
		return nil, fmt.Errorf("run directory %s: %w", dir, err)
	}
	w := &Writer{dir: dir, f: f}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false)
	return w, nil
}

// Dir returns the run directory.
func (w *Writer) Dir() string { return w.dir }

// Append writes one record. The first write error is kept and returned by
// every later call and by Close.
func (w *Writer) Append(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	if err := w.enc.Encode(r); err != nil {
		w.err = fmt.Errorf("encode record %s: %w", r.ID, err)
		return w.err
	}
	if _, err := w.f.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("write %s: %w", filepath.Join(w.dir, RequestsFile), err)
		return w.err
	}
	w.n++
	return nil
}

// Count returns how many records were appended.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Flush returns the first write error, if any. Records are already in the
// file when Append returns, so there is nothing to push.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close syncs and closes requests.jsonl.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if serr := w.f.Sync(); err == nil && serr != nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// WriteJSON writes v as indented JSON to dir/name atomically (a temporary
// file renamed into place), so a reader never sees half a file.
func WriteJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	b = append(b, '\n')
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	// Sync before the rename: otherwise a power loss can persist the rename
	// but not the data, leaving an empty file under the final name.
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}
