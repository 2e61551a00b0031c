package results

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File names inside a run directory.
const (
	RunFile      = "run.json"
	RequestsFile = "requests.jsonl"
	SummaryFile  = "summary.json"
)

// FlushInterval bounds how long a finished record may sit in memory before it
// reaches the file.
const FlushInterval = time.Second

// Writer appends records to a run directory's requests.jsonl as requests
// finish. It is safe for concurrent use. Records are buffered and flushed at
// least every FlushInterval, so a run killed at any moment loses at most the
// last second of records, and a run stopped by a signal loses none.
type Writer struct {
	dir  string
	mu   sync.Mutex
	f    *os.File
	bw   *bufio.Writer
	enc  *json.Encoder
	n    int
	err  error
	stop chan struct{}
	done chan struct{}
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
	bw := bufio.NewWriterSize(f, 256<<10)
	w := &Writer{dir: dir, f: f, bw: bw, enc: json.NewEncoder(bw), stop: make(chan struct{}), done: make(chan struct{})}
	w.enc.SetEscapeHTML(false)
	go w.flusher()
	return w, nil
}

// Dir returns the run directory.
func (w *Writer) Dir() string { return w.dir }

func (w *Writer) flusher() {
	defer close(w.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.Flush()
		}
	}
}

// Append writes one record. The first write error is kept and returned by
// every later call and by Close.
func (w *Writer) Append(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if err := w.enc.Encode(r); err != nil {
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

// Flush pushes buffered records to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		if err := w.bw.Flush(); err != nil {
			w.err = fmt.Errorf("write %s: %w", filepath.Join(w.dir, RequestsFile), err)
		}
	}
	return w.err
}

// Close flushes, syncs and closes requests.jsonl.
func (w *Writer) Close() error {
	close(w.stop)
	<-w.done
	err := w.Flush()
	w.mu.Lock()
	defer w.mu.Unlock()
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
