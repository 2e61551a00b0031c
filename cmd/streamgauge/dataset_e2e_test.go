package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

// summaryPrompts reads summary.json's prompts block.
func summaryPrompts(t *testing.T, dir string) *analysis.PromptStats {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Prompts *analysis.PromptStats `json:"prompts"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Prompts == nil {
		t.Fatal("summary.json has no prompts block")
	}
	return s.Prompts
}

// TestRunDataset sends each dataset format to the simulator: every record
// names its entry and carries the measured input length; 6 requests over 3
// entries repeat prompts, which the summary and the terminal say, unless
// --unique-prompts makes each prompt unique.
func TestRunDataset(t *testing.T) {
	const data = "../../loadgen/dataset/testdata/"
	sim := []string{"--output-tokens", "4", "--sim-ttft", "1ms", "--sim-itl", "1ms"}
	tests := []struct {
		file   string
		unique bool
		ids    []string
		turns  bool // some records are second turns
	}{
		{file: "prompts.jsonl", ids: []string{"a", "line 2", "7"}},
		{file: "sharegpt.json", ids: []string{"conv1", "conv2"}, turns: true},
		{file: "prompts.txt", ids: []string{"line 1", "line 4", "line 5"}},
		{file: "prompts.txt", unique: true, ids: []string{"line 1", "line 4", "line 5"}},
	}
	for _, tt := range tests {
		name := tt.file
		if tt.unique {
			name += "/unique"
		}
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append([]string{"run", "--dataset", data + tt.file, "--concurrency", "2", "--requests", "6", "--out", out}, sim...)
			if tt.unique {
				args = append(args, "--unique-prompts")
			}
			r := runCLI(t, nil, args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			recs := readRecords(t, out)
			if len(recs) != 6 {
				t.Fatalf("%d records, want 6", len(recs))
			}
			turn2 := false
			for _, rec := range recs {
				if !contains(tt.ids, rec.DatasetID) || rec.InputTokens <= 0 || rec.PromptHash == "" || rec.Error != nil {
					t.Errorf("record %s: dataset_id %q, input %d, hash %q, error %v", rec.ID, rec.DatasetID, rec.InputTokens, rec.PromptHash, rec.Error)
				}
				turn2 = turn2 || rec.Turn == 2
			}
			if turn2 != tt.turns {
				t.Errorf("second turns sent: %v, want %v", turn2, tt.turns)
			}
			p := summaryPrompts(t, out)
			warned := strings.Contains(r.stderr, "repeated an earlier prompt")
			if tt.unique {
				if p.RepeatedShare != 0 || p.Distinct != 6 || warned {
					t.Errorf("unique prompts: %+v, warned %v", p, warned)
				}
				return
			}
			if p.RepeatedShare <= 0 || !warned || !strings.Contains(r.stderr, "--unique-prompts prevents it") {
				t.Errorf("repeated prompts: %+v, warned %v\n%s", p, warned, r.stderr)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRunUniqueSynthetic: synthetic prompts with --unique-prompts keep
// their drawn length (the marker's tokens included) and never repeat.
func TestRunUniqueSynthetic(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	r := runCLI(t, nil, "run", "--unique-prompts", "--input-tokens", "64", "--output-tokens", "4", "--concurrency", "4",
		"--requests", "20", "--sim-ttft", "1ms", "--sim-itl", "1ms", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	seen := map[string]bool{}
	for _, rec := range readRecords(t, out) {
		if rec.InputTokens != 64 || seen[rec.PromptHash] {
			t.Errorf("record %s: input %d, hash %s seen before: %v", rec.ID, rec.InputTokens, rec.PromptHash, seen[rec.PromptHash])
		}
		seen[rec.PromptHash] = true
	}
	if p := summaryPrompts(t, out); p.Distinct != 20 || p.RepeatedShare != 0 {
		t.Errorf("prompts %+v", p)
	}
}

// TestRunDatasetErrors: a malformed dataset or a clashing setting is one
// line per problem and exit 2, before anything is sent.
func TestRunDatasetErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"prompt\": \"ok\"}\n{\"messages\": \"hi\"}\n{\"prompt\": \"\"}\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"malformed", []string{"--dataset", bad}, []string{
			bad + `:2: "messages" is not a list of {role, content}`, bad + `:3: "prompt" is empty`}},
		{"missing", []string{"--dataset", filepath.Join(dir, "nope.jsonl")}, []string{"dataset:", "nope.jsonl"}},
		{"format", []string{"--dataset", bad, "--dataset-format", "csv"}, []string{`dataset-format: "csv": want auto, jsonl, sharegpt, text`}},
		{"turns", []string{"--dataset", bad, "--turns", "3"}, []string{"turns: a --dataset's conversations set the turns"}},
		{"input", []string{"--dataset", bad, "--input-tokens", "30"}, []string{"input-tokens: a --dataset brings its own prompts"}},
		{"no dataset", []string{"--dataset-max-input", "30"}, []string{"dataset-max-input: applies to --dataset FILE only"}},
		{"bounds", []string{"--dataset", bad, "--dataset-min-input", "30", "--dataset-max-input", "20"}, []string{"dataset-min-input: 30 is above dataset-max-input 20"}},
		{"unique prefix", []string{"--unique-prompts", "--prefix-groups", "2", "--prefix-tokens", "10"}, []string{"unique-prompts: a marker at the start of every prompt would break prefix-groups"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append([]string{"run", "--requests", "2", "--concurrency", "1", "--out", out}, tt.args...)
			r := runCLI(t, nil, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stack trace:\n%s", r.stderr)
			}
			if _, err := os.Stat(filepath.Join(out, "requests.jsonl")); err == nil {
				t.Error("requests were recorded")
			}
		})
	}
}
