// Command loadbench is streamgauge's end-to-end load benchmark: in one run
// it measures how exact and how cheap the generator is, against the
// simulator (`streamgauge serve --scheduler fixed --truth-log FILE`) in a
// process of its own.
//
// Each scenario drives the simulator with two clients, one after the other,
// each in a child process of its own:
//
//   - baseline: the floor, a minimal client written here (a goroutine per
//     request, net/http, reading SSE lines and stamping each token line;
//     nothing decoded, counted or written while the load runs);
//   - streamgauge: harness.Run, what `streamgauge run` calls, with every
//     feature on: records streamed to disk, histograms, the tokenizer
//     counting every frame, the summary.
//
// For each it reports the achieved rate, lag, client CPU per request and per
// output token (rusage of the client process over the run), peak RSS, and
// the measurement error against the simulator's truth log: both processes
// run on this machine, so the server's wall-clock send times and the
// client's stamps share one clock. Then: a 60 s rate-accuracy run, a climb
// to the highest rate with lag p99 under 5 ms, 10,000 concurrent streams
// from one process, and memory over a long run.
//
//	go run ./bench/loadbench [--quick | --full] [--out bench/results.json]
//
// docs/performance.md records the numbers and the machine they ran on.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/hostload"
	"github.com/streamgauge/streamgauge/internal/simproc"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// The targets of issue 5.
const (
	targetCPURatio     = 1.15 // our CPU per request over the baseline's
	targetGapRatio     = 1.5  // our gap-error p99 over the baseline's
	targetTTFTHeavyMS  = 1.0  // ttft error median at ~250 streams
	targetLightMS      = 0.3  // median errors at 10 streams
	targetRateErr      = 0.01 // achieved vs scheduled rate
	targetLagP99MS     = 5.0
	targetScaleStreams = 10000
	targetScaleRSS     = 1.5 * (1 << 30)
)

type options struct {
	quick, full bool
	out         string
	serverBin   string
	only        map[string]bool
	work        string
	keep        bool
	cpuprofile  string
	seed        uint64
	pairs       int
	climbMax    float64
}

// mode picks a duration: default, --quick, --full.
func (o *options) mode(def, quick, full time.Duration) time.Duration {
	switch {
	case o.full:
		return full
	case o.quick:
		return quick
	}
	return def
}

func (o *options) modeName() string {
	switch {
	case o.full:
		return "full"
	case o.quick:
		return "quick"
	}
	return "default"
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "child" {
		return runChild(ctx, args[1:], stdout, stderr)
	}
	var o options
	var only string
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.quick, "quick", false, "shorter runs (CI, development): ~2 minutes")
	fs.BoolVar(&o.full, "full", false, "the long runs: 60 s comparisons and 1,000,000 requests for the memory check (~25 minutes)")
	fs.StringVar(&o.out, "out", "bench/results.json", "write the results as JSON to this file")
	fs.StringVar(&o.serverBin, "server-bin", "", "streamgauge binary serving the simulator (default: go build ./cmd/streamgauge)")
	fs.StringVar(&only, "only", "", "comma-separated scenarios to run: micro,light,heavy,rate,climb,scale,soak,compare (default all)")
	fs.StringVar(&o.work, "work", "", "directory for run directories and truth logs (default: a temporary one, removed)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write each client run's CPU profile into this directory (go tool pprof -top FILE)")
	fs.Uint64Var(&o.seed, "seed", 1, "schedule seed (both clients send the same schedule)")
	fs.IntVar(&o.pairs, "pairs", 1, "baseline/streamgauge pairs per comparison scenario; the CPU ratio uses the medians")
	fs.Float64Var(&o.climbMax, "climb-max", 2000, "highest rate the climb tries (req/s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.quick && o.full {
		fmt.Fprintln(stderr, "loadbench: --quick and --full exclude each other")
		return 2
	}
	if o.pairs < 1 {
		o.pairs = 1
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, s := range strings.Split(only, ",") {
			o.only[strings.TrimSpace(s)] = true
		}
	}
	if err := bench(ctx, &o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "loadbench: %v\n", err)
		return 1
	}
	return 0
}

