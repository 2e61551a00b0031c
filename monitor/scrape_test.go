package monitor_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/monitor"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

type line struct {
	TNS   *int64   `json:"t_ns"`
	Name  string   `json:"name"`
	Value *float64 `json:"value"`
}

func readLines(t *testing.T, path string) []line {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []line
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.TNS == nil || l.Value == nil || l.Name == "" {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// waitSamples polls until the scraper wrote n samples.
func waitSamples(t *testing.T, s *monitor.Scraper, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for s.Samples() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d samples after 30 s, want %d", s.Samples(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestScrapeSimulator(t *testing.T) {
	srv, err := sim.NewFromConfig(sim.DefaultConfig(), apis.Servers()...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	url, err := monitor.ScrapeURL("sim", hs.URL+"/prefix")
	if err != nil || url != hs.URL+"/metrics" {
		t.Fatalf("ScrapeURL(sim) = %q, %v; want %s/metrics", url, err, hs.URL)
	}
	path := filepath.Join(t.TempDir(), "server_metrics.jsonl")
	origin := time.Now()
	var logs []string
	var mu sync.Mutex
	s := monitor.StartScrape(context.Background(), monitor.ScrapeConfig{URL: url, Path: path, Origin: origin, Interval: 5 * time.Millisecond,
		Logf: func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }})
	waitSamples(t, s, 12)
	s.Stop()
	s.Stop()
	end := time.Since(origin)
	if len(logs) > 0 {
		t.Errorf("logged: %q", logs)
	}
	names := map[string]int{}
	for _, l := range readLines(t, path) {
		names[l.Name]++
		if *l.TNS < 0 || *l.TNS > int64(end) {
			t.Errorf("%s at t_ns %d, outside the scrape [0, %d]", l.Name, *l.TNS, end)
		}
	}
	for _, n := range []string{"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"} {
		if names[n] < 3 {
			t.Errorf("%d samples of %s, want one per scrape (>= 3)", names[n], n)
		}
	}
	if len(names) != 4 {
		t.Errorf("series %v, want only queue, running and KV-cache usage", names)
	}
}

// TestKeepServerNames checks the SGLang and TGI names and series with
// several label sets.
func TestKeepServerNames(t *testing.T) {
	const text = `# TYPE sglang:num_queue_reqs gauge
sglang:num_queue_reqs{model_name="m",engine_type="unified"} 4
# TYPE sglang:num_running_reqs gauge
sglang:num_running_reqs{model_name="m"} 7
# TYPE sglang:token_usage gauge
sglang:token_usage{model_name="m"} 0.42
# TYPE tgi_queue_size gauge
tgi_queue_size 2
# TYPE tgi_batch_current_size gauge
tgi_batch_current_size 5
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 1
vllm:num_requests_running{engine="1",model_name="m"} 3
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} NaN
# TYPE unrelated_total counter
unrelated_total 9
`
	fams, err := monitor.ParseText(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	got := monitor.Keep(fams)
	want := []monitor.Series{
		{"sglang:num_queue_reqs", 4}, {"sglang:num_running_reqs", 7}, {"sglang:token_usage", 0.42},
		{"tgi_batch_current_size", 5}, {"tgi_queue_size", 2},
		{`vllm:num_requests_running{engine="0",model_name="m"}`, 1}, {`vllm:num_requests_running{engine="1",model_name="m"}`, 3},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Keep:\n got %v\nwant %v", got, want)
	}
}

func TestScrapeURL(t *testing.T) {
	for _, c := range []struct{ setting, target, want, err string }{
		{"", "http://h:1", "", ""},
		{"sim", "http://127.0.0.1:4000", "http://127.0.0.1:4000/metrics", ""},
		{"sim", "https://u:p@h:8443/v1", "https://u:p@h:8443/metrics", ""},
		{"http://h:9/metrics", "http://x:1", "http://h:9/metrics", ""},
		{"h:9/metrics", "http://x:1", "", "is not a URL"},
		{"ftp://h/metrics", "http://x:1", "", "is not a URL"},
	} {
		got, err := monitor.ScrapeURL(c.setting, c.target)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ScrapeURL(%q, %q) = %q, %v; want %q, %q", c.setting, c.target, got, err, c.want, c.err)
		}
	}
}

// TestScrapeErrorsLoggedOnce checks that a failing endpoint is reported
// once and the scrape goes on.
func TestScrapeErrorsLoggedOnce(t *testing.T) {
	var hits atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if hits.Add(1) > 3 {
			fmt.Fprintln(w, "# TYPE tgi_queue_size gauge\ntgi_queue_size 1")
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	var mu sync.Mutex
	var logs []string
	path := filepath.Join(t.TempDir(), "server_metrics.jsonl")
	s := monitor.StartScrape(context.Background(), monitor.ScrapeConfig{URL: hs.URL, Path: path, Origin: time.Now(), Interval: time.Millisecond,
		Logf: func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }})
	waitSamples(t, s, 2)
	s.Stop()
	if len(logs) != 1 || !strings.Contains(logs[0], "503") || !strings.Contains(logs[0], "the run goes on") {
		t.Errorf("logs = %q, want one line about the 503", logs)
	}
	if n := len(readLines(t, path)); n < 2 {
		t.Errorf("%d lines after the server recovered, want >= 2", n)
	}

	// An unwritable file is logged and nothing is scraped.
	logs = nil
	s = monitor.StartScrape(context.Background(), monitor.ScrapeConfig{URL: hs.URL, Path: filepath.Join(t.TempDir(), "no", "such", "dir", "f"),
		Logf: func(f string, a ...any) { mu.Lock(); logs = append(logs, fmt.Sprintf(f, a...)); mu.Unlock() }})
	s.Stop()
	if len(logs) != 1 {
		t.Errorf("logs = %q, want one line about the file", logs)
	}
	var nilScraper *monitor.Scraper
	nilScraper.Stop()
}

// TestScrapeRedactsLabels: a server that quotes a credential in a label
// value of a kept metric does not get it into server_metrics.jsonl.
func TestScrapeRedactsLabels(t *testing.T) {
	const key = "sk-scrape-SECRET-0123456789"
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "vllm:num_requests_running{model_name=%q} 1\nvllm:num_requests_running{model_name=\"m\"} 2\n", "seen "+key)
	}))
	defer hs.Close()
	path := filepath.Join(t.TempDir(), "server_metrics.jsonl")
	red := secret.New(key)
	s := monitor.StartScrape(context.Background(), monitor.ScrapeConfig{URL: hs.URL, Path: path, Origin: time.Now(), Interval: 5 * time.Millisecond, Redact: red.String})
	waitSamples(t, s, 2)
	s.Stop()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SECRET") || !strings.Contains(string(b), `model_name=\"m\"`) {
		t.Errorf("server_metrics.jsonl:\n%s", b)
	}
}
