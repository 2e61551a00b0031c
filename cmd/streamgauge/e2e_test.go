package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// binPath is the streamgauge binary built once for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "streamgauge-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "streamgauge")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build streamgauge:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// runBinary runs the built binary with args and extra environment.
func runBinary(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

func readRecords(t *testing.T, dir string) []*results.Record {
	t.Helper()
	var recs []*results.Record
	if err := results.ReadRecords(dir, func(r *results.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return recs
}

func jsonKeys(t *testing.T, path string) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func requireKeys(t *testing.T, what string, m map[string]json.RawMessage, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: missing key %q", what, k)
		}
	}
}

// TestRunAgainstSimulator runs the binary with no --target (the built-in
// simulator) for each OpenAI API and checks the run directory's contract.
func TestRunAgainstSimulator(t *testing.T) {
	for _, api := range []string{"openai-chat", "openai-completions"} {
		t.Run(api, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			r := runBinary(t, nil, "run", "--api", api, "--rate", "40", "--requests", "30",
				"--input-tokens", "uniform:50,150", "--output-tokens", "12", "--sim-ttft", "20ms", "--sim-itl", "4ms", "--out", out)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			for _, want := range []string{"ttft", "itl", "tpot", "e2e", "throughput", "lag p99", "requested 40.00 req/s"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("results table lacks %q:\n%s", want, r.stdout)
				}
			}
			if !strings.Contains(r.stderr, "built-in simulator") {
				t.Errorf("no notice that the simulator started: %s", r.stderr)
			}
			run := jsonKeys(t, filepath.Join(out, "run.json"))
			requireKeys(t, "run.json", run, "tool", "version", "start", "end", "profile", "target", "seed", "shard")
			sum := jsonKeys(t, filepath.Join(out, "summary.json"))
			requireKeys(t, "summary.json", sum, "requests", "duration_s", "throughput", "goodput", "error_rate",
				"generator_saturated", "generator", "token_count_mismatch_ratio", "metrics", "slo", "pass", "histograms")
			var s struct {
				Requests struct{ Total, OK, Failed int }
				Metrics  map[string]map[string]float64
			}
			b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			if s.Requests.Total != 30 || s.Requests.OK != 30 {
				t.Errorf("requests = %+v, want 30 ok of 30", s.Requests)
			}
			for _, m := range []string{"lag", "ttfb", "ttft", "ttfo", "icl", "itl", "tpot", "e2e"} {
				st, ok := s.Metrics[m]
				if !ok {
					t.Errorf("summary lacks metric %s", m)
					continue
				}
				for _, k := range []string{"count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"} {
					if _, ok := st[k]; !ok {
						t.Errorf("metric %s lacks %s", m, k)
					}
				}
			}
			recs := readRecords(t, out)
			if len(recs) != 30 {
				t.Fatalf("%d records, want 30", len(recs))
			}
			for _, rec := range recs {
				if rec.Error != nil || rec.OutputTokens != 12 || rec.OutputTokensSource != results.SourceUsage || rec.Frames != 12 {
					t.Errorf("record %s: error %v, output %d (%s), frames %d; want 12 tokens from usage in 12 frames",
						rec.ID, rec.Error, rec.OutputTokens, rec.OutputTokensSource, rec.Frames)
				}
				if rec.TTFTMS == nil || *rec.TTFTMS < 20 {
					t.Errorf("record %s: ttft %v below the simulator's 20ms", rec.ID, rec.TTFTMS)
				}
				if rec.InputTokens < 50 || rec.InputTokens > 150 {
					t.Errorf("record %s: input tokens %d outside uniform:50,150", rec.ID, rec.InputTokens)
				}
			}
		})
	}
}

// truthServer is an OpenAI-compatible chat server that is not ours: it
// streams fixed-length answers on its own timers and logs when it actually
// flushed each frame, per request id.
type truthServer struct {
	ttft, itl time.Duration
	mu        sync.Mutex
	log       map[string][]time.Duration // flush times since the request arrived
}

func (s *truthServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	var body struct {
		MaxTokens int `json:"max_tokens"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.MaxTokens < 1 {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	id := r.Header.Get("X-Request-Id")
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`+"\n\n")
	fl.Flush()
	sent := make([]time.Duration, 0, body.MaxTokens)
	for i := 0; i < body.MaxTokens; i++ {
		due := s.ttft + time.Duration(i)*s.itl
		if d := due - time.Since(arrived); d > 0 {
			time.Sleep(d)
		}
		if _, err := io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":" the"}}]}`+"\n\n"); err != nil {
			return
		}
		fl.Flush()
		sent = append(sent, time.Since(arrived))
	}
	fmt.Fprintf(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":%d}}\n\ndata: [DONE]\n\n", body.MaxTokens)
	fl.Flush()
	s.mu.Lock()
	s.log[id] = sent
	s.mu.Unlock()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// TestTimingTruth drives a server that is not ours at 20 req/s with ~100
// concurrent streams and checks that the ttft and inter-token medians we
// record are within 1 ms of the server's own send times.
func TestTimingTruth(t *testing.T) {
	if os.Getenv("STREAMGAUGE_TIMING") == "" {
		t.Skip("timing-truth run: make check runs it alone with STREAMGAUGE_TIMING=1")
	}
	srv := &truthServer{ttft: 200 * time.Millisecond, itl: 20 * time.Millisecond, log: map[string][]time.Duration{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	defer hs.Close()

	out := filepath.Join(t.TempDir(), "run")
	r := runBinary(t, nil, "run", "--target", "http://"+ln.Addr().String(), "--api", "openai-chat", "--model", "m",
		"--requests", "200", "--rate", "20", "--arrival", "constant", "--input-tokens", "64", "--output-tokens", "240", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	recs := readRecords(t, out)
	if len(recs) != 200 {
		t.Fatalf("%d records, want 200", len(recs))
	}
	var clientTTFT, serverTTFT, clientGap, serverGap []float64
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, rec := range recs {
		sent, ok := srv.log[rec.ID]
		if !ok || rec.Error != nil || rec.TTFTMS == nil {
			t.Fatalf("record %s: error %v, server log %v", rec.ID, rec.Error, ok)
		}
		clientTTFT = append(clientTTFT, *rec.TTFTMS)
		serverTTFT = append(serverTTFT, float64(sent[0])/1e6)
		clientGap = append(clientGap, rec.ICLMS...)
		for i := 1; i < len(sent); i++ {
			serverGap = append(serverGap, float64(sent[i]-sent[i-1])/1e6)
		}
	}
	// Peak concurrency: requests whose [sent, done] spans overlap.
	peak := 0
	for _, a := range recs {
		n := 0
		for _, b := range recs {
			if b.SentNS <= a.SentNS && b.DoneNS > a.SentNS {
				n++
			}
		}
		peak = max(peak, n)
	}
	ct, st := median(clientTTFT), median(serverTTFT)
	cg, sg := median(clientGap), median(serverGap)
	t.Logf("peak concurrent streams %d; ttft median client %.3f ms, server %.3f ms; itl median client %.3f ms, server %.3f ms", peak, ct, st, cg, sg)
	if peak < 90 {
		t.Errorf("peak concurrency %d, want about 100", peak)
	}
	if d := ct - st; d < -1 || d > 1 {
		t.Errorf("ttft median %.3f ms is %.3f ms from the server's %.3f ms (want within 1 ms)", ct, d, st)
	}
	if d := cg - sg; d < -1 || d > 1 {
		t.Errorf("itl median %.3f ms is %.3f ms from the server's %.3f ms (want within 1 ms)", cg, d, sg)
	}
}