// Row is one client run of one scenario.
type Row struct {
	Scenario string  `json:"scenario"`
	Client   string  `json:"client"`
	Rep      int     `json:"rep,omitempty"`
	Load1    float64 `json:"load1_at_start"`
	// The load.
	Server        string  `json:"server"`
	RequestedRate float64 `json:"requested_rate"`
	ScheduledRate float64 `json:"scheduled_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	PeakStreams   int     `json:"peak_streams"`
	OK            int64   `json:"ok"`
	Failed        int64   `json:"failed"`
	LagP50        float64 `json:"lag_p50_ms"`
	LagP99        float64 `json:"lag_p99_ms"`
	// The cost.
	CPUSeconds    float64 `json:"cpu_s"`
	CPUPerReqUS   float64 `json:"cpu_us_per_request"`
	CPUPerTokenUS float64 `json:"cpu_us_per_output_token"`
	CPURatio      float64 `json:"cpu_ratio_to_baseline,omitempty"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	ServerCPU     float64 `json:"server_cpu_s"`
	WallSeconds   float64 `json:"wall_s"`
	ClockDriftUS  float64 `json:"clock_drift_us"`
	// The timing truth.
	Truth    *analysis.TruthErrors `json:"truth,omitempty"`
	GapRatio float64               `json:"gap_abs_err_p99_ratio_to_baseline,omitempty"`
	Err      string                `json:"error,omitempty"`
}

// ClimbStep is one rate of the climb.
type ClimbStep struct {
	Rate     float64 `json:"rate"`
	Achieved float64 `json:"achieved_rate"`
	LagP99   float64 `json:"lag_p99_ms"`
	Failed   int64   `json:"failed"`
	CPUPct   float64 `json:"client_cpu_pct"`
	Pass     bool    `json:"pass"`
}

// Soak is memory over a long run.
type Soak struct {
	Requests int64       `json:"requests"`
	Rate     float64     `json:"rate"`
	Scaled   bool        `json:"scaled_down"`
	LagP99   float64     `json:"lag_p99_ms"`
	Samples  []MemSample `json:"samples"`
	// The peaks of the earlier and the later half of the samples after
	// warm-up (the first third of the run), MiB.
	RSSEarly  float64 `json:"rss_peak_early_mib"`
	RSSLate   float64 `json:"rss_peak_late_mib"`
	HeapEarly float64 `json:"heap_live_peak_early_mib"`
	HeapLate  float64 `json:"heap_live_peak_late_mib"`
}

// Micro is a hot-path micro-benchmark run in-process.
type Micro struct {
	Name string `json:"name"`
	// NsPerFrame is wall time (go test's ns/op); CPUNsPerFrame the
	// process's CPU time per iteration.
	NsPerFrame    float64 `json:"ns_per_frame"`
	CPUNsPerFrame float64 `json:"cpu_ns_per_frame"`
	AllocsPerOp   int64   `json:"allocs_per_frame"`
	BytesPerFrame int64   `json:"bytes_per_frame"`
}

// Check is one target of the issue, met or missed.
type Check struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// Report is bench/results.json.
type Report struct {
	Machine   Machine       `json:"machine"`
	Mode      string        `json:"mode"`
	Command   string        `json:"command"`
	Micro     []Micro       `json:"micro,omitempty"`
	Rows      []Row         `json:"rows"`
	Climb     []ClimbStep   `json:"climb,omitempty"`
	ClimbMax  float64       `json:"climb_highest_rate_lag_p99_under_5ms,omitempty"`
	Soak      *Soak         `json:"soak,omitempty"`
	Compare   *CompareBench `json:"compare,omitempty"`
	Checks    []Check       `json:"targets"`
	DurationS float64       `json:"duration_s"`
}

func (o *options) want(s string) bool { return o.only == nil || o.only[s] }

