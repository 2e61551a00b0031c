package results_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/results"
)

// TestTornLine: the last line of requests.jsonl that is not valid JSON is
// skipped by every reader (ReadRecords, Merge) and named by TornTail, with
// the same line number; damage elsewhere is an error naming file:line.
func TestTornLine(t *testing.T) {
	line := func(id string) string { return recordLine(t, id) }
	torn := tornLine(t)
	tests := []struct {
		name     string
		data     string
		ids      []string
		tornLine int    // 0: no torn line
		tornTerm bool   // the torn line ends with a newline
		wantErr  string // substring; empty means no error
	}{
		{"clean", line("0") + line("1"), []string{"0", "1"}, 0, false, ""},
		{"torn, no newline", line("0") + line("1") + torn, []string{"0", "1"}, 3, false, ""},
		{"torn, with a newline", line("0") + line("1") + torn + "\n", []string{"0", "1"}, 3, true, ""},
		{"torn, then blank lines", line("0") + torn + "\n\n  \r\n", []string{"0"}, 2, true, ""},
		{"torn after blank lines", line("0") + "\n\n" + torn, []string{"0"}, 4, false, ""},
		{"zero-filled tail", line("0") + line("1") + "\x00\x00\x00\x00", []string{"0", "1"}, 3, false, ""},
		{"only a torn line", torn, nil, 1, false, ""},
		{"last line whole, no newline", line("0") + strings.TrimSuffix(line("1"), "\n"), []string{"0", "1"}, 0, false, ""},
		{"blank lines only", "\n \n\r\n", nil, 0, false, ""},
		{"empty", "", nil, 0, false, ""},
		{"torn in the middle", line("0") + torn + "\n" + line("2"), nil, 0, false, results.RequestsFile + ":2: not a record"},
		{"torn in the middle, then a torn tail", line("0") + torn + "\n" + torn, nil, 0, false, ":2: not a record"},
		{"valid JSON, not a record, last", line("0") + `{"id":7}` + "\n", nil, 0, false, ":2: not a record"},
		{"valid JSON, not an object, last", line("0") + "null\n", nil, 0, false, ":2: not a record: a JSON value that is not an object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRaw(t, tc.data)
			p := filepath.Join(dir, results.RequestsFile)
			var ids []string
			err := results.ReadRecords(dir, func(r *results.Record) error {
				ids = append(ids, r.ID)
				return nil
			})
			var scanned []string
			scanTorn, scanErr := results.ScanRecords(strings.NewReader(tc.data), p, func(r *results.Record, _ results.Line) error {
				scanned = append(scanned, r.ID)
				return nil
			})
			tail, tailErr := results.TornTail(dir)
			if tailErr != nil {
				t.Fatalf("TornTail: %v", tailErr)
			}
			if tc.wantErr != "" {
				for _, e := range []error{err, scanErr} {
					if e == nil || !strings.Contains(e.Error(), tc.wantErr) || !strings.Contains(e.Error(), p) {
						t.Errorf("error = %v, want one naming %s and containing %q", e, p, tc.wantErr)
					}
				}
				return
			}
			if err != nil || scanErr != nil {
				t.Fatalf("ReadRecords = %v, ScanRecords = %v", err, scanErr)
			}
			if !slices.Equal(ids, tc.ids) || !slices.Equal(scanned, tc.ids) {
				t.Errorf("ids = %v (scan %v), want %v", ids, scanned, tc.ids)
			}
			if tc.tornLine == 0 {
				if tail != nil || scanTorn != nil {
					t.Errorf("torn line %v / %v, want none", tail, scanTorn)
				}
				return
			}
			if tail == nil || scanTorn == nil {
				t.Fatalf("torn line %v / %v, want line %d", tail, scanTorn, tc.tornLine)
			}
			if *tail != *scanTorn {
				t.Errorf("TornTail %+v != ScanRecords %+v", *tail, *scanTorn)
			}
			if tail.Line != tc.tornLine || tail.Terminated != tc.tornTerm || tail.File != p {
				t.Errorf("torn %+v, want line %d terminated %v", *tail, tc.tornLine, tc.tornTerm)
			}
			msg := tail.String()
			if !strings.HasPrefix(msg, fmt.Sprintf("%s:%d: ", p, tc.tornLine)) || !strings.Contains(msg, "skipped") || strings.Contains(msg, "\n") {
				t.Errorf("warning %q: want one line naming %s:%d and saying it is skipped", msg, p, tc.tornLine)
			}
		})
	}
}

