package results_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/streamgauge/streamgauge/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func intp(v int) *int { return &v }

// recordLine is fullRecord(id) as one line of requests.jsonl, newline
// included: the building block of the damaged-file tests.
func recordLine(tb testing.TB, id string) string {
	tb.Helper()
	b, err := json.Marshal(fullRecord(id))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b) + "\n"
}

// tornLine is a record line cut in half, without its newline: what a
// write interrupted mid-line leaves.
func tornLine(tb testing.TB) string {
	tb.Helper()
	full := recordLine(tb, "x")
	return full[:len(full)/2]
}

// fullRecord sets every field of a Record, so its JSON shows every key.
func fullRecord(id string) *results.Record {
	return &results.Record{
		ID:                    id,
		Session:               3,
		Turn:                  2,
		ScheduledNS:           1_000_000_000,
		SentNS:                1_000_250_000,
		FirstTokenNS:          1_120_250_000,
		DoneNS:                1_620_250_000,
		LagMS:                 0.25,
		TTFBMS:                results.Ms(20),
		TTFTMS:                results.Ms(120),
		TTFOMS:                results.Ms(180),
		E2EMS:                 620,
		TPOTMS:                results.Ms(25),
		ICLMS:                 []float64{60, 40.5, 399.5},
		FrameTokens:           []int{1, 1, 3, 16},
		InputTokens:           512,
		OutputTokens:          21,
		OutputTokensSource:    results.SourceUsage,
		UsageOutputTokens:     intp(21),
		TokenizerOutputTokens: intp(20),
		ReasoningTokens:       4,
		Frames:                4,
		HTTPStatus:            200,
		Warmup:                true,
		Error:                 &results.Error{Kind: results.KindHTTP429, Message: "slow down", RetryAfter: "2"},
		SLOOK:                 false,
	}
}

func create(t *testing.T) (*results.Writer, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	return w, dir
}

func readAll(t *testing.T, dir string) []*results.Record {
	t.Helper()
	var got []*results.Record
	if err := results.ReadRecords(dir, func(r *results.Record) error {
		got = append(got, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		recs []*results.Record
	}{
		{"empty", nil},
		{"full", []*results.Record{fullRecord("0")}},
		{"minimal", []*results.Record{{ID: "0", ICLMS: []float64{}}}},
		{"mixed", []*results.Record{
			fullRecord("0"),
			{ID: "1", SentNS: 5, DoneNS: 9, E2EMS: 0.004, ICLMS: []float64{}, OutputTokensSource: results.SourceFrames, SLOOK: true},
			{ID: "2", ICLMS: []float64{}, Error: &results.Error{Kind: results.KindConnect, Message: "dial tcp: refused <&>"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, dir := create(t)
			if w.Dir() != dir {
				t.Errorf("Dir() = %q, want %q", w.Dir(), dir)
			}
			for _, r := range tc.recs {
				if err := w.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			if w.Count() != len(tc.recs) {
				t.Errorf("Count() = %d, want %d", w.Count(), len(tc.recs))
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, dir)
			if len(got) != len(tc.recs) {
				t.Fatalf("read %d records, want %d", len(got), len(tc.recs))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.recs[i]) {
					t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], tc.recs[i])
				}
			}
		})
	}
}

func TestConcurrentAppend(t *testing.T) {
	const goroutines, each = 50, 40
	w, dir := create(t)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				r := fullRecord(fmt.Sprintf("%d-%d", g, i))
				if err := w.Append(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Count() != goroutines*each {
		t.Errorf("Count() = %d, want %d", w.Count(), goroutines*each)
	}

	b, err := os.ReadFile(filepath.Join(dir, results.RequestsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Error("requests.jsonl does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != goroutines*each {
		t.Fatalf("%d lines, want %d", len(lines), goroutines*each)
	}
	seen := map[string]int{}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not valid JSON: %.80s", i+1, l)
		}
		var r results.Record
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		seen[r.ID]++
	}
	for g := range goroutines {
		for i := range each {
			id := fmt.Sprintf("%d-%d", g, i)
			if seen[id] != 1 {
				t.Errorf("record %s written %d times, want once", id, seen[id])
			}
		}
	}
}

func TestCreate(t *testing.T) {
	t.Run("makes parents", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b", "c")
		w, err := results.Create(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, results.RequestsFile))
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != 0 {
			t.Errorf("empty run wrote %d bytes", st.Size())
		}
	})
	t.Run("existing run", func(t *testing.T) {
		dir := t.TempDir()
		old := []byte(`{"id":"old"}` + "\n")
		if err := os.WriteFile(filepath.Join(dir, results.RequestsFile), old, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := results.Create(dir)
		if err == nil {
			w.Close()
			t.Fatal("Create on a directory holding requests.jsonl: no error")
		}
		for _, want := range []string{dir, "already holds a run", "--out"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, results.RequestsFile))
		if !bytes.Equal(b, old) {
			t.Errorf("existing requests.jsonl changed to %q", b)
		}
	})
	t.Run("path is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := results.Create(f); err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("Create(%s) = %v, want an error naming the path", f, err)
		}
	})
}