func bench(ctx context.Context, o *options, stdout, stderr io.Writer) error {
	t0 := time.Now()
	rep := &Report{Machine: machine(), Mode: o.modeName(), Command: "go run ./bench/loadbench " + strings.Join(os.Args[1:], " ")}
	m := rep.Machine
	fmt.Fprintf(stdout, "loadbench (%s): %d CPUs (%s), %s, GOMAXPROCS %d, open files %d, load average %.2f %.2f %.2f\n",
		rep.Mode, m.CPUs, m.CPUModel, m.GoVersion, m.GOMAXPROCS, m.FileLimit, m.LoadAvg[0], m.LoadAvg[1], m.LoadAvg[2])
	if m.FileLimit < targetScaleStreams+1000 && o.want("scale") {
		fmt.Fprintf(stdout, "  note: the open-file limit %d is low for 10,000 streams (the client and the server each need one socket per stream)\n", m.FileLimit)
	}

	work := o.work
	if work == "" {
		d, err := os.MkdirTemp("", "loadbench-")
		if err != nil {
			return err
		}
		work = d
		if !o.keep {
			defer os.RemoveAll(d)
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	if o.cpuprofile != "" {
		if err := os.MkdirAll(o.cpuprofile, 0o755); err != nil {
			return err
		}
	}
	if o.serverBin == "" {
		o.serverBin = filepath.Join(work, "streamgauge")
		fmt.Fprintf(stdout, "building the server: go build -o %s ./cmd/streamgauge\n", o.serverBin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", o.serverBin, "./cmd/streamgauge")
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build the server (or pass --server-bin): %w", err)
		}
	}
	b := &bencher{o: o, work: work, stdout: stdout, stderr: stderr, rep: rep}
	if o.want("micro") {
		fmt.Fprintln(stdout, "micro: SSE frame reading and OpenAI chunk decoding, in this process")
		rep.Micro = microBenchmarks()
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"light", b.light}, {"heavy", b.heavy}, {"rate", b.rate}, {"climb", b.climb}, {"scale", b.scale}, {"soak", b.soak}, {"compare", b.compareRuns},
	}
	for _, s := range steps {
		if !o.want(s.name) {
			continue
		}
		if err := s.fn(ctx); err != nil {
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(stderr, "loadbench: %s: %v\n", s.name, err)
		}
	}
	rep.Checks = checks(rep)
	rep.DurationS = math.Round(time.Since(t0).Seconds())
	printReport(stdout, rep)
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		bs, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.out, append(bs, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nwrote %s\n", o.out)
	}
	if o.keep || o.work != "" {
		fmt.Fprintf(stdout, "run directories and truth logs kept in %s\n", work)
	}
	return nil
}

type bencher struct {
	o              *options
	work           string
	stdout, stderr io.Writer
	rep            *Report
}

// load is one scenario's traffic and server.
type load struct {
	scenario string
	srv      simproc.Spec
	rate     float64
	arrival  string
	duration time.Duration
	requests uint64
	input    int
	output   int
	truth    bool
	// records: read the client's records (peak streams, truth); off for
	// the long memory run.
	records bool
	// sampleEvery samples the client's memory.
	sampleEvery time.Duration
}

// runOne starts a server, runs one client against it, stops the server and
// measures.
func (b *bencher) runOne(ctx context.Context, l load, client string, rep int) (Row, *childResult) {
	tag := fmt.Sprintf("%s-%s", l.scenario, client)
	if rep > 0 {
		tag += fmt.Sprintf("-%d", rep)
	}
	row := Row{Scenario: l.scenario, Client: client, Rep: rep, RequestedRate: l.rate, Load1: hostload.Average()[0],
		Server: fmt.Sprintf("fixed: ttft %s, itl %s, %d tokens", l.srv.TTFT, l.srv.ITL, l.output)}
	fail := func(err error) (Row, *childResult) {
		row.Err = err.Error()
		fmt.Fprintf(b.stdout, "  %-6s %-11s FAILED: %v\n", l.scenario, client, err)
		return row, nil
	}
	srvSpec := l.srv
	if l.truth {
		srvSpec.Truth = filepath.Join(b.work, tag+".truth.jsonl")
	}
	srv, err := simproc.Start(ctx, b.o.serverBin, srvSpec)
	if err != nil {
		return fail(err)
	}
	spec := childSpec{Client: client, Name: "loadbench-" + tag, Target: srv.URL(), Rate: l.rate, Arrival: l.arrival,
		Duration: l.duration, Requests: l.requests, Input: l.input, Output: l.output, Seed: b.o.seed, SampleEvery: l.sampleEvery}
	if client == clientBaseline {
		spec.Out = filepath.Join(b.work, tag+".baseline.jsonl")
	} else {
		spec.Out = filepath.Join(b.work, tag)
	}
	if b.o.cpuprofile != "" {
		spec.CPUProfile = filepath.Join(b.o.cpuprofile, tag+".pprof")
	}
	cpuSrv0 := srv.CPU()
	res, err := spawnChild(ctx, spec, b.stderr)
	row.ServerCPU = round3((srv.CPU() - cpuSrv0).Seconds())
	if serr := srv.Stop(); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return fail(err)
	}
	row.OK, row.Failed = res.OK, res.Failed
	row.CPUSeconds = round3(res.CPU.Seconds())
	if res.OK > 0 {
		row.CPUPerReqUS = round3(float64(res.CPU.Microseconds()) / float64(res.OK))
	}
	if res.OutputTokens > 0 {
		row.CPUPerTokenUS = round3(float64(res.CPU.Microseconds()) / float64(res.OutputTokens))
	}
	row.PeakRSSMiB = round3(float64(res.PeakRSS) / (1 << 20))
	row.WallSeconds = round3(res.Wall.Seconds())
	row.ClockDriftUS = round3(float64(res.Drift) / 1e3)
	row.AchievedRate, row.LagP50, row.LagP99 = round3(res.AchievedRate), res.LagP50, res.LagP99
	if l.records {
		var reqs []analysis.ClientRequest
		if client == clientBaseline {
			reqs, err = baselineRequests(spec.Out)
		} else {
			reqs, err = analysis.RunRequests(spec.Out)
		}
		if err != nil {
			return fail(err)
		}
		ls := analysis.LoadOf(reqs)
		row.ScheduledRate = round3(ls.ScheduledRate)
		row.PeakStreams = ls.PeakStreams
		if client == clientBaseline {
			// streamgauge reports these itself (summary.json); the
			// baseline's come from its stamps, computed the same way.
			row.AchievedRate, row.LagP50, row.LagP99 = round3(ls.AchievedRate), ls.LagP50, ls.LagP99
		}
		if l.truth {
			truth, err := analysis.ReadTruth(srvSpec.Truth)
			if err != nil {
				return fail(err)
			}
			row.Truth = analysis.CompareTruth(reqs, truth)
		}
	}
	if !b.o.keep && b.o.work == "" {
		os.RemoveAll(spec.Out)
		if srvSpec.Truth != "" {
			os.Remove(srvSpec.Truth)
		}
	}
	line := fmt.Sprintf("  %-6s %-11s %6.1f req/s (asked %g), %5d ok %3d failed, lag p99 %6.3f ms, CPU %7.1f µs/req %6.2f µs/tok, RSS %6.1f MiB",
		l.scenario, client, row.AchievedRate, l.rate, row.OK, row.Failed, row.LagP99, row.CPUPerReqUS, row.CPUPerTokenUS, row.PeakRSSMiB)
	if row.Truth != nil {
		line += fmt.Sprintf(", ttft err p50 %.3f ms, |gap err| p99 %.3f ms", row.Truth.TTFTP50, row.Truth.GapAbsP99)
	}
	fmt.Fprintln(b.stdout, line)
	return row, res
}

