package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportAsUsage: an unknown tool or a format --as cannot write exits 2
// with a line naming what is valid; a run of warm-up only exits 1.
func TestReportAsUsage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "requests.jsonl"),
		[]byte(`{"id":"w","warmup":true,"e2e_ms":5,"icl_ms":[],"error":null}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"report", dir, "--as", "k6"}, 2, []string{`--as "k6": unknown tool`, "vllm, sglang, aiperf, genai-perf, guidellm, llmperf"}},
		{[]string{"report", dir, "--as", "vllm", "--format", "csv"}, 2, []string{"--format table or --format json", "not csv"}},
		{[]string{"report", dir, "--as", "aiperf", "-o", filepath.Join(dir, "x.html")}, 2, []string{"not html"}},
		{[]string{"report", dir, "--as", "vllm"}, 1, []string{"no measured requests"}},
	}
	for _, tc := range tests {
		r := runBinary(t, nil, tc.args...)
		if r.code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args, r.code, tc.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, r.stderr)
			}
		}
		if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n > 0 {
			t.Errorf("%v: want one line, got:\n%s", tc.args, r.stderr)
		}
	}
}

// TestReportAsVLLMFixedTiming runs the built-in simulator with fixed
// timing (ttft 40 ms, 8 ms between tokens, one token per frame) at low
// load and checks that report --as vllm lands near those: a correctness
// check of the definitions (vLLM's ttft, its pooled per-chunk ITL with the
// role-only and finish-only chunks in it, its per-request TPOT), with
// generous bounds, not a timing assertion.
func TestReportAsVLLMFixedTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulator for about 3 s")
	}
	out := filepath.Join(t.TempDir(), "run")
	r := runBinary(t, nil, "run", "--rate", "8", "--requests", "17", "--warmup-requests", "1",
		"--output-tokens", "24", "--input-tokens", "64", "--sim-ttft", "40ms", "--sim-itl", "8ms", "--out", out)
	if r.code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	tab := runBinary(t, nil, "report", out, "--as", "vllm")
	if tab.code != 0 {
		t.Fatalf("report --as vllm: exit %d\n%s", tab.code, tab.stderr)
	}
	for _, w := range []string{"metric", "streamgauge", "vLLM", "why it differs", "ttft mean (ms)", "itl p99 (ms)", "tpot p50 (ms)",
		"role-only", "vllm/benchmarks/serve.py"} {
		if !strings.Contains(tab.stdout, w) {
			t.Errorf("table lacks %q:\n%s", w, tab.stdout)
		}
	}
	js := runBinary(t, nil, "report", out, "--as", "vllm", "--format", "json")
	if js.code != 0 {
		t.Fatalf("report --as vllm --format json: exit %d\n%s", js.code, js.stderr)
	}
	type stat struct {
		Count             int
		Mean, Median, P99 float64
	}
	var rep struct {
		Tool   string
		Warmup int
		Theirs struct {
			TTFT      *stat `json:"ttft_ms"`
			ITL       *stat `json:"itl_ms"`
			TPOT      *stat `json:"tpot_ms"`
			Requests  int
			DurationS float64 `json:"duration_s"`
		} `json:"theirs"`
		Differences []struct{ Metric, Why string }
	}
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, js.stdout)
	}
	if rep.Tool != "vllm" || rep.Warmup != 1 || rep.Theirs.Requests != 16 {
		t.Errorf("tool %q warmup %d requests %d, want vllm 1 16", rep.Tool, rep.Warmup, rep.Theirs.Requests)
	}
	within := func(what string, s *stat, want float64) {
		if s == nil {
			t.Errorf("%s missing", what)
			return
		}
		if math.Abs(s.Median-want) > 0.2*want {
			t.Errorf("%s median %.2f ms, want %.0f ms ±20%%", what, s.Median, want)
		}
	}
	within("ttft", rep.Theirs.TTFT, 40)
	within("itl", rep.Theirs.ITL, 8)
	within("tpot", rep.Theirs.TPOT, 8)
	// The simulator's chat stream is a role-only chunk, 24 token chunks and
	// a finish-only chunk: vLLM's client times all 26, so 25 gaps a
	// request, two of them near 0, and a mean of 23 × 8 / 25 = 7.36 ms.
	if rep.Theirs.ITL != nil {
		if rep.Theirs.ITL.Count != 16*25 {
			t.Errorf("itl count %d, want 16 requests × 25 gaps", rep.Theirs.ITL.Count)
		}
		if want := 23 * 8.0 / 25; math.Abs(rep.Theirs.ITL.Mean-want) > 0.2*want {
			t.Errorf("itl mean %.2f ms, want %.2f ms ±20%%", rep.Theirs.ITL.Mean, want)
		}
	}
	// vLLM's schedule puts the last of its 16 arrivals at 16/8 = 2 s after
	// its clock's start; its duration adds that request's ~225 ms.
	if d := rep.Theirs.DurationS; d < 2 || d > 3 {
		t.Errorf("duration %.3f s, want 16/8 s plus the last request's latency", d)
	}
	if len(rep.Differences) == 0 {
		t.Error("no differences explained")
	}
}

// TestReportAsNothingMeasured: an empty run and a run whose every request
// failed exit 1 (the latter after its table), never 0 with empty numbers.
func TestReportAsNothingMeasured(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	os.Mkdir(empty, 0o755)
	os.WriteFile(filepath.Join(empty, "requests.jsonl"), nil, 0o644)
	failed := fakeRun{n: 10, ttftMS: 100, itlMS: 10, seed: 1, failRate: 1}.write(t, filepath.Join(root, "failed"))
	for _, tc := range []struct {
		dir, tool, want string
	}{
		{empty, "vllm", "holds no record"},
		{failed, "vllm", "every measured request failed (10)"},
		{failed, "aiperf", "every measured request failed (10)"},
	} {
		r := runCLI(t, nil, "report", tc.dir, "--as", tc.tool, "--format", "json")
		if r.code != exitRun || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s --as %s: exit %d, stderr %q; want exit 1 and %q", filepath.Base(tc.dir), tc.tool, r.code, r.stderr, tc.want)
		}
	}
}