// TestRecordsOnDiskAtOnce checks that each record is in the file as soon as
// Append returns, without Flush or Close: a run killed at any moment keeps
// every finished record.
func TestRecordsOnDiskAtOnce(t *testing.T) {
	w, dir := create(t)
	for i := range 3 {
		if err := w.Append(fullRecord(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, dir); len(got) != i+1 {
			t.Fatalf("after Append %d: %d records on disk, want %d", i, len(got), i+1)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, dir); len(got) != 3 {
		t.Errorf("after Close: %d records on disk, want 3", len(got))
	}
}

// writeRaw makes a run directory whose requests.jsonl holds exactly b.
func writeRaw(t *testing.T, b string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, results.RequestsFile), []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReadRecordsDamaged(t *testing.T) {
	line := func(id string) string { return recordLine(t, id) }
	torn := tornLine(t)
	tests := []struct {
		name    string
		data    string
		ids     []string
		wantErr string // substring; empty means no error
	}{
		{"clean", line("0") + line("1"), []string{"0", "1"}, ""},
		{"torn final line", line("0") + line("1") + torn, []string{"0", "1"}, ""},
		{"torn after one byte", line("0") + "{", []string{"0"}, ""},
		{"only a torn line", torn, nil, ""},
		{"last line unterminated but whole", line("0") + strings.TrimSuffix(line("1"), "\n"), []string{"0", "1"}, ""},
		{"empty file", "", nil, ""},
		{"crlf", strings.ReplaceAll(line("0")+line("1"), "\n", "\r\n"), []string{"0", "1"}, ""},
		{"malformed line 2", line("0") + "not json\n" + line("2"), nil, results.RequestsFile + ":2: not a record"},
		{"torn line in the middle", line("0") + torn + "\n" + line("2"), nil, ":2: not a record"},
		{"malformed line 3 after a blank line", line("0") + "\n" + "{oops}\n" + line("3"), nil, ":3: not a record"},
		{"wrong type line 1", `{"id":7}` + "\n", nil, ":1: not a record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeRaw(t, tc.data)
			var ids []string
			err := results.ReadRecords(dir, func(r *results.Record) error {
				ids = append(ids, r.ID)
				return nil
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadRecords error = %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), dir) {
					t.Errorf("error %q does not name the run directory", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids, tc.ids) {
				t.Errorf("ids = %v, want %v", ids, tc.ids)
			}
		})
	}
}

// TestCrashTornLine simulates a writer killed mid-record: records written by
// a Writer, then half a line.
func TestCrashTornLine(t *testing.T) {
	w, dir := create(t)
	for i := range 5 {
		if err := w.Append(fullRecord(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, results.RequestsFile), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"id":"5","scheduled_ns":12,"sent_`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := readAll(t, dir)
	if len(got) != 5 {
		t.Fatalf("read %d records, want the 5 whole ones", len(got))
	}
	for i, r := range got {
		if r.ID != strconv.Itoa(i) {
			t.Errorf("record %d has id %q", i, r.ID)
		}
	}
}

func TestReadRecordsCallbackError(t *testing.T) {
	w, dir := create(t)
	for i := range 3 {
		if err := w.Append(fullRecord(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	n := 0
	err := results.ReadRecords(dir, func(*results.Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("ReadRecords = %v after %d records, want the callback's error after 2", err, n)
	}
}

func TestReadRecordsMissing(t *testing.T) {
	dir := t.TempDir()
	err := results.ReadRecords(dir, func(*results.Record) error { return nil })
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), dir) {
		t.Errorf("ReadRecords on an empty dir = %v, want a not-exist error naming it", err)
	}
}

func TestWriteJSON(t *testing.T) {
	dir := t.TempDir()
	type doc struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	for i, v := range []doc{{1, "first"}, {2, "second, replacing the first"}} {
		if err := results.WriteJSON(dir, results.SummaryFile, v); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		var got doc
		if err := results.ReadJSON(dir, results.SummaryFile, &got); err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Errorf("read back %+v, want %+v", got, v)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || entries[0].Name() != results.SummaryFile {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("directory holds %v, want only %s (no temporary files)", names, results.SummaryFile)
		}
		st, err := os.Stat(filepath.Join(dir, results.SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, want 0644", st.Mode().Perm())
		}
		b, _ := os.ReadFile(filepath.Join(dir, results.SummaryFile))
		if !bytes.HasSuffix(b, []byte("}\n")) || !bytes.Contains(b, []byte("\n  \"a\"")) {
			t.Errorf("not indented JSON ending in a newline: %q", b)
		}
	}

	t.Run("unencodable", func(t *testing.T) {
		dir := t.TempDir()
		err := results.WriteJSON(dir, results.RunFile, map[string]any{"f": func() {}})
		if err == nil || !strings.Contains(err.Error(), results.RunFile) {
			t.Errorf("WriteJSON(func) = %v, want an error naming the file", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("a failed WriteJSON left %d files", len(entries))
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		if err := results.WriteJSON(dir, results.RunFile, 1); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("WriteJSON into a missing dir = %v, want an error naming it", err)
		}
	})
}

func TestReadJSONErrors(t *testing.T) {
	dir := t.TempDir()
	var v map[string]any
	if err := results.ReadJSON(dir, results.RunFile, &v); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.RunFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := results.ReadJSON(dir, results.RunFile, &v); err == nil || !strings.Contains(err.Error(), results.RunFile) {
		t.Errorf("malformed file: %v, want an error naming it", err)
	}
}

// designKeys are the requests.jsonl fields the design promises.
var designKeys = []string{
	"id", "scheduled_ns", "sent_ns", "first_token_ns", "done_ns",
	"lag_ms", "ttfb_ms", "ttft_ms", "ttfo_ms", "e2e_ms", "tpot_ms", "icl_ms",
	"input_tokens", "output_tokens", "output_tokens_source", "reasoning_tokens",
	"frames", "http_status", "warmup", "error", "slo_ok",
}

func TestRecordJSONKeys(t *testing.T) {
	tests := []struct {
		name string
		rec  *results.Record
	}{
		{"full", fullRecord("0")},
		// Nullable and zero fields are still written: a reader sees null,
		// not a missing key.
		{"zero", &results.Record{}},
		{"ok without first token", &results.Record{ID: "1", ICLMS: []float64{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range designKeys {
				if _, ok := m[k]; !ok {
					t.Errorf("key %q missing from %s", k, b)
				}
			}
		})
	}

	t.Run("error shape", func(t *testing.T) {
		b, _ := json.Marshal(&results.Record{Error: &results.Error{Kind: results.KindTimeout, Message: "deadline"}})
		var m struct {
			Error map[string]any `json:"error"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Error["kind"] != "timeout" || m.Error["message"] != "deadline" {
			t.Errorf("error = %v, want {kind: timeout, message: deadline}", m.Error)
		}
		b, _ = json.Marshal(&results.Record{})
		if !bytes.Contains(b, []byte(`"error":null`)) {
			t.Errorf("a successful record's error is not null: %s", b)
		}
	})
}

// TestRecordGolden pins the JSON of one full record as the writer emits it,
// so a renamed field or changed encoding shows up in review.
func TestRecordGolden(t *testing.T) {
	w, dir := create(t)
	if err := w.Append(fullRecord("42")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, results.RequestsFile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "record.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("record JSON differs from %s (run with -update if intended)\n got %s\nwant %s", golden, got, want)
	}

}

func TestErrorString(t *testing.T) {
	e := &results.Error{Kind: results.KindHTTP5xx, Message: "503 Service Unavailable"}
	var err error = e
	if err.Error() != "http_5xx: 503 Service Unavailable" {
		t.Errorf("Error() = %q", err.Error())
	}
	if (&results.Record{Error: e}).OK() || !(&results.Record{}).OK() {
		t.Error("OK() wrong")
	}
}

// failingReader yields data, then a read error that is not io.EOF.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestDecodeRecordsReadError: an I/O error mid-line is an error naming the
// line, not a torn line silently skipped.
func TestDecodeRecordsReadError(t *testing.T) {
	b, _ := json.Marshal(fullRecord("0"))
	first := string(b) + "\n"
	eio := errors.New("input/output error")
	tests := []struct {
		name, data string
		wantN      int
	}{
		{"mid line", first + first[:20], 1},
		{"at line start", first, 1},
		{"mid first line", first[:20], 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			err := results.DecodeRecords(&failingReader{data: tc.data, err: eio}, "in.jsonl", func(*results.Record) error {
				n++
				return nil
			})
			if !errors.Is(err, eio) {
				t.Fatalf("DecodeRecords = %v, want the read error", err)
			}
			want := fmt.Sprintf("in.jsonl:%d:", tc.wantN+1)
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name line %d", err, tc.wantN+1)
			}
			if n != tc.wantN {
				t.Errorf("%d records before the error, want %d", n, tc.wantN)
			}
		})
	}
}