// compare runs baseline and streamgauge (pairs times, alternating which
// goes first) and sets the ratios.
func (b *bencher) compare(ctx context.Context, l load) {
	var rows []Row
	for i := 0; i < b.o.pairs; i++ {
		order := []string{clientBaseline, clientStreamgauge}
		if i%2 == 1 {
			order = []string{clientStreamgauge, clientBaseline}
		}
		rep := 0
		if b.o.pairs > 1 {
			rep = i + 1
		}
		for _, c := range order {
			if ctx.Err() != nil {
				return
			}
			row, _ := b.runOne(ctx, l, c, rep)
			rows = append(rows, row)
		}
	}
	var baseCPU, baseGap []float64
	for _, r := range rows {
		if r.Client == clientBaseline && r.Err == "" {
			baseCPU = append(baseCPU, r.CPUPerReqUS)
			if r.Truth != nil {
				baseGap = append(baseGap, r.Truth.GapAbsP99)
			}
		}
	}
	bc, bg := median(baseCPU), median(baseGap)
	for i := range rows {
		r := &rows[i]
		if r.Client != clientStreamgauge || r.Err != "" {
			continue
		}
		if bc > 0 {
			r.CPURatio = round3(r.CPUPerReqUS / bc)
		}
		if bg > 0 && r.Truth != nil {
			r.GapRatio = round3(r.Truth.GapAbsP99 / bg)
		}
	}
	b.rep.Rows = append(b.rep.Rows, rows...)
}

// light: 10 streams, 5 req/s of 2 s streams.
func (b *bencher) light(ctx context.Context) error {
	fmt.Fprintln(b.stdout, "light: 5 req/s of 2 s streams (~10 concurrent), baseline and streamgauge")
	b.compare(ctx, load{scenario: "light", srv: simproc.Spec{TTFT: 100 * time.Millisecond, ITL: 15 * time.Millisecond},
		rate: 5, arrival: "poisson", duration: b.o.mode(15*time.Second, 10*time.Second, 60*time.Second),
		input: 128, output: 128, truth: true, records: true})
	return nil
}

// heavy: ~250 streams, 190 req/s of 128-token streams with 10 ms gaps.
func (b *bencher) heavy(ctx context.Context) error {
	fmt.Fprintln(b.stdout, "heavy: 190 req/s of 128-token streams, 10 ms gaps (~250 concurrent, ~24k frames/s), baseline and streamgauge")
	b.compare(ctx, load{scenario: "heavy", srv: simproc.Spec{TTFT: 50 * time.Millisecond, ITL: 10 * time.Millisecond},
		rate: 190, arrival: "poisson", duration: b.o.mode(15*time.Second, 10*time.Second, 60*time.Second),
		input: 128, output: 128, truth: true, records: true})
	return nil
}

