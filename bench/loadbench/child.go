package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/monitor"
	"github.com/streamgauge/streamgauge/profiles"
)

// Each client run is a child process of its own (this program, re-run with
// the argument "child"), so its CPU time and peak RSS are its own: the
// orchestrator's memory, the other client's and the server's never mix in.

// The clients.
const (
	clientBaseline    = "baseline"
	clientStreamgauge = "streamgauge"
)

// childSpec is one client run.
type childSpec struct {
	Client   string        `json:"client"`
	Name     string        `json:"name"`
	Target   string        `json:"target"`
	Rate     float64       `json:"rate"`
	Arrival  string        `json:"arrival"`
	Duration time.Duration `json:"duration"`
	Requests uint64        `json:"requests"`
	Input    int           `json:"input_tokens"`
	Output   int           `json:"output_tokens"`
	Seed     uint64        `json:"seed"`
	// Out is the run directory (streamgauge) or the stamps file (baseline).
	Out        string `json:"out"`
	CPUProfile string `json:"cpu_profile,omitempty"`
	// SampleEvery, when set, samples the process's memory at this interval.
	SampleEvery time.Duration `json:"sample_every,omitempty"`
}

// MemSample is the client's memory at one moment of the run.
type MemSample struct {
	AtS float64 `json:"at_s"`
	// RSSMiB is the resident set; HeapLiveMiB the heap that survived the
	// last GC (what the process keeps, without garbage not yet collected).
	RSSMiB      float64 `json:"rss_mib"`
	HeapLiveMiB float64 `json:"heap_live_mib"`
	Goroutines  int     `json:"goroutines"`
}

// childResult is what a client run reports about itself.
type childResult struct {
	CPU  time.Duration `json:"cpu_ns"`
	Wall time.Duration `json:"wall_ns"`
	// Sent counts requests sent; OK and Failed, finished ones.
	Sent, OK, Failed int64
	OutputTokens     int64
	PeakRSS          int64 `json:"peak_rss_bytes"`
	// Drift is how far the wall clock moved from the monotonic clock over
	// the run (streamgauge's record offsets are monotonic).
	Drift time.Duration `json:"clock_drift_ns"`
	// streamgauge's own summary.
	AchievedRate float64          `json:"achieved_rate,omitempty"`
	LagP50       float64          `json:"lag_p50_ms,omitempty"`
	LagP99       float64          `json:"lag_p99_ms,omitempty"`
	Saturated    bool             `json:"generator_saturated,omitempty"`
	Errors       map[string]int64 `json:"errors,omitempty"`
	Samples      []MemSample      `json:"samples,omitempty"`
}

// runChild is the child process: it runs the spec in args[0] and prints its
// result as JSON on stdout.
func runChild(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "loadbench child: want one JSON spec")
		return 2
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		fmt.Fprintf(stderr, "loadbench child: spec: %v\n", err)
		return 2
	}
	raiseFileLimit()
	if spec.CPUProfile != "" {
		f, err := os.Create(spec.CPUProfile)
		if err != nil {
			fmt.Fprintf(stderr, "loadbench child: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "loadbench child: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	var samples []MemSample
	stopSampling := func() {}
	if spec.SampleEvery > 0 {
		stopSampling = sampleMemory(spec.SampleEvery, &samples)
	}
	var res *childResult
	var err error
	switch spec.Client {
	case clientBaseline:
		res, err = runBaseline(ctx, spec)
	case clientStreamgauge:
		res, err = runStreamgauge(ctx, spec)
	default:
		err = fmt.Errorf("client %q: want %s or %s", spec.Client, clientBaseline, clientStreamgauge)
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadbench child %s: %v\n", spec.Client, err)
		return 1
	}
	stopSampling()
	res.Samples = samples
	res.PeakRSS = statusKB(0, "VmHWM")
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// sampleMemory appends a MemSample to *out every interval until the
// returned function is called.
func sampleMemory(interval time.Duration, out *[]MemSample) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t0 := time.Now()
		tk := time.NewTicker(interval)
		defer tk.Stop()
		ms := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-done:
				return
			case <-tk.C:
			}
			metrics.Read(ms)
			var live float64
			if ms[0].Value.Kind() == metrics.KindUint64 {
				live = float64(ms[0].Value.Uint64()) / (1 << 20)
			}
			*out = append(*out, MemSample{AtS: math.Round(time.Since(t0).Seconds()), RSSMiB: math.Round(float64(statusKB(0, "VmRSS"))/(1<<20)*10) / 10,
				HeapLiveMiB: math.Round(live*10) / 10, Goroutines: runtime.NumGoroutine()})
		}
	}()
	return func() { close(done); <-finished }
}