// TestTornTailLongLastLine: the tail is found when the last line is longer
// than TornTail's first read.
func TestTornTailLongLastLine(t *testing.T) {
	r := fullRecord("0")
	r.ICLMS = make([]float64, 40000)
	b, _ := json.Marshal(r)
	data := string(b) + "\n" + string(b[:len(b)-100])
	dir := writeRaw(t, data)
	tail, err := results.TornTail(dir)
	if err != nil || tail == nil || tail.Line != 2 || tail.Bytes != len(b)-100 {
		t.Fatalf("TornTail = %+v, %v; want line 2 of %d bytes", tail, err, len(b)-100)
	}
}

func TestTornTailMissing(t *testing.T) {
	if _, err := results.TornTail(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("TornTail on an empty dir = %v, want not-exist", err)
	}
}

// TestMergeWarnsTornLine: Merge leaves a shard's torn line out and says so.
func TestMergeWarnsTornLine(t *testing.T) {
	dirs := fourShards(t, nil)
	p := filepath.Join(dirs[1], results.RequestsFile)
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"99","sched`)
	f.Close()
	res, err := results.Merge(filepath.Join(t.TempDir(), "merged"), dirs)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, w := range res.Warnings {
		found = found || strings.HasPrefix(w, p+":11: the last line is not a whole record")
	}
	if !found || res.Records != 40 {
		t.Errorf("records %d, warnings %q: want 40 and one naming %s:11", res.Records, res.Warnings, p)
	}
}

// FuzzScanRecords: whatever the bytes, ScanRecords does not panic, and when
// it reads them without error it agrees with TornTail on the torn line.
func FuzzScanRecords(f *testing.F) {
	b, _ := json.Marshal(fullRecord("0"))
	rec := string(b) + "\n"
	for _, s := range []string{"", rec, rec + rec[:30], rec + "\n\n", rec + "\x00\x00", "{\n", "null\n", rec + "{\"id\":7}", " \r\n" + rec} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, results.RequestsFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		n := 0
		torn, err := results.ScanRecords(bytes.NewReader(data), filepath.Join(dir, results.RequestsFile), func(*results.Record, results.Line) error {
			n++
			return nil
		})
		tail, terr := results.TornTail(dir)
		if terr != nil {
			t.Fatalf("TornTail: %v", terr)
		}
		if err != nil {
			return
		}
		if (torn == nil) != (tail == nil) || (torn != nil && *torn != *tail) {
			t.Fatalf("ScanRecords torn %+v, TornTail %+v", torn, tail)
		}
	})
}

// TestMergeStatus: a merged run completed only when every shard did; else
// it takes the first other status, so check refuses it as partial.
func TestMergeStatus(t *testing.T) {
	tests := []struct {
		name     string
		statuses [4]string
		want     string
	}{
		{"all completed", [4]string{results.StatusCompleted, results.StatusCompleted, results.StatusCompleted, results.StatusCompleted}, results.StatusCompleted},
		{"one interrupted", [4]string{results.StatusCompleted, results.StatusInterrupted, results.StatusCompleted, results.StatusCompleted}, results.StatusInterrupted},
		{"one still running", [4]string{results.StatusCompleted, results.StatusCompleted, results.StatusCompleted, results.StatusRunning}, results.StatusRunning},
		{"an old shard", [4]string{results.StatusCompleted, "", results.StatusCompleted, results.StatusCompleted}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dirs := fourShards(t, func(i int, sp *shardSpec) { sp.status = tc.statuses[i] })
			res, err := results.Merge(filepath.Join(t.TempDir(), "merged"), dirs)
			if err != nil {
				t.Fatal(err)
			}
			if res.Info.Status != tc.want || res.Info.PlannedRequests != 0 {
				t.Errorf("merged status %q, planned %d; want %q, 0", res.Info.Status, res.Info.PlannedRequests, tc.want)
			}
		})
	}
}