// rate: a Poisson run at 200 req/s, 60 s (15 s with --quick).
func (b *bencher) rate(ctx context.Context) error {
	d := b.o.mode(60*time.Second, 15*time.Second, 60*time.Second)
	fmt.Fprintf(b.stdout, "rate: %s Poisson at 200 req/s of 128-token streams, streamgauge\n", d)
	row, _ := b.runOne(ctx, load{scenario: "rate", srv: simproc.Spec{TTFT: 50 * time.Millisecond, ITL: 10 * time.Millisecond},
		rate: 200, arrival: "poisson", duration: d, input: 128, output: 128, truth: true, records: true}, clientStreamgauge, 0)
	b.rep.Rows = append(b.rep.Rows, row)
	return nil
}

// climb raises the rate in steps of 100 req/s from 200 until lag p99
// reaches 5 ms (or requests fail, or the rate slips), then tries the
// midpoint; when 200 already fails it halves down to 5 req/s.
func (b *bencher) climb(ctx context.Context) error {
	d := b.o.mode(8*time.Second, 5*time.Second, 20*time.Second)
	fmt.Fprintf(b.stdout, "climb: %s Poisson steps of 128-token streams with 10 ms gaps until lag p99 >= 5 ms, streamgauge\n", d)
	try := func(rate float64) bool {
		row, _ := b.runOne(ctx, load{scenario: "climb", srv: simproc.Spec{TTFT: 50 * time.Millisecond, ITL: 10 * time.Millisecond},
			rate: rate, arrival: "poisson", duration: d, input: 128, output: 128, records: true}, clientStreamgauge, 0)
		st := ClimbStep{Rate: rate, Achieved: row.AchievedRate, LagP99: row.LagP99, Failed: row.Failed}
		if row.WallSeconds > 0 {
			st.CPUPct = round3(100 * row.CPUSeconds / row.WallSeconds)
		}
		st.Pass = row.Err == "" && row.Failed == 0 && row.LagP99 < targetLagP99MS &&
			row.ScheduledRate > 0 && math.Abs(row.AchievedRate/row.ScheduledRate-1) <= targetRateErr
		b.rep.Climb = append(b.rep.Climb, st)
		return st.Pass
	}
	pass, fail := 0.0, 0.0
	for r := 200.0; r <= b.o.climbMax && ctx.Err() == nil; r += 100 {
		if !try(r) {
			fail = r
			break
		}
		pass = r
	}
	if pass == 0 && fail > 0 {
		// Even 200 req/s is too much here: halve down.
		for _, r := range []float64{100, 50, 25, 10, 5} {
			if ctx.Err() != nil {
				break
			}
			if try(r) {
				pass = r
				break
			}
			fail = r
		}
	}
	if pass > 0 && fail > 0 && ctx.Err() == nil {
		if mid := math.Round((pass+fail)/2/10) * 10; mid > pass && mid < fail && try(mid) {
			pass = mid
		}
	}
	b.rep.ClimbMax = pass
	return nil
}

// scale: 10,000 concurrent streams from one process. 400 req/s of 30 s
// streams (1 s to the first token, then 30 tokens 1 s apart) for 27 s
// reaches ~10,800 streams at ~10k frames/s; a gentle ramp, so a busy
// machine still gets there (every new stream is a new connection).
func (b *bencher) scale(ctx context.Context) error {
	clients := []string{clientStreamgauge}
	if b.o.full {
		clients = []string{clientBaseline, clientStreamgauge}
	}
	fmt.Fprintf(b.stdout, "scale: 400 req/s of 30 s streams for 27 s (~10,800 concurrent), %s\n", strings.Join(clients, " and "))
	for _, c := range clients {
		row, _ := b.runOne(ctx, load{scenario: "scale", srv: simproc.Spec{TTFT: time.Second, ITL: time.Second},
			rate: 400, arrival: "constant", duration: 27 * time.Second, input: 16, output: 30, truth: true, records: true}, c, 0)
		b.rep.Rows = append(b.rep.Rows, row)
	}
	return nil
}

