package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// TestDamagedRunFiles: a run directory whose requests.jsonl ends with a
// torn line, and whose summary.json is missing or cut short, is read by
// every command: each warns once, naming the file (and line), and they all
// count the same 40 records. Damage in the middle of requests.jsonl is an
// error naming file:line.
func TestDamagedRunFiles(t *testing.T) {
	root := t.TempDir()
	cand := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 9, summary: true}.write(t, filepath.Join(root, "cand"))
	tear := func(dir string) {
		f, err := os.OpenFile(filepath.Join(dir, results.RequestsFile), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(`{"id":"40","scheduled_ns":4000000000,"sent_`)
		f.Close()
	}
	cutSummary := func(dir string) {
		p := filepath.Join(dir, results.SummaryFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, b[:len(b)/3], 0o644)
	}
	tornNoSummary := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8}.write(t, filepath.Join(root, "torn"))
	tear(tornNoSummary)
	tornCut := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8, summary: true}.write(t, filepath.Join(root, "torn-cut"))
	tear(tornCut)
	cutSummary(tornCut)
	cut := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8, summary: true}.write(t, filepath.Join(root, "cut"))
	cutSummary(cut)
	middle := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8}.write(t, filepath.Join(root, "middle"))
	{
		p := filepath.Join(middle, results.RequestsFile)
		b, _ := os.ReadFile(p)
		lines := strings.SplitAfter(string(b), "\n")
		lines[19] = lines[19][:len(lines[19])/2] + "\n"
		os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644)
	}
	cutRun := func(dir string) {
		p := filepath.Join(dir, results.RunFile)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, b[:len(b)/2], 0o644)
	}
	runCut := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8, summary: true}.write(t, filepath.Join(root, "run-cut"))
	cutRun(runCut)
	runCutNoSummary := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8}.write(t, filepath.Join(root, "run-cut-no-summary"))
	cutRun(runCutNoSummary)
	runWrongType := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8, summary: true}.write(t, filepath.Join(root, "run-wrong-type"))
	os.WriteFile(filepath.Join(runWrongType, results.RunFile), []byte(`{"tool":"streamgauge","profile":"not an object","seed":"x"}`), 0o644)
	runCutMiddle := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 8}.write(t, filepath.Join(root, "run-cut-middle"))
	cutRun(runCutMiddle)
	{
		p := filepath.Join(runCutMiddle, results.RequestsFile)
		b, _ := os.ReadFile(p)
		lines := strings.SplitAfter(string(b), "\n")
		lines[19] = lines[19][:len(lines[19])/2] + "\n"
		os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644)
	}
	runWarning := func(dir string) string {
		return "streamgauge: warning: " + filepath.Join(dir, results.RunFile) + " is damaged ("
	}

	type count func(t *testing.T, stdout string) int64
	jsonTotal := func(t *testing.T, out string) int64 {
		var s struct {
			Requests struct{ Total int64 } `json:"requests"`
		}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("report json: %v", err)
		}
		return s.Requests.Total
	}
	csvRows := func(_ *testing.T, out string) int64 { return int64(strings.Count(out, "\n") - 1) }
	compareBase := func(t *testing.T, out string) int64 {
		var c struct {
			Baseline struct{ Requests int64 } `json:"baseline"`
		}
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatalf("compare json: %v", err)
		}
		return c.Baseline.Requests
	}
	commands := []struct {
		name  string
		args  func(dir string) []string
		count count // nil: the command shows no count
	}{
		{"report json", func(d string) []string { return []string{"report", d, "--format", "json"} }, jsonTotal},
		{"report csv", func(d string) []string { return []string{"report", d, "--format", "csv"} }, csvRows},
		{"report table", func(d string) []string { return []string{"report", d} }, nil},
		{"check", func(d string) []string { return []string{"check", d, "--slo", "error_rate<100%"} }, nil},
		{"compare", func(d string) []string { return []string{"compare", d, cand, "--format", "json", "--resamples", "200"} }, compareBase},
	}
	tornWarning := "streamgauge: warning: " + filepath.Join(tornNoSummary, results.RequestsFile) + ":41: the last line is not a whole record (43 bytes, no newline; the run was cut short?): skipped"
	runs := []struct {
		name string
		dir  string
		// stderr lines every command prints; summary lines only those
		// that use the summary.
		warn, summary []string
		code          int
		err           string
	}{
		{"torn line, no summary", tornNoSummary, []string{tornWarning},
			[]string{tornNoSummary + " has no summary.json (cut short?): summary rebuilt from requests.jsonl"}, exitOK, ""},
		{"torn line, summary cut short", tornCut, []string{filepath.Join(tornCut, results.RequestsFile) + ":41: the last line is not a whole record"},
			[]string{"streamgauge: " + filepath.Join(tornCut, results.SummaryFile) + " is damaged (unexpected end of JSON input): summary rebuilt from " + filepath.Join(tornCut, results.RequestsFile)}, exitOK, ""},
		{"summary cut short", cut, nil, []string{filepath.Join(cut, results.SummaryFile) + " is damaged (unexpected end of JSON input)"}, exitOK, ""},
		{"damage in the middle", middle, nil, nil, exitRun, "streamgauge: " + filepath.Join(middle, results.RequestsFile) + ":20: not a record"},
		{"run.json cut short", runCut, []string{runWarning(runCut)}, nil, exitOK, ""},
		{"run.json cut short, no summary", runCutNoSummary, []string{runWarning(runCutNoSummary)},
			[]string{runCutNoSummary + " has no summary.json (cut short?): summary rebuilt from requests.jsonl"}, exitOK, ""},
		{"run.json of the wrong shape", runWrongType, []string{runWarning(runWrongType)}, nil, exitOK, ""},
		{"run.json and requests.jsonl damaged", runCutMiddle, nil, nil, exitRun, "streamgauge: " + filepath.Join(runCutMiddle, results.RequestsFile) + ":20: not a record"},
	}
	for _, rn := range runs {
		for _, c := range commands {
			t.Run(rn.name+"/"+c.name, func(t *testing.T) {
				r := runCLI(t, nil, c.args(rn.dir)...)
				if r.code != rn.code {
					t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, rn.code, r.stdout, r.stderr)
				}
				if rn.code != exitOK {
					if !strings.Contains(r.stderr, rn.err) {
						t.Errorf("stderr lacks %q:\n%s", rn.err, r.stderr)
					}
					return
				}
				want := rn.warn
				if c.name != "report csv" && c.name != "compare" {
					want = append(append([]string{}, want...), rn.summary...)
				}
				for _, w := range want {
					if strings.Count(r.stderr, w) != 1 {
						t.Errorf("stderr should say once %q:\n%s", w, r.stderr)
					}
				}
				if c.count != nil {
					if n := c.count(t, r.stdout); n != 40 {
						t.Errorf("%s counts %d records, want 40", c.name, n)
					}
				}
			})
		}
	}
}

