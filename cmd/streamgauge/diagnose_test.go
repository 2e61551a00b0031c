package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer answers every request with h and counts them.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64, func() []string) {
	t.Helper()
	var n atomic.Int64
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), paths...) }
}

// TestSettingsRefused (issue 15, item 6): settings that would be ignored
// are refused with one line and exit 2, before anything is sent.
func TestSettingsRefused(t *testing.T) {
	srv, sent, _ := countingServer(t, func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) })
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"run --sim-ttft with --target", nil, []string{"run", "--target", srv.URL, "--sim-ttft", "5ms", "--rate", "5", "--requests", "3"},
			"--sim-ttft: settings of the built-in simulator, which does not start with --target"},
		{"run, several --sim-* flags", nil, []string{"run", "--target", srv.URL, "--sim-scheduler", "fcfs", "--sim-fail-rate", "0.1", "--rate", "5", "--requests", "3"},
			"--sim-fail-rate, --sim-scheduler: settings of the built-in simulator"},
		{"run, STREAMGAUGE_SIM_ITL with --target", map[string]string{"STREAMGAUGE_SIM_ITL": "5ms"}, []string{"run", "--target", srv.URL, "--rate", "5", "--requests", "3"},
			"STREAMGAUGE_SIM_ITL: settings of the built-in simulator"},
		{"sweep --sim-preset with --target", nil, []string{"sweep", "--target", srv.URL, "--rates", "5", "--sim-preset", "a100-llama8b"},
			"--sim-preset: settings of the built-in simulator"},
		{"sweep --requests", nil, []string{"sweep", "--target", srv.URL, "--rates", "5", "--requests", "100"},
			"--requests: sweep stages are timed"},
		{"sweep STREAMGAUGE_REQUESTS", map[string]string{"STREAMGAUGE_REQUESTS": "100"}, []string{"sweep", "--target", srv.URL, "--rates", "5"},
			"--requests: sweep stages are timed"},
		{"sweep --rates below one request a stage", nil, []string{"sweep", "--target", srv.URL, "--rates", "0.01,1", "--stage-duration", "10s"},
			"levels: a 10s stage at 0.01 req/s holds less than one request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.vars, append(tc.args, "--out", filepath.Join(t.TempDir(), "out"))...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tc.want)
			}
			if lines := strings.Count(strings.TrimSpace(r.stderr), "\n") + 1; lines != 1 {
				t.Errorf("stderr has %d lines, want 1:\n%s", lines, r.stderr)
			}
			if sent.Load() != 0 {
				t.Errorf("%d requests sent for refused settings", sent.Load())
			}
		})
	}
}

// TestFailuresExplained (issue 15, item 4): the terminal says why requests
// failed (the most common messages, counted, and the URL requested), and a
// --target ending in /v1 is not doubled.
func TestFailuresExplained(t *testing.T) {
	notFound := func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }
	html := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>welcome</html>"))
	}
	unauthorized := func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":{"message":"Incorrect API key provided: sk-abc123"}}`, http.StatusUnauthorized)
	}
	tests := []struct {
		name     string
		h        http.HandlerFunc
		suffix   string // appended to the server's URL as --target
		extra    []string
		stdout   []string
		stderr   []string
		wantPath string
	}{
		{"404 at the base URL", notFound, "", nil,
			[]string{"failed because   3 × http_4xx: HTTP 404: 404 page not found", "hint: the server has no such path or model", "requests went to POST http://127.0.0.1"},
			[]string{"every request failed (3 × http_4xx: HTTP 404: 404 page not found)"}, "/v1/chat/completions"},
		{"base URL with /v1 is not doubled", notFound, "/v1", nil,
			[]string{"/v1/chat/completions\n"},
			[]string{"ends with /v1, where the openai-chat API's path /v1/chat/completions begins"}, "/v1/chat/completions"},
		{"--endpoint is taken as given", notFound, "/v1", []string{"--endpoint", "/v1/chat/completions"},
			[]string{"hint: the URL repeats /v1", "/v1/v1/chat/completions"}, nil, "/v1/v1/chat/completions"},
		{"a page, not a stream", html, "", nil,
			[]string{`3 × protocol: endpoint did not stream (Content-Type "text/html", want text/event-stream): check --api (openai-chat) and --endpoint`},
			nil, "/v1/chat/completions"},
		{"a refused key", unauthorized, "", nil,
			[]string{"3 × http_4xx: HTTP 401:", "hint: the server refused the credentials"}, nil, "/v1/chat/completions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, sent, paths := countingServer(t, tc.h)
			args := append([]string{"run", "--target", srv.URL + tc.suffix, "--rate", "50", "--requests", "3", "--output-tokens", "4",
				"--input-tokens", "8", "--out", filepath.Join(t.TempDir(), "run")}, tc.extra...)
			r := runCLI(t, nil, args...)
			if r.code != exitRun {
				t.Errorf("exit %d, want %d (every request failed)", r.code, exitRun)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if sent.Load() != 3 {
				t.Errorf("%d requests reached the server, want 3", sent.Load())
			}
			for _, p := range paths() {
				if p != tc.wantPath {
					t.Errorf("request to %s, want %s", p, tc.wantPath)
				}
			}
		})
	}
}

