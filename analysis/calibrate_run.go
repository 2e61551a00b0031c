package analysis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// RunObservationOptions tune ReadRunObservations.
type RunObservationOptions struct {
	// Scheduler is the target's scheduler (one of sim.Schedulers()), ""
	// for the run's own simulator setting, else continuous batching.
	Scheduler string
	// MaxGaps bounds the frame gaps kept (default 200000): a larger run is
	// subsampled deterministically (every n-th gap).
	MaxGaps int
	// ClusterBase numbers the run's requests for the bootstrap.
	ClusterBase int
}

// defaultMaxGaps is MaxGaps when unset, for one run and for all of a
// calibration's runs together.
const defaultMaxGaps = 200000

// RunObservations is what one run directory says about the server's steps.
type RunObservations struct {
	Dir string
	// Obs are the step observations.
	Obs []StepObservation
	// Requests is the measured (not warm-up) requests with a first token;
	// Gaps the frame gaps they had; Kept those that became observations;
	// IdleTTFT the requests that arrived at an idle server.
	Requests, Gaps, Kept, IdleTTFT int
	// Clusters is how many cluster numbers the run's observations may
	// use, from RunObservationOptions.ClusterBase: the next run's base is
	// ClusterBase + Clusters.
	Clusters int
	// Scheduler is the scheduler the reconstruction assumed.
	Scheduler string
	// Concurrency says whose count of running requests the step loads
	// rest on: ConcurrencyClient or ConcurrencyServer.
	Concurrency string
	// Notes explain the reconstruction (subsampling, skipped gaps, the
	// server's count).
	Notes []string
	// KVTokens is the KV-cache capacity estimated from the server's
	// scraped KV usage (0 when the run has none); KVSamples the scrapes it
	// rests on.
	KVTokens  int
	KVSamples int
	// Simulated is true for a run against the built-in simulator, and
	// SimPreset its preset then (its KV capacity is a fallback).
	Simulated bool
	SimPreset string
}

// The values of RunObservations.Concurrency.
const (
	ConcurrencyClient = "client"
	ConcurrencyServer = "server"
)

// calReq is what the reconstruction keeps of one request.
type calReq struct {
	sent, first, last int64 // ns offsets
	prompt, prefill   float64
	out               float64
}

// emitted is how many tokens r had streamed by t, interpolated between
// its first and last token (whole tokens: at the middle of a step, the
// tokens of the steps before it).
func (r *calReq) emitted(t int64) float64 {
	switch {
	case t < r.first:
		return 0
	case t >= r.last || r.last == r.first:
		return r.out
	}
	return 1 + math.Floor(float64(t-r.first)/float64(r.last-r.first)*(r.out-1))
}

// ErrNoObservations is returned (wrapped) for a run with nothing to fit.
var ErrNoObservations = errors.New("no step observations")

