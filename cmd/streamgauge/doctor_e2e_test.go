package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// doctorJSON is the part of doctor's JSON output the tests read.
type doctorJSON struct {
	Mode     string  `json:"mode"`
	Planned  float64 `json:"planned"`
	Ceiling  float64 `json:"ceiling"`
	Within   bool    `json:"within"`
	Verdict  string  `json:"verdict"`
	Advice   string  `json:"advice"`
	Outcome  string  `json:"outcome"`
	CPUs     int     `json:"cpus"`
	SimTTFT  float64 `json:"sim_ttft_ms"`
	SimITL   float64 `json:"sim_itl_ms"`
	Limits   map[string]float64
	Probes   []map[string]any `json:"probes"`
	AtLeast  bool             `json:"ceiling_is_lower_bound"`
	Workload string           `json:"workload"`
}

func parseDoctor(t *testing.T, out string) doctorJSON {
	t.Helper()
	var d doctorJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("doctor --json output: %v\n%s", err, out)
	}
	return d
}

// A tiny doctor run: two short probes at low rates, limits no machine
// misses, so the planned rate fits (exit 0); then limits no machine meets
// (exit 3). Only the structure is checked, never the timing.
func TestDoctorE2E(t *testing.T) {
	tiny := []string{"doctor", "--rate", "5", "--input-tokens", "16", "--output-tokens", "8",
		"--sim-ttft", "20ms", "--sim-itl", "5ms", "--probe-duration", "1s", "--budget", "2500ms"}
	out := t.TempDir()
	r := runBinary(t, nil, append(tiny, "--max-ttft-error", "10s", "--max-lag", "10s", "--json", "--out", out)...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	d := parseDoctor(t, r.stdout)
	if d.Mode != "rate" || d.Planned != 5 || d.SimTTFT != 20 || d.SimITL != 5 || d.CPUs < 1 || d.Limits["max_ttft_error_p50_ms"] != 10000 {
		t.Errorf("settings: %+v", d)
	}
	if len(d.Probes) < 1 || len(d.Probes) > 2 || d.Probes[0]["level"] != 5.0 {
		t.Fatalf("probes: %v", d.Probes)
	}
	for _, k := range []string{"ttft_err_p50_ms", "ttft_err_p99_ms", "gap_abs_err_p50_ms", "gap_abs_err_p99_ms", "lag_p50_ms", "lag_p99_ms",
		"client_cpu_s", "client_cpu_us_per_request", "client_cpu_us_per_frame", "server_cpu_s", "wall_s", "truth", "pass"} {
		if _, ok := d.Probes[0][k]; !ok {
			t.Errorf("probe has no %q: %v", k, d.Probes[0])
		}
	}
	if d.Probes[0]["pass"] != true || !d.Within || d.Ceiling < 5 || !d.AtLeast {
		t.Errorf("generous limits: ceiling %g (within %v, at least %v), probes %v", d.Ceiling, d.Within, d.AtLeast, d.Probes)
	}
	if !strings.HasPrefix(d.Verdict, "this machine can drive at least ") || !strings.Contains(d.Verdict, "req/s of this workload with ttft error under 10000.00 ms (lag p99 ") {
		t.Errorf("verdict %q", d.Verdict)
	}
	if !strings.Contains(d.Advice, "planned 5 req/s is within it") || !strings.Contains(d.Outcome, "budget") {
		t.Errorf("advice %q, outcome %q", d.Advice, d.Outcome)
	}
	if !strings.Contains(r.stderr, "probe 1: 5 req/s: ttft error p50 ") {
		t.Errorf("no probe line on stderr:\n%s", r.stderr)
	}
	// --out keeps doctor.json, the probes' run directories and truth logs.
	for _, f := range []string{"doctor.json", "probe-01-5/summary.json", "probe-01-5.truth.jsonl"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("--out: %v", err)
		}
	}

	// Limits no client meets: no level passes, the planned rate is above
	// the ceiling, exit 3; the table names the failure.
	r = runBinary(t, nil, append(tiny, "--max-ttft-error", "1ns")...)
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"probe   rate   sent  ttft err p50/p99",
		"probe 1 (5 req/s) failed: ttft error p50 ",
		"this machine cannot drive even 5 req/s of this workload with ttft error under 0.00 ms",
		"the client is the bottleneck at every level probed",
		"search: no level passed, down to 5",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table: no %q in\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "planned 5 req/s is above this machine's ceiling for this workload (no probe passed)") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "--rate", "5", "--stages", "5s:rate=5"}, "stages"},
		{[]string{"doctor", "--rate", "5", "--json", "--format", "table"}, "--json contradicts --format table"},
		{[]string{"doctor", "--rate", "5", "--format", "xml"}, `--format "xml": want one of table, json`},
		{[]string{"doctor", "--rate", "5", "--budget", "1s", "--probe-duration", "5s"}, "budget: 1s is shorter than one probe"},
		{[]string{"doctor", "--rate", "5", "--arrival", "ramp", "--ramp-to", "10"}, "arrival: ramp changes the rate"},
		{[]string{"doctor", "--rate", "5", "--max-lag", "0s"}, "--max-lag 0s: must be above 0"},
	} {
		r := runBinary(t, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// The verdict follows the workload: at the same rate, 3000-token streams
// with frames 0.2 ms apart (300,000 frames/s offered at 100 req/s, several
// times what two cores read on time) are far more client work than
// 8-token ones (800 frames/s), so their ceiling is lower. Only the
// direction is checked: the short workload passes its one probe (the
// limits are generous, --max-level stops the climb there), the long one
// must end below it.
func TestDoctorCeilingFollowsWorkload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two doctor searches (~10 s)")
	}
	common := []string{"doctor", "--rate", "100", "--max-level", "100", "--input-tokens", "16", "--sim-ttft", "20ms", "--sim-itl", "200us",
		"--probe-duration", "1s", "--budget", "6s", "--max-ttft-error", "5ms", "--max-lag", "50ms", "--json"}
	short := runBinary(t, nil, append(common, "--output-tokens", "8")...)
	long := runBinary(t, nil, append(common, "--output-tokens", "3000")...)
	ds, dl := parseDoctor(t, short.stdout), parseDoctor(t, long.stdout)
	t.Logf("8 tokens: %s (exit %d)\n3000 tokens: %s (exit %d)", ds.Verdict, short.code, dl.Verdict, long.code)
	if !(dl.Ceiling < ds.Ceiling) {
		t.Errorf("ceiling with 3000-token streams %g, with 8-token ones %g: want it lower", dl.Ceiling, ds.Ceiling)
	}
	for _, r := range []struct {
		d    doctorJSON
		code int
	}{{ds, short.code}, {dl, long.code}} {
		if r.d.Within && r.code != 0 || !r.d.Within && r.code != 3 {
			t.Errorf("within %v, exit %d", r.d.Within, r.code)
		}
	}
}

