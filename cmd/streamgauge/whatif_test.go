package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
)

// TestWhatIfUsage: a what-if that cannot run as asked is refused before
// anything is sent or written, in one line naming the value and the fix.
func TestWhatIfUsage(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	base := []string{"sweep", "--rates", "2,4", "--stage-duration", "1s", "--out", out}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad scheduler", nil, []string{"--what-if", "scheduler=continuous,lifo"},
			`--what-if "scheduler=continuous,lifo": scheduler "lifo" is not one of fcfs, static, continuous, chunked-prefill, priority`},
		{"unknown setting", nil, []string{"--what-if", "batch=1,2"}, `--what-if "batch=1,2": "batch" is not a setting a what-if can vary`},
		{"too many variants", nil, []string{"--what-if", "scheduler=fcfs,static,continuous,chunked-prefill,priority", "--what-if", "max-batch=8,16,32,64"},
			"--what-if: 5 scheduler × 4 max-batch make 20 variants, each a whole sweep; give at most 16"},
		{"with --target", nil, []string{"--what-if", "scheduler=continuous,fcfs", "--target", srv.URL},
			"--what-if: varies the built-in simulator, which does not start with --target"},
		{"with a --target holding credentials", nil, []string{"--what-if", "scheduler=continuous,fcfs", "--target", "http://bench:tgt-SECRET-pw@127.0.0.1:9/v1?api_key=q-SECRET-7"},
			"which does not start with --target http://redacted"},
		{"the same setting as a flag", nil, []string{"--what-if", "scheduler=continuous,fcfs", "--sim-scheduler", "static"},
			"--sim-scheduler and --what-if scheduler=...: both set the simulator's scheduler"},
		{"the same setting from the environment", map[string]string{"STREAMGAUGE_SIM_MAX_BATCH": "8"}, []string{"--what-if", "max-batch=16,32"},
			"STREAMGAUGE_SIM_MAX_BATCH and --what-if max-batch=...: both set"},
		{"the fixed engine", nil, []string{"--what-if", "max-batch=16,32", "--sim-ttft", "5ms"},
			"what-if max-batch=16: the simulator would run the fixed scheduler"},
		{"a bad preset file", nil, []string{"--what-if", "max-batch=16,32", "--sim-preset-file", filepath.Join(dir, "nope.yaml")},
			"what-if max-batch=16: sim-preset-file: preset file " + filepath.Join(dir, "nope.yaml") + ": no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, append(base, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", r.code, r.stderr, exitUsage, tc.want)
			}
			if strings.Contains(r.stderr, "SECRET") {
				t.Errorf("a credential in %q", r.stderr)
			}
		})
	}
	if n := hits.Load(); n > 0 {
		t.Errorf("the target got %d requests", n)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
}

// TestWhatIfEndToEnd runs a what-if of two schedulers at two rates, one
// second each, on the sample preset file: a sweep per variant in its own
// directory, index.html naming both, and the table on stdout.
func TestWhatIfEndToEnd(t *testing.T) {
	out := filepath.Join(t.TempDir(), "whatif")
	r := runCLI(t, nil, "sweep", "--sim-preset-file", examplePreset, "--what-if", "scheduler=continuous,fcfs",
		"--rates", "2,4", "--stage-duration", "1s", "--cooldown", "0", "--input-tokens", "64", "--output-tokens", "4",
		"--slo", "error_rate<1%", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	variants := []string{"scheduler=continuous", "scheduler=fcfs"}
	for _, v := range variants {
		sw, err := analysis.LoadSweep(filepath.Join(out, v))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if len(sw.Stages) != 2 || sw.Stages[0].Level != 2 || sw.Stages[1].Level != 4 {
			t.Errorf("%s: stages %+v, want levels 2 and 4", v, sw.Stages)
		}
		for _, f := range []string{"sweep.html", "sweep.txt", "stage-001-rate-2/run.json", "stage-002-rate-4/summary.json"} {
			if _, err := os.Stat(filepath.Join(out, v, f)); err != nil {
				t.Errorf("%s: %v", v, err)
			}
		}
		b, err := os.ReadFile(filepath.Join(out, v, "stage-001-rate-2", "run.json"))
		if err != nil || !strings.Contains(string(b), `"scheduler": "`+strings.TrimPrefix(v, "scheduler=")+`"`) || !strings.Contains(string(b), `"name": "h200-llama8b-hf-eager"`) {
			t.Errorf("%s: run.json does not record the variant's simulator: %s", v, b)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"streamgauge what-if", "<svg", "scheduler=continuous", "scheduler=fcfs", `href="scheduler=fcfs/sweep.html"`, "goodput at 4 req/s"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	var idx harness.WhatIfIndex
	b, _ := os.ReadFile(filepath.Join(out, harness.WhatIfFile))
	if err := json.Unmarshal(b, &idx); err != nil || idx.Done != 2 || len(idx.Variants) != 2 || idx.CostModel != "h200-llama8b-hf-eager" || idx.Interrupted {
		t.Errorf("whatif.json %+v, %v", idx, err)
	}
	for _, want := range []string{"variant", "capacity (req/s)", "vs baseline", "goodput at 2 req/s", "goodput at 4 req/s", "best",
		"scheduler=continuous", "scheduler=fcfs", "baseline: scheduler=continuous", "what-if directory  " + out} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "what-if: 2 variants on cost model h200-llama8b-hf-eager, baseline scheduler=continuous, 2 levels × 1s stages: at least 4s plus the drains, writing ") {
		t.Errorf("stderr does not announce the plan:\n%s", r.stderr)
	}
	// The same directories compare again with compare, HTML included.
	page := filepath.Join(out, "again.html")
	c := runCLI(t, nil, "compare", filepath.Join(out, variants[0]), filepath.Join(out, variants[1]), "--html", page)
	if c.code != 0 || !strings.Contains(c.stdout, "scheduler=fcfs") {
		t.Errorf("compare of the variants: exit %d\n%s%s", c.code, c.stdout, c.stderr)
	}
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), "scheduler=fcfs") || !strings.Contains(string(b), "<svg") {
		t.Errorf("compare --html of sweeps: %v", err)
	}
}

// TestWhatIfEveryVariantFails: a what-if whose every request failed (the
// simulator refuses them all) exits 1 after its table, never 0.
func TestWhatIfEveryVariantFails(t *testing.T) {
	out := filepath.Join(t.TempDir(), "whatif")
	r := runCLI(t, nil, "sweep", "--what-if", "scheduler=continuous,fcfs", "--rates", "4", "--stage-duration", "500ms",
		"--cooldown", "0", "--input-tokens", "16", "--output-tokens", "2", "--sim-fail-rate", "1", "--out", out)
	if r.code != exitRun || !strings.Contains(r.stderr, "what-if: no variant completed a request") {
		t.Fatalf("exit %d, want 1 naming the failure\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "scheduler=fcfs") {
		t.Errorf("the table of what ran is still printed:\n%s", r.stdout)
	}
}

// A plain sweep whose every request failed exits 1 too.
func TestSweepEveryStageFails(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sweep")
	r := runCLI(t, nil, "sweep", "--rates", "4", "--stage-duration", "500ms", "--cooldown", "0",
		"--input-tokens", "16", "--output-tokens", "2", "--sim-fail-rate", "1", "--out", out)
	if r.code != exitRun || !strings.Contains(r.stderr, "sweep: no stage completed a request") {
		t.Fatalf("exit %d, want 1 naming the failure\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
