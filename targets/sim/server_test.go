package sim_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// fastCost makes 2 ms steps whatever the batch, so HTTP tests run quickly
// without spinning the CPU.
var fastCost = sim.CostModel{Name: "fast", Overhead: 2 * time.Millisecond, KVTokens: 100_000}

func config(sched string, f func(*sim.Config)) sim.Config {
	c := sim.DefaultConfig()
	c.Scheduler = sched
	c.Cost = &fastCost
	c.TTFT, c.ITL = 2*time.Millisecond, time.Millisecond
	if f != nil {
		f(&c)
	}
	return c
}

// truthLog collects Truth records.
type truthLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *truthLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *truthLog) records(t *testing.T) map[string]sim.Truth {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]sim.Truth{}
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var tr sim.Truth
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatalf("truth log line %q: %v", sc.Text(), err)
		}
		out[tr.ID] = tr
	}
	return out
}

func start(t *testing.T, cfg sim.Config, opts ...sim.Option) (*sim.Server, *httptest.Server, *truthLog) {
	t.Helper()
	log := &truthLog{}
	srv, err := sim.New(append([]sim.Option{sim.WithConfig(cfg), sim.WithProtocols(openai.Chat{}, openai.Completions{}), sim.WithTruthLog(log)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts, log
}

func client(t *testing.T, ts *httptest.Server) *targets.Client {
	t.Helper()
	c, err := targets.NewClient(ts.URL, openai.Chat{}, targets.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c
}

func request(id string, prompt, out int) *targets.Request {
	return &targets.Request{ID: id, Model: "m", Prompt: strings.TrimSpace(strings.Repeat(" word", prompt)), InputTokens: prompt, MaxTokens: out, IgnoreEOS: true}
}

// waitIdle waits for a stepped engine to finish its bookkeeping.
func waitIdle(t *testing.T, srv *sim.Server) sim.Stats {
	t.Helper()
	rep, ok := srv.Engine().(sim.StatsReporter)
	if !ok {
		return sim.Stats{}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := rep.Stats()
		if st.Running == 0 && st.Waiting == 0 && st.KVUsed == 0 && srv.InFlight() == 0 {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("engine not idle: %+v, %d in flight", st, srv.InFlight())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSchedulersOverHTTP(t *testing.T) {
	for _, sched := range sim.Schedulers() {
		t.Run(sched, func(t *testing.T) {
			srv, ts, log := start(t, config(sched, func(c *sim.Config) { c.MaxBatch = 3; c.PrefixCache = true; c.BlockTokens = 4 }))
			c := client(t, ts)
			var wg sync.WaitGroup
			resps := make([]*targets.Response, 6)
			for i := range resps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resps[i] = c.Do(context.Background(), request(fmt.Sprintf("r%d", i), 10+i, 5+i))
				}()
			}
			wg.Wait()
			waitIdle(t, srv)
			truth := log.records(t)
			for i, r := range resps {
				id := fmt.Sprintf("r%d", i)
				if r.Err != nil {
					t.Fatalf("%s: %v", id, r.Err)
				}
				if len(r.Frames) != 5+i || r.Usage == nil || r.Usage.CompletionTokens != 5+i || r.Usage.PromptTokens != 10+i {
					t.Errorf("%s: %d frames, usage %+v; want %d tokens of a %d-token prompt", id, len(r.Frames), r.Usage, 5+i, 10+i)
				}
				tr, ok := truth[id]
				if !ok {
					t.Fatalf("%s: not in the truth log", id)
				}
				if tr.Outcome != "ok" || tr.Status != 200 || len(tr.TokenNS) != len(r.Frames) || tr.API != "openai-chat" {
					t.Errorf("%s: truth %+v", id, tr)
				}
				if !slices.IsSorted(tr.TokenNS) || tr.ArrivalNS > tr.StartNS || tr.StartNS > tr.TokenNS[0] || tr.TokenNS[len(tr.TokenNS)-1] > tr.EndNS {
					t.Errorf("%s: truth times out of order: %+v", id, tr)
				}
				for k := range tr.DueNS {
					if tr.DueNS[k] > tr.TokenNS[k] {
						t.Errorf("%s: token %d sent at %d before its due time %d", id, k, tr.TokenNS[k], tr.DueNS[k])
					}
				}
				if len(tr.DueNS) != len(tr.TokenNS) {
					t.Errorf("%s: %d due times for %d tokens", id, len(tr.DueNS), len(tr.TokenNS))
				}
			}
		})
	}
}

func TestChaosKinds(t *testing.T) {
	tests := []struct {
		kind       string
		want       results.ErrorKind
		status     int
		retryAfter string
		midStream  bool
		outcome    string
	}{
		{sim.Fail429, results.KindHTTP429, 429, "2", false, "http_429"},
		{sim.Fail500, results.KindHTTP5xx, 500, "", false, "http_5xx"},
		{sim.FailStream, results.KindStream, 200, "", true, "stream_error"},
		{sim.FailDrop, results.KindStream, 200, "", true, "dropped"},
	}
	for _, tc := range tests {
		t.Run(tc.kind, func(t *testing.T) {
			srv, ts, log := start(t, config(sim.SchedContinuous, func(c *sim.Config) {
				c.FailRate = 1
				c.FailKinds = []string{tc.kind}
				c.RetryAfter = 1500 * time.Millisecond
			}))
			r := client(t, ts).Do(context.Background(), request("x1", 4, 8))
			if r.Err == nil || r.Err.Kind != tc.want || r.Status != tc.status {
				t.Fatalf("client saw status %d, error %v; want %s", r.Status, r.Err, tc.want)
			}
			if r.Err.RetryAfter != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", r.Err.RetryAfter, tc.retryAfter)
			}
			if tc.midStream && (len(r.Frames) == 0 || len(r.Frames) >= 8) {
				t.Errorf("failed after %d of 8 tokens, want mid-stream", len(r.Frames))
			}
			waitIdle(t, srv)
			tr := log.records(t)["x1"]
			if tr.Outcome != tc.outcome || tr.OutputTokens != len(r.Frames) {
				t.Errorf("truth outcome %q after %d tokens; want %q after %d", tr.Outcome, tr.OutputTokens, tc.outcome, len(r.Frames))
			}
			var m bytes.Buffer
			srv.WriteMetrics(&m)
			if want := fmt.Sprintf("streamgauge_sim_chaos_total{kind=%q} 1", tc.kind); !strings.Contains(m.String(), want) {
				t.Errorf("metrics lack %q", want)
			}
		})
	}
}

// TestChaosRate checks a partial fail rate over real HTTP: about the share
// asked for fails, and the same ids fail again on a second server with the
// same seed.
func TestChaosRate(t *testing.T) {
	failed := func(seed uint64) []string {
		_, ts, _ := start(t, config(sim.SchedFixed, func(c *sim.Config) {
			c.FailRate = 0.3
			c.FailKinds = []string{sim.Fail500, sim.FailStream}
			c.Seed = seed
		}))
		c := client(t, ts)
		var out []string
		for i := range 60 {
			id := "req-" + strconv.Itoa(i)
			if r := c.Do(context.Background(), request(id, 2, 3)); r.Err != nil {
				out = append(out, id+":"+string(r.Err.Kind))
			}
		}
		return out
	}
	a, b, c := failed(1), failed(1), failed(2)
	if len(a) < 8 || len(a) > 30 {
		t.Errorf("%d of 60 failed at rate 0.3", len(a))
	}
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different failures:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("different seeds, same failures: %v", a)
	}
}

func TestStall(t *testing.T) {
	srv, ts, log := start(t, config(sim.SchedFixed, func(c *sim.Config) { c.StallEvery = 2; c.StallFor = 30 * time.Millisecond }))
	r := client(t, ts).Do(context.Background(), request("s", 2, 5))
	if r.Err != nil || len(r.Frames) != 5 {
		t.Fatalf("%d frames, %v", len(r.Frames), r.Err)
	}
	waitIdle(t, srv)
	tr := log.records(t)["s"]
	// A pause before tokens 2 and 4: a lower bound, so no timing flake.
	for _, i := range []int{2, 4} {
		if gap := time.Duration(tr.TokenNS[i] - tr.TokenNS[i-1]); gap < 30*time.Millisecond {
			t.Errorf("gap before token %d is %s, want the 30ms stall", i, gap)
		}
	}
}

func TestRequestIDEcho(t *testing.T) {
	_, ts, log := start(t, config(sim.SchedFixed, nil))
	post := func(id string) *http.Response {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m","stream":true,"max_tokens":2,"messages":[{"role":"user","content":"hi there"}]}`))
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if got := post("abc-1").Header.Get("X-Request-Id"); got != "abc-1" {
		t.Errorf("X-Request-Id %q, want abc-1 echoed", got)
	}
	gen := post("").Header.Get("X-Request-Id")
	if gen == "" {
		t.Error("no X-Request-Id made up for a request without one")
	}
	truth := log.records(t)
	if _, ok := truth[gen]; !ok {
		t.Errorf("truth log lacks the made-up id %q: %v", gen, truth)
	}
	if tr := truth["abc-1"]; tr.PromptTokens != 2 || len(tr.TokenNS) != 2 {
		t.Errorf("truth %+v, want 2 prompt words and 2 tokens", tr)
	}
}

func TestRejectsTooLarge(t *testing.T) {
	_, ts, _ := start(t, config(sim.SchedContinuous, func(c *sim.Config) { c.KVTokens = 100 }))
	r := client(t, ts).Do(context.Background(), request("big", 90, 20))
	if r.Err == nil || r.Err.Kind != results.KindHTTP4xx || !strings.Contains(r.Err.Message, "kv-tokens") {
		t.Errorf("error %v, want http_4xx naming --kv-tokens", r.Err)
	}
}

func TestCancelMidStream(t *testing.T) {
	srv, ts, log := start(t, config(sim.SchedContinuous, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once the request is running.
		for srv.InFlight() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		cancel()
	}()
	r := client(t, ts).Do(ctx, request("c", 4, 50_000))
	if r.Err == nil || r.Err.Kind != results.KindCanceled {
		t.Fatalf("error %v, want canceled", r.Err)
	}
	waitIdle(t, srv)
	if tr := log.records(t)["c"]; tr.Outcome != "canceled" {
		t.Errorf("truth outcome %q, want canceled", tr.Outcome)
	}
}

// TestMetrics parses /metrics line by line: every sample has a declared
// type, vLLM's names are there with the model_name label, and the token
// counters add up.
func TestMetrics(t *testing.T) {
	srv, ts, _ := start(t, config(sim.SchedContinuous, func(c *sim.Config) { c.Model = "llama-sim" }))
	c := client(t, ts)
	for i := range 3 {
		if r := c.Do(context.Background(), request(fmt.Sprint("m", i), 5, 4)); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	waitIdle(t, srv)
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	types := map[string]string{}
	samples := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			if len(f) != 2 || !slices.Contains([]string{"gauge", "counter", "histogram"}, f[1]) {
				t.Errorf("bad TYPE line %q", line)
				continue
			}
			types[f[0]] = f[1]
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			t.Errorf("bad sample line %q", line)
			continue
		}
		key, val := line[:sp], line[sp+1:]
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Errorf("sample %q: value %q: %v", key, val, err)
		}
		name := key
		if i := strings.IndexByte(key, '{'); i >= 0 {
			name = key[:i]
			if !strings.HasSuffix(key, "}") {
				t.Errorf("bad labels in %q", line)
			}
		}
		base := name
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suf); ok && types[b] == "histogram" {
				base = b
			}
		}
		if types[base] == "" {
			t.Errorf("sample %q has no TYPE line before it", line)
		}
		samples[key] = v
	}
	lbl := `{model_name="llama-sim"}`
	for _, name := range []string{"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:gpu_cache_usage_perc", "vllm:kv_cache_usage_perc", "vllm:prompt_tokens_total", "vllm:generation_tokens_total"} {
		if _, ok := samples[name+lbl]; !ok {
			t.Errorf("no sample %s%s", name, lbl)
		}
	}
	if got := samples["vllm:generation_tokens_total"+lbl]; got != 12 {
		t.Errorf("generation tokens %g, want 12", got)
	}
	if got := samples["vllm:prompt_tokens_total"+lbl]; got != 15 {
		t.Errorf("prompt tokens %g, want 15", got)
	}
	if got := samples[`streamgauge_sim_token_lateness_seconds_count`]; got != 12 {
		t.Errorf("lateness histogram holds %g tokens, want 12", got)
	}
	if types["vllm:generation_tokens_total"] != "counter" || types["vllm:num_requests_running"] != "gauge" {
		t.Errorf("types %v", types)
	}
	if r, err := http.Get(ts.URL + "/health"); err != nil || r.StatusCode != 200 {
		t.Errorf("/health: %v %v", r, err)
	}
}