// Bad settings are refused before anything is made: exit 2, one line
// naming the flag, and no --out directory left behind. A --target that
// doctor does not contact is named without its credentials.
func TestDoctorRefusesBeforeLoad(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--budget", "-1s"}, "--budget -1s: must be above 0"},
		{[]string{"--probe-duration", "0s"}, "--probe-duration 0s: must be above 0"},
		{[]string{"--max-ttft-error", "0s"}, "--max-ttft-error 0s: must be above 0"},
		{[]string{"--precision", "1.5"}, "--precision 1.5: want a fraction in (0, 1)"},
		{[]string{"--precision", "0"}, "--precision 0: want a fraction in (0, 1)"},
		{[]string{"--max-level", "-3"}, "--max-level -3: want the highest level to probe"},
		{[]string{"--budget", "1s", "--probe-duration", "5s"}, "budget: 1s is shorter than one probe"},
		{[]string{"--stages", "5s:rate=5"}, "stages"},
		{[]string{"--max-level", "2"}, "max-level: 2 req/s is below the first level doctor probes, the planned 5 req/s (--rate); raise --max-level or lower --rate"},
		{[]string{"--out", "/dev/null/doctor"}, "--out /dev/null/doctor: "},
		{[]string{"--target", "http://bench:tgt-SECRET-pw@127.0.0.1:9/v1?api_key=q-SECRET-7", "--max-lag", "0s"}, "--max-lag 0s"},
	} {
		out := filepath.Join(t.TempDir(), "doctor-out")
		args := append([]string{"doctor", "--rate", "5", "--out", out}, tc.args...)
		r := runCLI(t, nil, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stderr+r.stdout, "SECRET") {
			t.Errorf("%v: a credential in the output:\n%s", tc.args, r.stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: refused, yet --out %s was made", tc.args, out)
		}
	}
}

// An --out that holds an earlier doctor's probes is refused before any
// probe, not found out probe by probe.
func TestDoctorOutHoldsProbes(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "probe-01-5"), 0o755)
	r := runCLI(t, nil, "doctor", "--rate", "5", "--out", out)
	if r.code != exitUsage || !strings.Contains(r.stderr, "already holds doctor probes (probe-01-5)") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