// ReadRunObservations reconstructs the server's step sequence, as the
// client saw it, from a run directory's records: each gap between two
// token-bearing frames of a request is one step (k steps for a frame of k
// tokens), whose load is every request decoding at that time (first token
// before the gap's middle, last token after it) with its context (prompt
// plus tokens streamed so far), plus the prompts of requests whose first
// token came at the gap's end (their prefill ran in that step). A request
// that arrived at an idle server gives its time to first token as one
// prefill step. Warm-up requests count in the load of the steps they
// overlap but give no observations of their own (a cold server's times).
// With the server's scraped metrics (--scrape-metrics), its count of
// running requests is compared with the client's: requests it ran beyond
// this client's (other traffic) are added to each step, and its KV-cache
// usage gives the cache's capacity.
//
// For the chunked-prefill scheduler, gaps while any request waits for its
// first token are left out (its prompt is spread over steps the client
// cannot see); the static scheduler's padding is not modeled.
func ReadRunObservations(dir string, opt RunObservationOptions) (*RunObservations, error) {
	ro := &RunObservations{Dir: dir, Concurrency: ConcurrencyClient}
	rd, err := ReadRunDir(dir)
	if err != nil {
		return nil, err
	}
	ro.Simulated = rd.Info.Simulated
	sched := opt.Scheduler
	if rd.Info.Simulated {
		ro.SimPreset, _ = rd.Profile["sim-preset"].(string)
		if ro.SimPreset == "" {
			ro.SimPreset = sim.DefaultConfig().Preset
		}
		if sched == "" {
			sched, _ = rd.Profile["sim-scheduler"].(string)
			if sched == "" && (rd.Profile["sim-ttft"] != nil || rd.Profile["sim-itl"] != nil) {
				sched = sim.SchedFixed
			}
		}
	}
	if sched == "" {
		sched = sim.SchedContinuous
	}
	if sched == sim.SchedFixed {
		return nil, fmt.Errorf("run %s: its simulator used the fixed engine (--sim-ttft/--sim-itl), which has no cost model to fit; calibrate on a run against a stepped scheduler", dir)
	}
	ro.Scheduler = sched
	maxGaps := opt.MaxGaps
	if maxGaps <= 0 {
		maxGaps = defaultMaxGaps
	}

	// Pass 1: each request's times and lengths.
	var reqs []calReq
	warmup := 0
	err = results.ReadRecords(dir, func(r *results.Record) error {
		if r.FirstTokenNS <= 0 || r.TTFTMS == nil {
			if r.Error == nil {
				return nil
			}
			// A failed request that never streamed: it still occupied
			// the server from its send (waiting); keep it as in flight.
			reqs = append(reqs, calReq{sent: r.SentNS, first: math.MaxInt64, last: max(r.DoneNS, r.SentNS)})
			return nil
		}
		last := float64(r.FirstTokenNS)
		for _, g := range r.ICLMS {
			last += g * 1e6
		}
		prompt := float64(r.InputTokens)
		if r.ServerInputTokens != nil && *r.ServerInputTokens > 0 {
			prompt = float64(*r.ServerInputTokens)
		}
		prefill := prompt
		if r.ServerCachedTokens != nil {
			prefill = max(prompt-float64(*r.ServerCachedTokens), 1)
		}
		out := float64(r.OutputTokens)
		if out < float64(r.Frames) || out <= 0 {
			out = float64(max(r.Frames, 1))
		}
		reqs = append(reqs, calReq{sent: r.SentNS, first: r.FirstTokenNS, last: int64(last), prompt: max(prompt, 1), prefill: max(prefill, 1), out: out})
		if r.Warmup {
			// A warm-up request loaded the server (it is in the steps'
			// load) but its own times are a cold server's: not fitted.
			warmup++
			return nil
		}
		ro.Requests++
		ro.Gaps += len(r.ICLMS)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ro.Requests == 0 {
		if warmup > 0 {
			return nil, fmt.Errorf("run %s: every request that streamed a token is warm-up (%d): %w; calibrate on a run with a measured window", dir, warmup, ErrNoObservations)
		}
		return nil, fmt.Errorf("run %s: no request streamed a token: %w", dir, ErrNoObservations)
	}
	ro.Clusters = len(reqs)
	idx := newSpanIndex(reqs)

	// The server's running count and KV usage, when scraped.
	excess, kvNote := ro.readServerMetrics(dir, reqs, idx)
	if kvNote != "" {
		ro.Notes = append(ro.Notes, kvNote)
	}

	stride := 1
	if ro.Gaps > maxGaps {
		stride = (ro.Gaps + maxGaps - 1) / maxGaps
		ro.Notes = append(ro.Notes, fmt.Sprintf("%d frame gaps: every %d-th kept (memory bound)", ro.Gaps, stride))
	}
	// Idle arrivals give one observation per request: bounded the same
	// way, by the measured requests.
	idleStride := 1
	if ro.Requests > maxGaps {
		idleStride = (ro.Requests + maxGaps - 1) / maxGaps
		ro.Notes = append(ro.Notes, fmt.Sprintf("%d requests: every %d-th considered for an idle-arrival prefill step (memory bound)", ro.Requests, idleStride))
	}
	chunked := sched == sim.SchedChunked
	skippedChunked := 0
	// Pass 2: the observations.
	gapNo, ri, measured := 0, -1, 0
	err = results.ReadRecords(dir, func(r *results.Record) error {
		if r.FirstTokenNS <= 0 || r.TTFTMS == nil {
			if r.Error != nil {
				ri++
			}
			return nil
		}
		ri++
		if r.Warmup {
			return nil
		}
		measured++
		cluster := opt.ClusterBase + ri
		me := &reqs[ri]
		// Idle arrival: nothing else in flight from its send to its first
		// token.
		// (With other clients' requests on the server, it was not idle.)
		if r.Error == nil && (measured-1)%idleStride == 0 && !idx.anyOverlap(reqs, ri, me.sent, me.first) && (excess == nil || excess(me.sent)+excess(me.first) == 0) {
			ro.Obs = append(ro.Obs, StepObservation{Class: ObsIdleTTFT, Tokens: me.prefill, Context: me.prompt, Steps: 1,
				MS: float64(me.first-me.sent) / 1e6, Cluster: cluster, Label: fmt.Sprintf("%s request %s ttft", filepath.Base(dir), r.ID)})
			ro.IdleTTFT++
		}
		t1 := float64(me.first)
		done := 1.0
		for j, g := range r.ICLMS {
			t2 := t1 + g*1e6
			k := 1
			if j+1 < len(r.FrameTokens) {
				k = max(r.FrameTokens[j+1], 1)
			} else if len(r.FrameTokens) == 0 && r.Frames > 0 && me.out > float64(r.Frames) {
				k = int(math.Round(me.out / float64(r.Frames)))
			}
			gapNo++
			if (gapNo-1)%stride != 0 || g <= 0 {
				t1 = t2
				done += float64(k)
				continue
			}
			step := (t2 - t1) / float64(k)
			mid := int64(t2 - step/2)
			hi := int64(t2 + step/2)
			var dec, ctx, pre, preCtx float64
			waiting := false
			idx.each(mid, func(q int) {
				o := &reqs[q]
				switch {
				case q == ri:
					dec++
					ctx += o.prompt + done
				case o.first < mid && o.last > mid:
					dec++
					ctx += o.prompt + o.emitted(mid)
				case o.first > mid && o.first <= hi && o.sent < o.first:
					pre += o.prefill
					preCtx += o.prompt
				case o.sent < mid && o.first > hi:
					waiting = true
				}
			})
			t1 = t2
			done += float64(k)
			if chunked && (waiting || pre > 0) {
				skippedChunked++
				continue
			}
			if excess != nil {
				if x := excess(mid); x > 0 {
					ctx += x * ctx / dec
					dec += x
				}
			}
			ro.Obs = append(ro.Obs, StepObservation{Class: ObsDecodeGap, Tokens: dec + pre/float64(k), Decodes: dec,
				Context: ctx + preCtx/float64(k), Steps: k, MS: g, Cluster: cluster,
				Label: fmt.Sprintf("%s request %s gap %d", filepath.Base(dir), r.ID, j+1)})
			ro.Kept++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if skippedChunked > 0 {
		ro.Notes = append(ro.Notes, fmt.Sprintf("chunked prefill: %d gaps while a prompt was being prefilled were left out (its chunks are not visible to the client); per_token then rests on idle arrivals", skippedChunked))
	}
	if sched == sim.SchedStatic {
		ro.Notes = append(ro.Notes, "static batching: finished sequences that keep their slot until the batch ends are not counted in the steps' load")
	}
	if ro.Kept == 0 && ro.IdleTTFT == 0 {
		return nil, fmt.Errorf("run %s: no frame gaps (every request streamed a single frame?): %w; use a longer --output-tokens", dir, ErrNoObservations)
	}
	return ro, nil
}

// spanIndex finds the requests in flight at a time: buckets of width w,
// each listing the requests whose [sent, last] overlaps it.
type spanIndex struct {
	t0, w   int64
	buckets [][]int32
}

// maxIndexEntries bounds the index's memory.
const maxIndexEntries = 4 << 20

func newSpanIndex(reqs []calReq) *spanIndex {
	lo, hi := int64(math.MaxInt64), int64(0)
	var total float64
	for _, r := range reqs {
		lo = min(lo, r.sent)
		hi = max(hi, r.last)
		total += float64(r.last - r.sent)
	}
	w := int64(100e6)
	if need := int64(total / maxIndexEntries); need > w {
		w = need
	}
	if span := hi - lo; span/w > maxIndexEntries {
		w = span/maxIndexEntries + 1
	}
	ix := &spanIndex{t0: lo, w: w, buckets: make([][]int32, (hi-lo)/w+1)}
	for i, r := range reqs {
		for b := (r.sent - lo) / w; b <= (r.last-lo)/w; b++ {
			ix.buckets[b] = append(ix.buckets[b], int32(i))
		}
	}
	return ix
}

func (ix *spanIndex) each(t int64, fn func(int)) {
	b := (t - ix.t0) / ix.w
	if b < 0 || b >= int64(len(ix.buckets)) {
		return
	}
	for _, i := range ix.buckets[b] {
		fn(int(i))
	}
}

// anyOverlap reports whether a request other than me was in flight
// somewhere in [a, b].
func (ix *spanIndex) anyOverlap(reqs []calReq, me int, a, b int64) bool {
	for bk := max((a-ix.t0)/ix.w, 0); bk <= (b-ix.t0)/ix.w && bk < int64(len(ix.buckets)); bk++ {
		for _, i := range ix.buckets[bk] {
			if int(i) != me && reqs[i].sent < b && reqs[i].last > a {
				return true
			}
		}
	}
	return false
}

// readServerMetrics reads the scraped running count and KV usage. It
// returns the running requests the server had beyond the client's
// reconstruction as a function of time (nil when the two agree or there
// is no scrape), and a note on the KV estimate.
func (ro *RunObservations) readServerMetrics(dir string, reqs []calReq, idx *spanIndex) (func(int64) float64, string) {
	f, err := os.Open(filepath.Join(dir, ServerMetricsFile))
	if errors.Is(err, fs.ErrNotExist) {
		ro.Notes = append(ro.Notes, "no server metrics (run with --scrape-metrics): the steps' load is the client's reconstruction of the running requests")
		return nil, ""
	}
	if err != nil {
		ro.Notes = append(ro.Notes, fmt.Sprintf("server metrics unreadable (%v): the client's reconstruction is used", err))
		return nil, ""
	}
	defer f.Close()
	type sample struct {
		t int64
		v float64
	}
	var running []sample
	var kvUsed, kvFrac float64
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, rerr := br.ReadBytes('\n')
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var s struct {
				TNS   *int64   `json:"t_ns"`
				Name  string   `json:"name"`
				Value *float64 `json:"value"`
			}
			if json.Unmarshal(t, &s) == nil && s.TNS != nil && s.Value != nil && !math.IsNaN(*s.Value) && !math.IsInf(*s.Value, 0) {
				switch s.Name {
				case "vllm:num_requests_running":
					running = append(running, sample{*s.TNS, *s.Value})
				case "vllm:kv_cache_usage_perc":
					if *s.Value > 0.001 {
						used := 0.0
						idx.each(*s.TNS, func(q int) {
							o := &reqs[q]
							if o.first <= *s.TNS && o.last > *s.TNS {
								used += o.prompt + o.emitted(*s.TNS)
							}
						})
						if used > 0 {
							kvUsed += used
							kvFrac += *s.Value
							ro.KVSamples++
						}
					}
				}
			}
		}
		if rerr != nil {
			break
		}
	}
	if len(running) == 0 {
		ro.Notes = append(ro.Notes, "server metrics without vllm:num_requests_running: the client's reconstruction is used")
		return nil, ""
	}
	sort.Slice(running, func(a, b int) bool { return running[a].t < running[b].t })
	diffs := make([]float64, len(running))
	var sum float64
	for i, s := range running {
		client := 0.0
		idx.each(s.t, func(q int) {
			if reqs[q].first <= s.t && reqs[q].last > s.t {
				client++
			}
		})
		diffs[i] = s.v - client
		sum += diffs[i]
	}
	mean := sum / float64(len(diffs))
	var excess func(int64) float64
	if mean > 0.5 {
		ro.Concurrency = ConcurrencyServer
		ts := make([]int64, len(running))
		for i, s := range running {
			ts[i] = s.t
		}
		excess = func(t int64) float64 {
			i, _ := slices.BinarySearch(ts, t)
			i = min(i, len(ts)-1)
			if i > 0 && t-ts[i-1] < ts[i]-t {
				i--
			}
			return max(diffs[i], 0)
		}
		ro.Notes = append(ro.Notes, fmt.Sprintf("the server's running count (%d scrapes) is %.1f above this run's own on average (other clients?): the steps' load adds the difference, at this run's mean context", len(running), mean))
	} else {
		ro.Notes = append(ro.Notes, fmt.Sprintf("the server's running count (%d scrapes) agrees with the client's reconstruction (mean difference %+.2f), which is used (it is exact per step)", len(running), mean))
	}
	note := ""
	if kvFrac > 0 && ro.Concurrency == ConcurrencyClient {
		ro.KVTokens = int(math.Round(kvUsed / kvFrac))
		note = fmt.Sprintf("KV-cache capacity ≈ %d tokens, from %d scrapes of the server's KV usage", ro.KVTokens, ro.KVSamples)
	}
	return excess, note
}