// TestBannerDescribesLoad (issue 15, item 5): the start banner says what
// runs, not "0 closed-loop users".
func TestBannerDescribesLoad(t *testing.T) {
	srv, _, _ := countingServer(t, func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) })
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"rate stages", []string{"--stages", "300ms:rate=10", "--stages", "300ms:rate=20"}, "2 rate stages (300ms at 10 req/s, 300ms at 20 req/s) over 600ms"},
		{"ramp", []string{"--rate", "5", "--arrival", "ramp", "--ramp-to", "20", "--duration", "500ms"}, "a ramp from 5 to 20 req/s over 500ms"},
		{"shard", []string{"--rate", "40", "--shard", "1/4", "--duration", "500ms"}, "shard 1/4: this process sends every 4th arrival, 10 of 40 req/s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"run", "--target", srv.URL, "--output-tokens", "4", "--input-tokens", "8", "--out", filepath.Join(t.TempDir(), "run")}, tc.args...)
			r := runCLI(t, nil, args...)
			if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "closed-loop") {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if !strings.Contains(r.stdout, "load             ") || !strings.Contains(r.stdout, tc.want) {
				t.Errorf("table's load row lacks %q:\n%s", tc.want, r.stdout)
			}
		})
	}
}

// TestSaturationUnderCap (issue 15, item 6): when sends wait for a
// --max-concurrency slot, the warning names the cap, not the generator.
func TestSaturationUnderCap(t *testing.T) {
	release := make(chan struct{})
	srv, _, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		// Hold the only slot until the next arrival is due and waiting.
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(100 * time.Millisecond):
		}
		http.NotFound(w, nil)
	})
	defer close(release)
	r := runCLI(t, nil, "run", "--target", srv.URL, "--rate", "50", "--arrival", "constant", "--max-concurrency", "1", "--requests", "4",
		"--output-tokens", "4", "--input-tokens", "8", "--out", filepath.Join(t.TempDir(), "run"))
	for _, want := range []string{"waited for one of the --max-concurrency 1 slots", "not the generator", "raise --max-concurrency"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "split the load into shards") {
		t.Errorf("the warning blames the generator:\n%s", r.stderr)
	}
}

// TestProfileSimKeysWithTarget: a profile file's sim-* keys with a target
// are not an error (one profile may serve the simulator and the server),
// but the run says they are ignored.
func TestProfileSimKeysWithTarget(t *testing.T) {
	srv, sent, _ := countingServer(t, func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) })
	prof := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(prof, []byte("rate: 50\nrequests: 2\nsim-ttft: 5ms\nsim-scheduler: fixed\ninput-tokens: 8\noutput-tokens: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "run", prof, "--target", srv.URL, "--out", filepath.Join(t.TempDir(), "run"))
	if want := "the profile's sim-scheduler, sim-ttft apply only to the built-in simulator: ignored with --target"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if sent.Load() != 2 {
		t.Errorf("%d requests sent, want 2", sent.Load())
	}
}