// soak: memory over a long run, sampled inside the client every 10 s (5 s
// with --quick): RSS, and the heap that survived the last GC. Default 60 s
// at 1,000 req/s (60,000 requests); --full sends 1,000,000.
func (b *bencher) soak(ctx context.Context) error {
	s := &Soak{Rate: 1000}
	l := load{scenario: "soak", srv: simproc.Spec{TTFT: 5 * time.Millisecond, ITL: 5 * time.Millisecond},
		rate: 1000, arrival: "poisson", input: 16, output: 16, sampleEvery: 10 * time.Second}
	var total time.Duration
	switch {
	case b.o.full:
		l.requests = 1_000_000
		total = 1000 * time.Second
	case b.o.quick:
		l.duration, l.sampleEvery = 30*time.Second, 5*time.Second
		s.Scaled = true
		total = l.duration
	default:
		l.duration = 60 * time.Second
		s.Scaled = true
		total = l.duration
	}
	fmt.Fprintf(b.stdout, "soak: 1000 req/s of 16-token streams for %s, memory sampled every %s, streamgauge\n", total, l.sampleEvery)
	row, res := b.runOne(ctx, l, clientStreamgauge, 0)
	b.rep.Rows = append(b.rep.Rows, row)
	if res == nil {
		return nil
	}
	s.Requests, s.LagP99, s.Samples = row.OK+row.Failed, row.LagP99, res.Samples
	// Warm-up is the first third of the run; after it, the later half's
	// peak is compared with the earlier half's.
	var warm []MemSample
	for _, smp := range s.Samples {
		if smp.AtS >= total.Seconds()/3 && smp.AtS <= total.Seconds() {
			warm = append(warm, smp)
		}
	}
	if len(warm) >= 2 {
		first, second := warm[:len(warm)/2], warm[len(warm)/2:]
		peak := func(v []MemSample, f func(MemSample) float64) float64 {
			m := 0.0
			for _, x := range v {
				m = max(m, f(x))
			}
			return m
		}
		rss := func(x MemSample) float64 { return x.RSSMiB }
		heap := func(x MemSample) float64 { return x.HeapLiveMiB }
		s.RSSEarly, s.RSSLate = peak(first, rss), peak(second, rss)
		s.HeapEarly, s.HeapLate = peak(first, heap), peak(second, heap)
	}
	b.rep.Soak = s
	return nil
}

// microBenchmarks measures the per-frame hot path in this process: reading
// an SSE frame and decoding an OpenAI chat chunk (go test -bench in
// ./targets/... has the same and more). Besides the wall time per frame
// (what go test reports, inflated when other processes take the CPU) it
// takes the process CPU time per frame over every iteration.
func microBenchmarks() []Micro {
	const chunk = `data: {"id":"chatcmpl-4f2a9c1e","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}` + "\n\n"
	run := func(name string, fn func(tb *testing.B, n *int64)) Micro {
		var n int64
		cpu0 := processCPU()
		r := testing.Benchmark(func(tb *testing.B) { fn(tb, &n) })
		cpu := processCPU() - cpu0
		m := Micro{Name: name, NsPerFrame: round3(float64(r.NsPerOp())), AllocsPerOp: r.AllocsPerOp(), BytesPerFrame: r.AllocedBytesPerOp()}
		if n > 0 {
			m.CPUNsPerFrame = math.Round(float64(cpu) / float64(n))
		}
		return m
	}
	read := run("sse-read", func(tb *testing.B, n *int64) {
		fr := targets.NewSSEReader(&repeat{p: []byte(chunk)}, 0)
		var f targets.Frame
		tb.ReportAllocs()
		for tb.Loop() {
			if err := fr.Next(&f); err != nil {
				tb.Fatal(err)
			}
			*n++
		}
	})
	dec := run("openai-chat-decode", func(tb *testing.B, n *int64) {
		d := openai.Chat{}.NewDecoder()
		f := targets.Frame{Data: []byte(chunk[len("data: ") : len(chunk)-2])}
		tb.ReportAllocs()
		for tb.Loop() {
			var ev targets.Event
			if err := d.Decode(&f, &ev); err != nil {
				tb.Fatal(err)
			}
			*n++
		}
	})
	both := run("sse-read+decode", func(tb *testing.B, n *int64) {
		fr := targets.NewSSEReader(&repeat{p: []byte(chunk)}, 0)
		d := openai.Chat{}.NewDecoder()
		var f targets.Frame
		tb.ReportAllocs()
		for tb.Loop() {
			if err := fr.Next(&f); err != nil {
				tb.Fatal(err)
			}
			var ev targets.Event
			if err := d.Decode(&f, &ev); err != nil {
				tb.Fatal(err)
			}
			*n++
		}
	})
	return []Micro{read, dec, both}
}

// repeat is an endless stream of p, many frames per Read.
type repeat struct {
	p   []byte
	off int
}

func (r *repeat) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		c := copy(b[n:], r.p[r.off:])
		n += c
		r.off = (r.off + c) % len(r.p)
	}
	return n, nil
}

