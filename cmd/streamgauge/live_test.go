package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// liveRunArgs is a short run against the built-in simulator.
func liveRunArgs(out string, extra ...string) []string {
	return append([]string{"run", "--rate", "20", "--duration", "2s", "--output-tokens", "16",
		"--sim-ttft", "20ms", "--sim-itl", "5ms", "--out", out}, extra...)
}

// vtScreen replays raw terminal output the way a terminal shows it, for the
// few controls streamgauge writes: CR, LF, cursor up (ESC[nA), erase to the
// end of the screen (ESC[J) and erase in line (ESC[K, ESC[2K). Any other
// control or escape is garbage and fails the test.
func vtScreen(t *testing.T, raw string) []string {
	t.Helper()
	var lines [][]rune
	row, col := 0, 0
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\r':
			col = 0
		case r == '\n':
			row, col = row+1, 0
		case r == 0x1b:
			m := regexp.MustCompile(`^\x1b\[(\d*)([AJK])`).FindStringSubmatch(string(rs[i:min(i+12, len(rs))]))
			if m == nil {
				t.Fatalf("unexpected escape at rune %d: %q", i, string(rs[i:min(i+12, len(rs))]))
			}
			n := 1
			if m[1] != "" {
				n, _ = strconv.Atoi(m[1])
			}
			switch m[2] {
			case "A":
				row = max(row-n, 0)
			case "J", "K":
				if m[2] == "K" && n == 2 {
					col = 0
				}
				if row < len(lines) {
					lines[row] = lines[row][:min(col, len(lines[row]))]
					if m[2] == "J" {
						lines = lines[:row+1]
					}
				}
			}
			i += len([]rune(m[0])) - 1
		case r < 0x20 || r == 0x7f:
			t.Fatalf("unexpected control %q at rune %d", r, i)
		default:
			for len(lines) <= row {
				lines = append(lines, nil)
			}
			for len(lines[row]) < col {
				lines[row] = append(lines[row], ' ')
			}
			if col < len(lines[row]) {
				lines[row][col] = r
			} else {
				lines[row] = append(lines[row], r)
			}
			col++
		}
	}
	var out []string
	for _, l := range lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// TestLiveViewOnTerminal runs the binary under a pseudo-terminal (stdout
// and stderr both on it, as in a shell) and replays what the terminal
// shows: the status block was drawn and redrawn in place, and at the end
// the screen holds the notices and the results table intact, with no
// status left and nothing interleaved.
func TestLiveViewOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of seconds: make check runs it")
	}
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(binPath, liveRunArgs(out, "--status-interval", "50ms")...)
	cmd.Env = append(withoutEnv(os.Environ(), "STREAMGAUGE_QUIET"), "TERM=xterm")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	_, err = io.Copy(&raw, ptmx) // ends with EIO once the process is gone
	if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	ptmx.Close()
	if werr != nil {
		t.Fatalf("run: %v\n%q", werr, raw.String())
	}

	if n := strings.Count(raw.String(), "streamgauge  elapsed"); n < 2 {
		t.Errorf("the status block was drawn %d times, want updates:\n%q", n, raw.String())
	}
	if !strings.Contains(raw.String(), "\x1b[2A") {
		t.Errorf("the status block was never redrawn in place:\n%q", raw.String())
	}
	screen := vtScreen(t, raw.String())

	// The table the run printed, rebuilt from its summary.json.
	var sum analysis.Summary
	if err := results.ReadJSON(out, results.SummaryFile, &sum); err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table, &sum); err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n")
	want = append(want, "run directory    "+out)
	start := -1
	for i, l := range screen {
		if l == want[0] {
			start = i
			break
		}
	}
	if start < 0 || len(screen) != start+len(want) {
		t.Fatalf("the screen does not end with the results table:\n%s\n--- want the table:\n%s", strings.Join(screen, "\n"), strings.Join(want, "\n"))
	}
	for i, w := range want {
		if screen[start+i] != w {
			t.Errorf("table line %d on screen:\n %q\nwant\n %q", i, screen[start+i], w)
		}
	}
	// Above the table: only whole notice lines, and no status left.
	for _, l := range screen[:start] {
		if !strings.HasPrefix(l, "streamgauge: ") || strings.Contains(l, "elapsed") {
			t.Errorf("stray line above the table: %q", l)
		}
	}
	for _, notice := range []string{"started the built-in simulator", "writing " + out} {
		n := 0
		for _, l := range screen[:start] {
			if strings.Contains(l, notice) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("notice %q is on the screen %d times, want once:\n%s", notice, n, strings.Join(screen, "\n"))
		}
	}
}

