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

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// examplePreset is the sample preset file users are pointed to.
var examplePreset = filepath.Join("..", "..", "examples", "presets", "h200-llama8b-hf-eager.yaml")

// TestPresetFileUsage checks every way --sim-preset-file and serve's
// --preset-file are refused before anything is sent or written: exit 2
// and one line naming the file, the field and where the setting came from.
func TestPresetFileUsage(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: mine\nper_tokn: 30us\nkv_tokens: 10\n"), 0o644)
	prof := filepath.Join(dir, "p.yaml")
	os.WriteFile(prof, []byte("rate: 5\nduration: 1s\nsim-preset-file: bad.yaml\n"), 0o644)
	out := filepath.Join(dir, "out")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"run: unknown field", nil, []string{"run", "--rate", "5", "--duration", "1s", "--sim-preset-file", bad, "--out", out},
			"sim-preset-file: preset file " + bad + ": line 2: unknown key per_tokn"},
		{"run: profile file resolves next to it", nil, []string{"run", prof, "--out", out},
			"profile " + prof + ": sim-preset-file: preset file " + bad + ": line 2"},
		{"run: missing file from the environment", map[string]string{"STREAMGAUGE_SIM_PRESET_FILE": "nope.yaml"},
			[]string{"run", "--rate", "5", "--duration", "1s", "--out", out},
			"sim-preset-file: preset file nope.yaml: no such file (set by STREAMGAUGE_SIM_PRESET_FILE)"},
		{"run: both", nil, []string{"run", "--rate", "5", "--duration", "1s", "--sim-preset", "h100-llama8b", "--sim-preset-file", examplePreset, "--out", out},
			"sim-preset-file: --sim-preset and --sim-preset-file both choose the simulator's cost model; give one"},
		{"run: with --target", nil, []string{"run", "--target", srv.URL, "--rate", "5", "--duration", "1s", "--sim-preset-file", examplePreset, "--out", out},
			"--sim-preset-file: settings of the built-in simulator"},
		{"sweep: unknown field", nil, []string{"sweep", "--rates", "2", "--stage-duration", "1s", "--sim-preset-file", bad, "--out", out},
			"sim-preset-file: preset file " + bad},
		{"serve: unknown field", nil, []string{"serve", "--addr", "127.0.0.1:0", "--preset-file", bad},
			"--preset-file: preset file " + bad + ": line 2: unknown key per_tokn"},
		{"serve: both", nil, []string{"serve", "--addr", "127.0.0.1:0", "--preset", "h100-llama8b", "--preset-file", examplePreset},
			"--preset and --preset-file both choose the cost model; give one"},
		{"serve: missing", nil, []string{"serve", "--addr", "127.0.0.1:0", "--preset-file", filepath.Join(dir, "nope.yaml")},
			"--preset-file: preset file " + filepath.Join(dir, "nope.yaml") + ": no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit %d and one line with %q", r.code, r.stderr, exitUsage, tc.want)
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

// TestPresetFileEndToEnd serves the sample preset file and runs against
// it, then runs the in-process simulator from a profile that names the
// file relative to itself, and reads the cost model back from run.json.
func TestPresetFileEndToEnd(t *testing.T) {
	want, err := sim.ReadPresetFile(examplePreset)
	if err != nil {
		t.Fatal(err)
	}
	url, stop := startServe(t, "--preset-file", examplePreset, "--scheduler", "chunked-prefill")
	dir := t.TempDir()
	r := runCLI(t, nil, "run", "--target", url, "--rate", "20", "--requests", "6", "--input-tokens", "32", "--output-tokens", "4", "--out", filepath.Join(dir, "served"))
	if r.code != 0 {
		t.Fatalf("run against serve: exit %d: %s", r.code, r.stderr)
	}
	if s := stop(); !strings.Contains(s.stderr, "scheduler chunked-prefill, cost model h200-llama8b-hf-eager (preset file), max-batch 256, kv-tokens 845638") {
		t.Errorf("serve stderr %q", s.stderr)
	}

	// A profile in another folder names the preset file relative to itself.
	profDir := filepath.Join(dir, "profiles")
	os.MkdirAll(profDir, 0o755)
	data, err := os.ReadFile(examplePreset)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(profDir, "mine.yaml"), data, 0o644)
	prof := filepath.Join(profDir, "p.yaml")
	os.WriteFile(prof, []byte("rate: 20\nrequests: 6\ninput-tokens: 32\noutput-tokens: 4\nsim-preset-file: mine.yaml\n"), 0o644)
	out := filepath.Join(dir, "sim")
	r = runCLI(t, nil, "run", prof, "--out", out)
	if r.code != 0 {
		t.Fatalf("run on the simulator: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "continuous scheduler, cost model h200-llama8b-hf-eager from a preset file") {
		t.Errorf("stderr does not say which cost model ran: %s", r.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var info results.RunInfo
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	s := info.Simulator
	if s == nil || s.CostModel == nil {
		t.Fatalf("run.json has no simulator cost model:\n%s", b)
	}
	c := s.CostModel
	if s.Scheduler != "continuous" || s.KVTokens != want.KVTokens || c.Name != want.Name || c.Source != filepath.Join(profDir, "mine.yaml") ||
		c.PerToken != want.PerToken.String() || c.LaunchFloor != want.LaunchFloor.String() || c.DecodeLaunchFloor != want.DecodeLaunchFloor.String() ||
		c.WeightRead != want.WeightRead.String() || c.PerContextTokenNS != want.PerContextToken || c.KVTokens != want.KVTokens {
		t.Errorf("run.json simulator %+v, cost model %+v; want %+v from %s", s, c, want, filepath.Join(profDir, "mine.yaml"))
	}
	// The HTML report says which simulator and cost model ran.
	page := filepath.Join(dir, "report.html")
	if r := runCLI(t, nil, "report", out, "--format", "html", "-o", page); r.code != 0 {
		t.Fatalf("report: exit %d: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(page); !strings.Contains(string(b), "continuous, max-batch 256, kv-tokens 845638; cost model h200-llama8b-hf-eager ("+filepath.Join(profDir, "mine.yaml")+"): overhead 0s, launch floor 19.8ms") {
		t.Errorf("the HTML report does not describe the simulator")
	}
	// Every step of the eager model takes at least its launch floor.
	for _, rec := range readRecords(t, out) {
		if rec.Error != nil || rec.TTFTMS == nil || *rec.TTFTMS < float64(want.LaunchFloor.Milliseconds()) {
			t.Errorf("record %s: ttft %v, error %v; want at least the launch floor %s", rec.ID, rec.TTFTMS, rec.Error, want.LaunchFloor)
		}
	}
}

// TestPresetFileHelp: serve --help and run --help name the preset file
// flags, and sweep --help the what-if.
func TestPresetFileHelp(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"serve", []string{"--preset-file string", "replaces --preset", "examples/presets/h200-llama8b-hf-eager.yaml"}},
		{"run", []string{"--sim-preset-file string", "replaces --sim-preset"}},
		{"sweep", []string{"--sim-preset-file string", "--what-if stringArray", "What-if:", "--what-if scheduler=continuous,chunked-prefill,priority"}},
	} {
		r := runCLI(t, nil, tc.cmd, "--help")
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s --help lacks %q", tc.cmd, w)
			}
		}
	}
}
