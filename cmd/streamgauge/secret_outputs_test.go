package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewOutputsKeepNoSecret: with a header secret, an API key and a
// credential in a custom header, nothing doctor, calibrate, report --as
// and a what-if write or print holds them: stdout, stderr, and every file
// under their output directories.
func TestNewOutputsKeepNoSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("runs doctor, a what-if and a run (about 10 s)")
	}
	root := t.TempDir()
	vars := map[string]string{"SG_KEY": "key-SECRET-3"}
	secrets := []string{"--header", "Authorization: Bearer hdr-SECRET-1", "--header", "X-Custom: custom-SECRET-2", "--api-key-env", "SG_KEY"}
	var said []string
	check := func(name string, r result, want int) {
		t.Helper()
		if r.code != want {
			t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, r.code, want, r.stdout, r.stderr)
		}
		said = append(said, name+":\n"+r.stdout+r.stderr)
	}

	run := filepath.Join(root, "run")
	check("run", runCLI(t, vars, append([]string{"run", "--rate", "20", "--requests", "12", "--input-tokens", "64", "--output-tokens", "8", "--out", run}, secrets...)...), exitOK)
	check("calibrate", runCLI(t, vars, "calibrate", run, "--kv-tokens", "100000", "--bootstrap", "0", "-o", filepath.Join(root, "preset.yaml")), exitOK)
	check("report --as", runCLI(t, vars, "report", run, "--as", "vllm", "--format", "json"), exitOK)
	check("what-if", runCLI(t, vars, append([]string{"sweep", "--what-if", "scheduler=continuous,fcfs", "--rates", "4", "--stage-duration", "500ms",
		"--cooldown", "0", "--input-tokens", "16", "--output-tokens", "2", "--out", filepath.Join(root, "whatif")}, secrets...)...), exitOK)
	check("doctor", runBinary(t, []string{"SG_KEY=key-SECRET-3"}, append([]string{"doctor", "--rate", "5", "--input-tokens", "16", "--output-tokens", "4",
		"--sim-ttft", "5ms", "--sim-itl", "2ms", "--probe-duration", "1s", "--budget", "1s", "--max-ttft-error", "10s", "--max-lag", "10s",
		"--json", "--out", filepath.Join(root, "doctor")}, secrets...)...), exitOK)

	for _, s := range said {
		if strings.Contains(s, "SECRET") {
			t.Errorf("a secret in the output of %s", s)
		}
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "SECRET") {
			t.Errorf("%s holds a secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