func checks(rep *Report) []Check {
	var out []Check
	add := func(target, measured string, met bool) {
		out = append(out, Check{Target: target, Measured: measured, Met: met})
	}
	for _, mb := range rep.Micro {
		if mb.Name == "openai-chat-decode" {
			add("decode <= 1 µs and 1 alloc per frame", fmt.Sprintf("%.0f ns CPU (%.0f ns wall), %d allocs", mb.CPUNsPerFrame, mb.NsPerFrame, mb.AllocsPerOp), mb.CPUNsPerFrame <= 1000 && mb.AllocsPerOp <= 1)
		}
	}
	sg := func(scenario string) []Row {
		var rs []Row
		for _, r := range rep.Rows {
			if r.Scenario == scenario && r.Client == clientStreamgauge && r.Err == "" {
				rs = append(rs, r)
			}
		}
		return rs
	}
	medianOf := func(rs []Row, f func(Row) float64) float64 {
		v := make([]float64, 0, len(rs))
		for _, r := range rs {
			v = append(v, f(r))
		}
		return median(v)
	}
	if rs := sg("light"); len(rs) > 0 && rs[0].Truth != nil {
		t := medianOf(rs, func(r Row) float64 { return r.Truth.TTFTP50 })
		g := medianOf(rs, func(r Row) float64 { return r.Truth.GapAbsP50 })
		add("10 streams: ttft error median < 0.3 ms", fmt.Sprintf("%.3f ms", t), t < targetLightMS)
		add("10 streams: gap error median (|err|) < 0.3 ms", fmt.Sprintf("%.3f ms", g), g < targetLightMS)
	}
	if rs := sg("heavy"); len(rs) > 0 {
		c := medianOf(rs, func(r Row) float64 { return r.CPURatio })
		add("~250 streams: CPU per request <= 1.15x baseline", fmt.Sprintf("%.3fx", c), c > 0 && c <= targetCPURatio)
		if rs[0].Truth != nil {
			t := medianOf(rs, func(r Row) float64 { return r.Truth.TTFTP50 })
			g := medianOf(rs, func(r Row) float64 { return r.GapRatio })
			add("~250 streams: ttft error median < 1 ms", fmt.Sprintf("%.3f ms", t), t < targetTTFTHeavyMS)
			add("~250 streams: gap error p99 (|err|) <= 1.5x baseline", fmt.Sprintf("%.3fx", g), g > 0 && g <= targetGapRatio)
		}
	}
	if rs := sg("rate"); len(rs) > 0 {
		r := rs[0]
		e := r.AchievedRate/r.ScheduledRate - 1
		add("rate run: achieved within 1% of the schedule", fmt.Sprintf("%.1f vs %.1f req/s scheduled (%+.2f%%; asked %g)", r.AchievedRate, r.ScheduledRate, 100*e, r.RequestedRate), math.Abs(e) <= targetRateErr)
		add("rate run: lag p99 < 5 ms", fmt.Sprintf("%.3f ms", r.LagP99), r.LagP99 < targetLagP99MS)
	}
	if len(rep.Climb) > 0 {
		add("highest rate with lag p99 < 5 ms (report)", fmt.Sprintf("%g req/s", rep.ClimbMax), rep.ClimbMax > 0)
	}
	if rs := sg("scale"); len(rs) > 0 {
		r := rs[0]
		add("10,000 concurrent streams from one process", fmt.Sprintf("%d peak", r.PeakStreams), r.PeakStreams >= targetScaleStreams)
		add("... under 1.5 GiB RSS", fmt.Sprintf("%.0f MiB", r.PeakRSSMiB), r.PeakRSSMiB*(1<<20) < targetScaleRSS)
	}
	if s := rep.Soak; s != nil && s.RSSEarly > 0 {
		what := "1,000,000 requests"
		if s.Scaled {
			what = fmt.Sprintf("%d requests (scaled down; --full for 1,000,000)", s.Requests)
		}
		heapOK := s.HeapLate <= s.HeapEarly*1.1+4
		rssOK := s.RSSLate <= s.RSSEarly*1.1+16
		add("memory flat after warm-up: "+what, fmt.Sprintf("live heap peak %.1f -> %.1f MiB, RSS peak %.1f -> %.1f MiB (early vs late half)", s.HeapEarly, s.HeapLate, s.RSSEarly, s.RSSLate), heapOK && rssOK)
	}
	if c := rep.Compare; c != nil && c.Err == "" {
		add(fmt.Sprintf("compare of two %d-request runs: peak RSS < 500 MB, the +10%% ttft found", c.Requests),
			fmt.Sprintf("%.0f MiB, %.0f s CPU, ttft.p99 %s", c.PeakRSSMiB, c.CPUS, c.TTFTP99Verdict),
			c.PeakRSSMiB*(1<<20) < targetCompareRSS && c.TTFTP99Verdict == "regression")
	}
	return out
}

