package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// streamedRun writes f's records as a run directory, with the first
// token's time each record of a real run has.
func streamedRun(t *testing.T, f fakeRun, dir string) string {
	t.Helper()
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.records() {
		if r.TTFTMS != nil {
			r.FirstTokenNS = r.SentNS + int64(*r.TTFTMS*1e6)
		}
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCalibrateCommand(t *testing.T) {
	root := t.TempDir()
	run := streamedRun(t, fakeRun{n: 60, ttftMS: 100, itlMS: 10, seed: 1}, filepath.Join(root, "run"))
	noRequests := fakeRun{summary: true}.write(t, filepath.Join(root, "no-requests"))
	sweep := filepath.Join(root, "sweep")
	streamedRun(t, fakeRun{n: 30, ttftMS: 100, itlMS: 10, seed: 2}, filepath.Join(sweep, "stage-000-rate-2"))
	streamedRun(t, fakeRun{n: 30, ttftMS: 100, itlMS: 12, seed: 3}, filepath.Join(sweep, "stage-001-rate-4"))
	os.WriteFile(filepath.Join(sweep, "sweep.json"), []byte("{}"), 0o644)
	steps := filepath.Join(root, "h200.json")
	data, err := os.ReadFile("../../analysis/testdata/calibrate/h200-llama8b-shape-hf-eager.json")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(steps, data, 0o644)
	bad := filepath.Join(root, "bad.json")
	os.WriteFile(bad, []byte(`{"decode": [{"batch": 0, "context": 1, "ms": 2}]}`), 0o644)
	warmOnly := streamedRun(t, fakeRun{n: 20, ttftMS: 100, itlMS: 10, seed: 4, warmup: true}, filepath.Join(root, "warm"))
	failedOnly := streamedRun(t, fakeRun{n: 20, ttftMS: 100, itlMS: 10, seed: 5, failRate: 1}, filepath.Join(root, "failed"))
	notRun := filepath.Join(root, "empty")
	os.Mkdir(notRun, 0o755)
	out := filepath.Join(root, "my.yaml")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"step timing", []string{"calibrate", steps, "--kv-tokens", "900000", "-o", out}, exitOK,
			[]string{"decode_launch_floor", "identifiable", "residuals", "|r| p99", "wrote " + out}, nil},
		{"run and sweep", []string{"calibrate", run, sweep, "--kv-tokens", "100000", "--name", "mine", "-o", filepath.Join(root, "mine.yaml")}, exitOK,
			[]string{"stage-000-rate-2 (run)", "stage-001-rate-4 (run)", "client's reconstruction", "not identifiable"}, nil},
		{"no args", []string{"calibrate", "-o", out}, exitUsage, nil, []string{"give at least one RUN_DIR"}},
		{"no -o", []string{"calibrate", steps}, exitUsage, nil, []string{"-o: give the preset file"}},
		{"missing path", []string{"calibrate", filepath.Join(root, "nope"), "-o", out}, exitUsage, nil, []string{"nope: no such file or directory"}},
		{"not a run", []string{"calibrate", notRun, "-o", out}, exitUsage, nil, []string{"neither a run directory"}},
		{"bad scheduler", []string{"calibrate", run, "--scheduler", "magic", "-o", out}, exitUsage, nil, []string{`--scheduler "magic": want one of`}},
		{"fixed scheduler", []string{"calibrate", run, "--scheduler", "fixed", "-o", out}, exitUsage, nil, []string{"fixed engine has no cost model"}},
		{"no KV capacity", []string{"calibrate", run, "-o", out}, exitUsage, nil, []string{"--kv-tokens: the inputs do not show the KV-cache capacity"}},
		{"bad step timing", []string{"calibrate", bad, "--kv-tokens", "1", "-o", out}, exitRun, nil, []string{"step-timing file " + bad + ": decode[0]"}},
		{"empty run", []string{"calibrate", noRequests, "--kv-tokens", "1", "-o", out}, exitRun, nil, []string{"no request streamed a token"}},
		{"only warm-up", []string{"calibrate", warmOnly, "--kv-tokens", "1", "-o", out}, exitRun, nil, []string{"every request that streamed a token is warm-up (20)"}},
		{"only failed", []string{"calibrate", failedOnly, "--kv-tokens", "1", "-o", out}, exitRun, nil, []string{"no request streamed a token"}},
		{"negative bootstrap", []string{"calibrate", run, "--bootstrap", "-1", "-o", out}, exitUsage, nil, []string{"--bootstrap -1: must not be negative"}},
		{"no gaps", []string{"calibrate", run, "--max-gaps", "0", "-o", out}, exitUsage, nil, []string{"--max-gaps 0: want the frame gaps to keep"}},
		{"-o in a missing directory", []string{"calibrate", run, "--kv-tokens", "1", "-o", filepath.Join(root, "no", "such", "dir", "x.yaml")}, exitUsage, nil, []string{"-o " + filepath.Join(root, "no", "such", "dir", "x.yaml") + ": "}},
		{"empty name", []string{"calibrate", run, "--name", " ", "-o", out}, exitUsage, nil, []string{"--name: give the preset a name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if tc.code != exitOK && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("an error is one line:\n%s", r.stderr)
			}
		})
	}
	// The written preset reads back, fit and all.
	m, err := sim.ReadPresetFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.KVTokens != 900000 || m.DecodeLaunchFloor == 0 || m.PerToken == 0 {
		t.Errorf("preset read back: %+v", m)
	}
	// -o - writes the preset on stdout and the table on stderr.
	r := runCLI(t, nil, "calibrate", steps, "--kv-tokens", "900000", "-o", "-", "--bootstrap", "0")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := sim.ParsePreset("stdout", []byte(r.stdout)); err != nil {
		t.Errorf("stdout is not a preset: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(r.stderr, "residuals") {
		t.Errorf("the table did not go to stderr:\n%s", r.stderr)
	}
}