// runStreamgauge is streamgauge as users run it, every feature on:
// harness.Run (what `streamgauge run` calls) with every record streamed to
// disk, histograms, the tokenizer counting every frame, the live monitor
// with its status and Prometheus exporter, the server's metrics scraped,
// and the summary written at the end.
func runStreamgauge(ctx context.Context, spec childSpec) (*childResult, error) {
	p := profiles.Default()
	p.Name = spec.Name
	p.Target = spec.Target
	p.API = "openai-chat"
	p.Model = "sim"
	p.Rate = spec.Rate
	p.Arrival = spec.Arrival
	p.Duration = spec.Duration
	p.Requests = spec.Requests
	p.InputTokens = strconv.Itoa(spec.Input)
	p.OutputTokens = strconv.Itoa(spec.Output)
	p.Out = spec.Out
	p.Seed = spec.Seed
	// The live view: Prometheus metrics served, the server's metrics
	// scraped into the run directory, and the status line computed at a
	// terminal's refresh rate (written nowhere).
	p.MetricsAddr = "127.0.0.1:0"
	p.ScrapeMetrics = monitor.ScrapeSim
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// The GC target `streamgauge run` sets for itself.
	debug.SetGCPercent(harness.GCPercent)
	mon := monitor.New()
	status := monitor.NewStatus(io.Discard, mon, monitor.Every(monitor.TerminalRefresh))
	status.Start()
	t0 := time.Now()
	res, err := harness.Run(ctx, p, harness.WithVersion("loadbench"), harness.WithMonitor(mon))
	t1 := time.Now()
	status.Stop()
	if res == nil {
		return nil, err
	}
	// A run in which some requests failed still reports; the orchestrator
	// shows the failures.
	s := res.Summary
	out := &childResult{
		CPU: res.Stats.CPU, Wall: res.Stats.End.Sub(res.Stats.Start),
		Sent: int64(res.Stats.Sent), OK: s.Requests.OK, Failed: s.Requests.Failed,
		OutputTokens: int64(s.Throughput.OutputTokensPerS*s.DurationS + 0.5),
		Drift:        time.Duration(t1.UnixNano()-t0.UnixNano()) - t1.Sub(t0),
		AchievedRate: s.Generator.AchievedRate,
		LagP50:       s.Metrics["lag"].P50, LagP99: s.Metrics["lag"].P99,
		Saturated: s.GeneratorSaturated, Errors: s.Errors,
	}
	return out, nil
}

// baseRec is one request of the baseline client, as written to its stamps
// file: wall-clock Unix nanoseconds, comparable with the truth log.
type baseRec struct {
	ID      string  `json:"id"`
	SchedNS int64   `json:"sched_ns"` // scheduled offset from the run start
	SentNS  int64   `json:"sent_ns"`  // actual send offset from the run start
	Sent    int64   `json:"sent"`     // wall clock
	Done    int64   `json:"done"`     // wall clock
	Stamps  []int64 `json:"stamps"`   // wall clock, one per token frame
	Err     string  `json:"err,omitempty"`
}

var (
	dataPrefix = []byte("data: ")
	// tokenMark is in every token chunk of an OpenAI chat stream and in no
	// other (the role chunk has "role" first, the finish chunk an empty delta).
	tokenMark = []byte(`"delta":{"content":"`)
)

// runBaseline is the floor: a goroutine per request, net/http, a bufio
// reader over the body, and a wall-clock stamp per token line. It sends the
// same schedule as streamgauge (the same pacer and seed) and keeps every
// stamp in memory until the end; nothing is decoded, counted or written
// while the load runs.
func runBaseline(ctx context.Context, spec childSpec) (*childResult, error) {
	if spec.Arrival == "" {
		spec.Arrival = loadgen.ArrivalPoisson
	}
	pacer, err := loadgen.NewPacer(spec.Arrival, spec.Rate, 1, spec.Seed)
	if err != nil {
		return nil, err
	}
	var at []time.Duration
	sched := loadgen.NewSchedule(pacer)
	for spec.Requests == 0 || uint64(len(at)) < spec.Requests {
		a, ok := sched.Next()
		if !ok || (spec.Duration > 0 && a >= spec.Duration) {
			break
		}
		at = append(at, a)
	}
	words := strings.Repeat(" the", spec.Input)
	body, err := json.Marshal(map[string]any{
		"model": "sim", "stream": true, "max_tokens": spec.Output, "ignore_eos": true,
		"stream_options": map[string]any{"include_usage": true},
		"messages":       []map[string]string{{"role": "user", "content": words}},
	})
	if err != nil {
		return nil, err
	}
	url := strings.TrimRight(spec.Target, "/") + "/v1/chat/completions"
	hc := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 16384, MaxIdleConnsPerHost: 16384, IdleConnTimeout: 90 * time.Second, DisableCompression: true,
	}}
	recs := make([]baseRec, len(at))
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	cpu0 := processCPU()
	start := time.Now()
	for i, a := range at {
		if d := time.Until(start.Add(a)); d > 0 {
			timer.Reset(d)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-timer.C:
			}
		}
		recs[i].ID = "b" + strconv.Itoa(i)
		recs[i].SchedNS = int64(a)
		wg.Add(1)
		go func(r *baseRec) {
			defer wg.Done()
			baselineDo(ctx, hc, url, body, start, spec.Output, r)
		}(&recs[i])
	}
	wg.Wait()
	res := &childResult{CPU: processCPU() - cpu0, Wall: time.Since(start), Sent: int64(len(at))}
	hc.CloseIdleConnections()

	f, err := os.Create(spec.Out)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	for i := range recs {
		r := &recs[i]
		if r.Err == "" {
			res.OK++
			res.OutputTokens += int64(len(r.Stamps))
		} else {
			res.Failed++
		}
		if err := enc.Encode(r); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return res, f.Close()
}

// baselineDo sends one request and stamps its token lines into r.
func baselineDo(ctx context.Context, hc *http.Client, url string, body []byte, start time.Time, out int, r *baseRec) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		r.Err = err.Error()
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", r.ID)
	sent := time.Now()
	r.Sent = sent.UnixNano()
	r.SentNS = int64(sent.Sub(start))
	resp, err := hc.Do(req)
	if err != nil {
		r.Err = err.Error()
		r.Done = time.Now().UnixNano()
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		r.Err = resp.Status
		r.Done = time.Now().UnixNano()
		return
	}
	r.Stamps = make([]int64, 0, out)
	br := bufio.NewReaderSize(resp.Body, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if bytes.HasPrefix(line, dataPrefix) && bytes.Contains(line, tokenMark) {
			r.Stamps = append(r.Stamps, time.Now().UnixNano())
		}
		if err != nil {
			r.Done = time.Now().UnixNano()
			if !errors.Is(err, io.EOF) {
				r.Err = err.Error()
			}
			return
		}
	}
}