// TestMergeDamagedShard: a shard whose summary.json is cut short, or whose
// requests.jsonl ends with a torn line, is merged from its records with a
// warning naming the file, and the merged run counts every whole record.
func TestMergeDamagedShard(t *testing.T) {
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	recs := synthRecords(200, 9)
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		want   func(dir string) string
	}{
		{"summary cut short", func(t *testing.T, dir string) {
			p := filepath.Join(dir, results.SummaryFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, func(dir string) string {
			return "has a damaged summary.json (unexpected end of JSON input): its histograms are rebuilt from its records"
		}},
		{"torn last line", func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, results.RequestsFile), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString(`{"id":"x","sched`)
			f.Close()
		}, func(dir string) string {
			return "warning: " + filepath.Join(dir, results.RequestsFile) + ":101: the last line is not a whole record"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			var dirs []string
			for i := range 2 {
				d := filepath.Join(root, "shard-"+strconv.Itoa(i))
				writeSynthShard(t, d, recs, i, 2, start)
				dirs = append(dirs, d)
			}
			tc.damage(t, dirs[1])
			out := filepath.Join(root, "merged")
			r := runCLI(t, nil, "merge", dirs[0], dirs[1], "-o", out)
			if r.code != exitOK || !strings.Contains(r.stderr, tc.want(dirs[1])) {
				t.Fatalf("exit %d, stderr lacks %q:\n%s", r.code, tc.want(dirs[1]), r.stderr)
			}
			var merged analysis.Summary
			if err := results.ReadJSON(out, results.SummaryFile, &merged); err != nil {
				t.Fatal(err)
			}
			if merged.Requests.Total != 200 {
				t.Errorf("merged total %d, want 200", merged.Requests.Total)
			}
		})
	}
}