// withoutEnv drops a variable from an environment list.
func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

var statusLine = regexp.MustCompile(`(?m)^streamgauge: elapsed \d+s/2s( \(\w+ \w+\)| \(draining\))?: sent \d+, in flight \d+, ok \d+, failed \d+; (so far|last 10s): ttft (-|p50 [\d.]+ ms, p99 [\d.]+ ms), [\d.,]+ output tok/s$`)

// TestLiveStatusLinesWhenPiped checks what a CI log gets: plain status
// lines (every 10 s; here shortened), no escapes, nothing on stdout but the
// results, and none of it with --quiet.
func TestLiveStatusLinesWhenPiped(t *testing.T) {
	if testing.Short() {
		t.Skip("load runs of seconds: make check runs it")
	}
	env := []string{"STREAMGAUGE_QUIET=false"} // whatever the environment says
	r := runBinary(t, env, liveRunArgs(filepath.Join(t.TempDir(), "run"), "--status-interval", "100ms")...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := len(statusLine.FindAllString(r.stderr, -1)); n < 1 {
		t.Errorf("no status line on stderr:\n%s", r.stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(l, "streamgauge: ") {
			t.Errorf("stray stderr line %q", l)
		}
		if strings.Contains(l, "elapsed") && !statusLine.MatchString(l) {
			t.Errorf("malformed status line %q", l)
		}
	}
	if strings.ContainsRune(r.stderr+r.stdout, 0x1b) {
		t.Errorf("escapes in piped output:\n%q", r.stderr)
	}
	if strings.Contains(r.stdout, "elapsed") || !strings.HasPrefix(r.stdout, "┌") {
		t.Errorf("stdout is not just the results:\n%s", r.stdout)
	}

	for _, quiet := range [][]string{{"--quiet"}, nil} {
		env := []string{"STREAMGAUGE_QUIET=1"}
		if quiet != nil {
			env = nil
		}
		r = runBinary(t, env, append([]string{"run", "--rate", "20", "--requests", "5", "--output-tokens", "16", "--sim-ttft", "20ms",
			"--out", filepath.Join(t.TempDir(), "run"), "--status-interval", "10ms"}, quiet...)...)
		if r.code != 0 || strings.Contains(r.stderr, "elapsed") {
			t.Errorf("quiet (%v %v): exit %d, stderr:\n%s", quiet, env, r.code, r.stderr)
		}
	}
	r = runBinary(t, []string{"STREAMGAUGE_QUIET=maybe"}, liveRunArgs(filepath.Join(t.TempDir(), "run"))...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "STREAMGAUGE_QUIET") {
		t.Errorf("STREAMGAUGE_QUIET=maybe: exit %d, %s", r.code, r.stderr)
	}
}

// TestLiveMetricsAddr scrapes --metrics-addr while a run lasts and parses
// the Prometheus text format.
func TestLiveMetricsAddr(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of seconds: make check runs it")
	}
	out := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(binPath, "run", "--rate", "20", "--duration", "3s", "--output-tokens", "16",
		"--sim-ttft", "20ms", "--sim-itl", "5ms", "--metrics-addr", "127.0.0.1:0", "--quiet", "--out", out)
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, stderr, "/metrics while the run lasts")
	url := regexp.MustCompile(`Prometheus metrics at (http://\S+/metrics)`).FindStringSubmatch(stderr.String())
	if url == nil {
		t.Fatalf("no metrics URL in:\n%s", stderr.String())
	}
	var fams map[string]*dto.MetricFamily
	value := func(name string) float64 {
		f := fams[name]
		if f == nil || len(f.GetMetric()) == 0 {
			return -1
		}
		m := f.GetMetric()[0]
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
		return -1
	}
	// Scrape until the run has finished some requests.
	for i := 0; ; i++ {
		resp, err := http.Get(url[1])
		if err != nil {
			t.Fatalf("scrape %d: %v (the run ended before requests finished?)\n%s", i, err, stderr.String())
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err = p.TextToMetricFamilies(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("parse the exposition: %v", err)
		}
		if value("streamgauge_requests_ok_total") >= 3 && value("streamgauge_ttft_seconds") >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for name, typ := range map[string]dto.MetricType{
		"streamgauge_requests_sent_total":   dto.MetricType_COUNTER,
		"streamgauge_requests_ok_total":     dto.MetricType_COUNTER,
		"streamgauge_requests_failed_total": dto.MetricType_COUNTER,
		"streamgauge_requests_in_flight":    dto.MetricType_GAUGE,
		"streamgauge_output_tokens_total":   dto.MetricType_COUNTER,
		"streamgauge_ttft_seconds":          dto.MetricType_HISTOGRAM,
		"streamgauge_itl_seconds":           dto.MetricType_HISTOGRAM,
		"streamgauge_e2e_seconds":           dto.MetricType_HISTOGRAM,
	} {
		if f := fams[name]; f == nil || f.GetType() != typ {
			t.Errorf("%s: %v, want a %s", name, f, typ)
		}
	}
	if sent, ok := value("streamgauge_requests_sent_total"), value("streamgauge_requests_ok_total"); sent < ok {
		t.Errorf("sent %g < ok %g", sent, ok)
	}
	if v := value("streamgauge_output_tokens_total"); v <= 0 {
		t.Errorf("output tokens %g, want > 0", v)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if _, err := http.Get(url[1]); err == nil {
		t.Errorf("metrics still served after the run")
	}
}

// TestLiveScrapeSimulatorMetrics is done-when 4's run: --scrape-metrics sim
// stores the simulator's queue, running and KV-cache series in
// server_metrics.jsonl, timed within the run.
func TestLiveScrapeSimulatorMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of seconds: make check runs it")
	}
	out := filepath.Join(t.TempDir(), "run")
	r := runBinary(t, nil, "run", "--rate", "20", "--duration", "2s", "--output-tokens", "32", "--scrape-metrics", "sim", "--quiet", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var info results.RunInfo
	if err := results.ReadJSON(out, results.RunFile, &info); err != nil {
		t.Fatal(err)
	}
	// The scrape's origin is a few µs before the runner's start; allow 10 ms.
	runNS := info.End.Sub(info.Start).Nanoseconds() + 10e6
	f, err := os.Open(filepath.Join(out, analysis.ServerMetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s struct {
			TNS   *int64   `json:"t_ns"`
			Name  string   `json:"name"`
			Value *float64 `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil || s.TNS == nil || s.Value == nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if *s.TNS < 0 || *s.TNS > runNS {
			t.Errorf("%s at t_ns %d, outside the run [0, %d]", s.Name, *s.TNS, runNS)
		}
		seen[s.Name]++
	}
	for _, name := range []string{"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"} {
		if seen[name] == 0 {
			t.Errorf("no %s in %s: %v", name, analysis.ServerMetricsFile, seen)
		}
	}
	if strings.Contains(r.stderr, "scrape-metrics") {
		t.Errorf("the scrape reported a problem:\n%s", r.stderr)
	}

	// A server whose metrics cannot be read costs one notice, not the run.
	r = runBinary(t, nil, "run", "--rate", "20", "--requests", "10", "--output-tokens", "8", "--sim-ttft", "10ms", "--quiet",
		"--scrape-metrics", "http://"+closedPort(t)+"/metrics", "--out", filepath.Join(t.TempDir(), "run"))
	if n := strings.Count(r.stderr, "scrape-metrics"); r.code != 0 || n != 1 {
		t.Errorf("unreachable metrics: exit %d, %d notices, want 0 and 1:\n%s", r.code, n, r.stderr)
	}

	// Bad settings are usage errors naming the field.
	for _, c := range []struct{ args []string }{
		{[]string{"--scrape-metrics", "localhost:8000/metrics"}},
		{[]string{"--metrics-addr", "9464"}},
	} {
		r := runBinary(t, nil, append([]string{"run", "--rate", "5", "--requests", "1", "--out", filepath.Join(t.TempDir(), "x")}, c.args...)...)
		field := strings.TrimPrefix(c.args[0], "--")
		if r.code != exitUsage || !strings.Contains(r.stderr, field+": ") {
			t.Errorf("%v: exit %d, stderr %s; want exit 2 naming %s", c.args, r.code, r.stderr, field)
		}
	}
}