func printReport(w io.Writer, rep *Report) {
	if len(rep.Micro) > 0 {
		fmt.Fprintln(w, "\n== hot path per frame (in-process micro-benchmarks; `go test -bench` in ./targets/... and ./bench/hotpath has more)")
		for _, mb := range rep.Micro {
			fmt.Fprintf(w, "  %-20s %6.0f ns CPU/frame  %6.0f ns wall/frame  %d allocs/frame  %d B/frame\n", mb.Name, mb.CPUNsPerFrame, mb.NsPerFrame, mb.AllocsPerOp, mb.BytesPerFrame)
		}
	}
	fmt.Fprintf(w, "\n== load and cost (load average at start %.2f; client CPU from rusage of its own process; the server runs on the same %d CPUs)\n",
		rep.Machine.LoadAvg[0], rep.Machine.CPUs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclient\tload1\tasked\tsched\tachieved\tpeak\tok\tfail\tlag p50\tlag p99\tCPU s\tµs/req\tµs/tok\tratio\tRSS MiB\tsrv CPU s\t")
	for _, r := range rep.Rows {
		if r.Scenario == "climb" {
			continue
		}
		name := r.Client
		if r.Rep > 0 {
			name = fmt.Sprintf("%s#%d", r.Client, r.Rep)
		}
		if r.Err != "" {
			fmt.Fprintf(tw, "%s\t%s\t%.2f\tfailed: %s\t\n", r.Scenario, name, r.Load1, r.Err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%g\t%s\t%.1f\t%s\t%d\t%d\t%.3f\t%.3f\t%.2f\t%.1f\t%.2f\t%s\t%.1f\t%.2f\t\n",
			r.Scenario, name, r.Load1, r.RequestedRate, orDash("%.1f", r.ScheduledRate), r.AchievedRate, orDash("%.0f", float64(r.PeakStreams)), r.OK, r.Failed,
			r.LagP50, r.LagP99, r.CPUSeconds, r.CPUPerReqUS, r.CPUPerTokenUS, ratio(r.CPURatio), r.PeakRSSMiB, r.ServerCPU)
	}
	tw.Flush()

	fmt.Fprintln(w, "\n== timing truth vs the simulator's truth log (ms; ttft err = client ttft - server arrival->first send = send + first)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tclient\treqs\tframes\tttft p50\tttft p99\tsend p50\tfirst p50\tframe p50\tframe p99\tgap p50\tgap p99\t|gap| p50\t|gap| p99\t|gap| p99.9\tgap ratio\t")
	for _, r := range rep.Rows {
		t := r.Truth
		if t == nil {
			continue
		}
		name := r.Client
		if r.Rep > 0 {
			name = fmt.Sprintf("%s#%d", r.Client, r.Rep)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\t\n",
			r.Scenario, name, t.Requests, t.Frames, t.TTFTP50, t.TTFTP99, t.SendP50, t.FirstP50, t.FrameP50, t.FrameP99,
			t.GapP50, t.GapP99, t.GapAbsP50, t.GapAbsP99, t.GapAbsP999, ratio(r.GapRatio))
	}
	tw.Flush()

	if len(rep.Climb) > 0 {
		fmt.Fprintln(w, "\n== climb (pass: lag p99 < 5 ms, no failures, achieved within 1% of the schedule)")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "rate\tachieved\tlag p99 ms\tfailed\tclient CPU %\tpass\t")
		for _, s := range rep.Climb {
			fmt.Fprintf(tw, "%g\t%.1f\t%.3f\t%d\t%.0f\t%v\t\n", s.Rate, s.Achieved, s.LagP99, s.Failed, s.CPUPct, s.Pass)
		}
		tw.Flush()
		fmt.Fprintf(w, "highest rate with lag p99 < 5 ms: %g req/s\n", rep.ClimbMax)
	}
	if s := rep.Soak; s != nil {
		fmt.Fprintf(w, "\n== memory over %d requests at %g req/s (second: RSS MiB / live heap MiB / goroutines)\n", s.Requests, s.Rate)
		for i, smp := range s.Samples {
			fmt.Fprintf(w, "  %4.0fs: %6.1f / %5.1f / %4d", smp.AtS, smp.RSSMiB, smp.HeapLiveMiB, smp.Goroutines)
			if i%4 == 3 || i == len(s.Samples)-1 {
				fmt.Fprintln(w)
			}
		}
	}
	fmt.Fprintln(w, "\n== targets")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range rep.Checks {
		mark := "met"
		if !c.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, c.Target, c.Measured)
	}
	tw.Flush()
}

func orDash(format string, v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func ratio(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3fx", v)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
