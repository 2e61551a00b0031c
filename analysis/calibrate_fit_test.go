package analysis_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// synthetic draws step observations from model m: decode steps of
// batch b at per-sequence context ctx, prefill steps of p tokens, with
// relative noise and a share of late-frame outliers.
func synthetic(m sim.CostModel, ctxs []int, prefills []int, noise, outliers float64, seed uint64) []analysis.StepObservation {
	rng := rand.New(rand.NewPCG(seed, 1))
	var obs []analysis.StepObservation
	add := func(l sim.StepLoad, class string) {
		ms := float64(m.StepTime(l)) / 1e6 * (1 + noise*rng.NormFloat64())
		if rng.Float64() < outliers {
			ms *= 4
		}
		obs = append(obs, analysis.StepObservation{Class: class, Tokens: float64(l.Tokens), Decodes: float64(l.Decodes),
			Context: float64(l.Context), Steps: 1, MS: ms, Cluster: len(obs) / 4})
	}
	for _, b := range []int{1, 2, 4, 8, 16, 32} {
		for _, c := range ctxs {
			add(sim.StepLoad{Tokens: b, Decodes: b, Context: int64(b * c)}, analysis.ObsDecodeGap)
			for _, p := range prefills {
				add(sim.StepLoad{Tokens: b + p, Decodes: b, Context: int64(b*c + p)}, analysis.ObsDecodeGap)
			}
		}
	}
	for _, p := range append([]int{20, 60, 100}, prefills...) {
		add(sim.StepLoad{Tokens: p, Context: int64(p)}, analysis.ObsIdleTTFT)
	}
	return obs
}

func param(t *testing.T, cal *analysis.Calibration, name string) analysis.CalibrationParam {
	t.Helper()
	for _, p := range cal.Params {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no parameter %s", name)
	return analysis.CalibrationParam{}
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) {
		t.Errorf("%s: got %g, want %g ± %.0f%%", what, got, want, 100*tol)
	}
}

func TestFitCostModelSynthetic(t *testing.T) {
	truth, _ := sim.Preset("h100-llama8b")
	floored := truth
	floored.LaunchFloor = 12 * time.Millisecond
	floored.DecodeLaunchFloor = 15 * time.Millisecond
	for _, tc := range []struct {
		name     string
		m        sim.CostModel
		ctxs     []int
		prefills []int
		outliers float64
		noise    float64 // default 0.5%
		// want: identifiable linear terms and floors
		perCtx, floors bool
		warn           string
	}{
		{name: "clean", m: truth, ctxs: []int{300, 1500, 4000}, prefills: []int{200, 1000}, perCtx: true, warn: "launch floors are not identifiable"},
		{name: "outliers", m: truth, ctxs: []int{300, 1500, 4000}, prefills: []int{200, 1000}, outliers: 0.1, perCtx: true},
		// Noise must not pass for a floor at the bottom of the data.
		{name: "noisy, no floor", m: truth, ctxs: []int{300, 1500, 4000}, prefills: []int{200, 1000}, noise: 0.02, outliers: 0.05, perCtx: true},
		{name: "floors", m: floored, ctxs: []int{300, 1500, 4000}, prefills: []int{200, 1000}, perCtx: true, floors: true},
		// One context length: context is batch × 1000, the same
		// direction as the batch's tokens in decode steps; prefill steps
		// alone cannot tell per_context_token from per_token.
		{name: "one prompt length", m: truth, ctxs: []int{1000}, prefills: nil, warn: "not identifiable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noise := tc.noise
			if noise == 0 {
				noise = 0.005
			}
			var obs []analysis.StepObservation
			for rep := uint64(0); rep < 20; rep++ {
				obs = append(obs, synthetic(tc.m, tc.ctxs, tc.prefills, noise, tc.outliers, 7+rep)...)
			}
			cal, err := analysis.FitCostModel(obs, analysis.CalibrateOptions{KVTokens: 1000, Seed: 1, Bootstrap: 20})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range cal.Warnings {
				t.Log("warning:", w)
			}
			m := cal.Model
			within(t, "overhead+weight_read", float64(m.Overhead+m.WeightRead), float64(tc.m.Overhead+tc.m.WeightRead), 0.03)
			if tc.perCtx {
				within(t, "per_token", float64(m.PerToken), float64(tc.m.PerToken), 0.03)
				within(t, "per_context_token", m.PerContextToken, tc.m.PerContextToken, 0.05)
				if p := param(t, cal, "per_context_token_ns"); !p.Identifiable || p.SE <= 0 {
					t.Errorf("per_context_token: %+v, want identifiable with a ±", p)
				}
			}
			if tc.floors {
				within(t, "launch_floor", float64(m.LaunchFloor), float64(tc.m.Overhead+tc.m.LaunchFloor), 0.03)
				within(t, "decode_launch_floor", float64(m.DecodeLaunchFloor), float64(tc.m.Overhead+tc.m.DecodeLaunchFloor), 0.03)
			} else if m.LaunchFloor != 0 || m.DecodeLaunchFloor != 0 {
				t.Errorf("floors %s, %s where the model has none", m.LaunchFloor, m.DecodeLaunchFloor)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(cal.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", cal.Warnings, tc.warn)
			}
			// Whatever is identifiable, the fitted model explains the
			// clean steps.
			for _, r := range cal.Residuals {
				if r.P50 > 2*noise {
					t.Errorf("%s: residual p50 %.3f", r.Class, r.P50)
				}
			}
		})
	}
}

func TestFitCostModelTooFew(t *testing.T) {
	_, err := analysis.FitCostModel([]analysis.StepObservation{{Class: "x", MS: 1, Steps: 1}}, analysis.CalibrateOptions{})
	if err == nil || !strings.Contains(err.Error(), "at least 3") {
		t.Fatalf("got %v", err)
	}
}

// writeCalRun writes records as a run directory.
func writeCalRun(t *testing.T, recs []results.Record) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, results.RequestsFile))
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	return dir
}

// streamed is a record sent at sent ms whose frames (one token each)
// arrive at the given ms.
func streamed(id string, sent float64, prompt int, frames ...float64) results.Record {
	r := results.Record{ID: id, SentNS: int64(sent * 1e6), FirstTokenNS: int64(frames[0] * 1e6), InputTokens: prompt,
		OutputTokens: len(frames), Frames: len(frames), TTFTMS: results.Ms(frames[0] - sent)}
	for i := 1; i < len(frames); i++ {
		r.ICLMS = append(r.ICLMS, frames[i]-frames[i-1])
	}
	r.DoneNS = int64(frames[len(frames)-1]*1e6) + 1
	return r
}

func every(from, step float64, n int) []float64 {
	var out []float64
	for i := 0; i < n; i++ {
		out = append(out, from+step*float64(i))
	}
	return out
}

// TestReadRunObservations checks the reconstruction on a hand-made
// timeline: A arrives at an idle server (prefill 10 ms), decodes a token
// every 5 ms; B arrives at 22 ms and its prefill runs in A's step that
// ends at 30 ms, with A's decode.
func TestReadRunObservations(t *testing.T) {
	a := streamed("A", 0, 100, every(10, 5, 8)...)  // 10, 15, ..., 45
	b := streamed("B", 22, 200, every(30, 5, 4)...) // 30, 35, 40, 45
	dir := writeCalRun(t, []results.Record{a, b})
	ro, err := analysis.ReadRunObservations(dir, analysis.RunObservationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Requests != 2 || ro.Gaps != 10 || ro.Kept != 10 || ro.IdleTTFT != 1 || ro.Scheduler != sim.SchedContinuous || ro.Concurrency != analysis.ConcurrencyClient {
		t.Fatalf("%+v", ro)
	}
	type load struct{ tok, dec, ctx float64 }
	got := map[string]load{}
	for _, o := range ro.Obs {
		got[o.Label[strings.Index(o.Label, " ")+1:]] = load{o.Tokens, o.Decodes, o.Context}
	}
	for label, want := range map[string]load{
		"request A ttft":  {100, 0, 100},
		"request A gap 1": {1, 1, 101},         // 10→15: A alone, 1 token out
		"request A gap 4": {201, 1, 104 + 200}, // 25→30: B's prefill too
		"request A gap 5": {2, 2, 105 + 201},   // 30→35: A and B decode
		"request B gap 1": {2, 2, 105 + 201},   // the same step, seen by B
		"request A gap 7": {2, 2, 107 + 203},   // 40→45: both finish
	} {
		if g, ok := got[label]; !ok || math.Abs(g.tok-want.tok) > 1e-9 || g.dec != want.dec || math.Abs(g.ctx-want.ctx) > 1e-9 {
			t.Errorf("%s: got %+v (present %v), want %+v", label, g, ok, want)
		}
	}
}

// TestReadRunObservationsMultiToken: a frame of 2 tokens after a 10 ms
// gap is two steps of 5 ms.
func TestReadRunObservationsMultiToken(t *testing.T) {
	a := streamed("A", 0, 100, 10, 20, 25)
	a.FrameTokens = []int{1, 2, 1}
	a.OutputTokens = 4
	dir := writeCalRun(t, []results.Record{a})
	ro, err := analysis.ReadRunObservations(dir, analysis.RunObservationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var gaps []analysis.StepObservation
	for _, o := range ro.Obs {
		if o.Class == analysis.ObsDecodeGap {
			gaps = append(gaps, o)
		}
	}
	if len(gaps) != 2 || gaps[0].Steps != 2 || gaps[0].MS != 10 || gaps[1].Steps != 1 || gaps[1].Context != 103 {
		t.Errorf("gaps %+v", gaps)
	}
}

func TestReadRunObservationsChunkedAndCap(t *testing.T) {
	a := streamed("A", 0, 100, every(10, 5, 8)...)
	b := streamed("B", 22, 200, every(30, 5, 4)...)
	dir := writeCalRun(t, []results.Record{a, b})
	ro, err := analysis.ReadRunObservations(dir, analysis.RunObservationOptions{Scheduler: sim.SchedChunked})
	if err != nil {
		t.Fatal(err)
	}
	// A's gaps 3 and 4 (B waiting or prefilling) are left out.
	if ro.Kept != 8 || !strings.Contains(strings.Join(ro.Notes, "\n"), "chunked prefill: 2 gaps") {
		t.Errorf("chunked: kept %d, notes %q", ro.Kept, ro.Notes)
	}
	ro, err = analysis.ReadRunObservations(dir, analysis.RunObservationOptions{MaxGaps: 4})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Kept != 4 || ro.Gaps != 10 {
		t.Errorf("cap 4: kept %d of %d", ro.Kept, ro.Gaps)
	}
}

func TestReadRunObservationsErrors(t *testing.T) {
	empty := writeCalRun(t, nil)
	if _, err := analysis.ReadRunObservations(empty, analysis.RunObservationOptions{}); !errors.Is(err, analysis.ErrNoObservations) {
		t.Errorf("empty run: %v", err)
	}
	// Two overlapping single-frame requests: no gaps, no idle arrival.
	one := writeCalRun(t, []results.Record{streamed("A", 0, 10, 5), streamed("B", 1, 10, 5)})
	if _, err := analysis.ReadRunObservations(one, analysis.RunObservationOptions{}); !errors.Is(err, analysis.ErrNoObservations) || !strings.Contains(err.Error(), "--output-tokens") {
		t.Errorf("single frames: %v", err)
	}
	if _, err := analysis.ReadRunObservations(t.TempDir(), analysis.RunObservationOptions{}); err == nil {
		t.Error("no requests.jsonl: no error")
	}
}

// TestReadRunObservationsServerCount: the server ran 3 requests more than
// this client sent (other traffic): each step's load adds them, and the
// run says the server's count was used.
func TestReadRunObservationsServerCount(t *testing.T) {
	a := streamed("A", 0, 100, every(10, 5, 200)...)
	dir := writeCalRun(t, []results.Record{a})
	var lines []string
	for ms := 20; ms < 1000; ms += 100 {
		lines = append(lines, fmt.Sprintf(`{"t_ns":%d,"name":"vllm:num_requests_running","value":4}`, ms*1e6))
	}
	if err := os.WriteFile(filepath.Join(dir, analysis.ServerMetricsFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ro, err := analysis.ReadRunObservations(dir, analysis.RunObservationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Concurrency != analysis.ConcurrencyServer || ro.IdleTTFT != 0 {
		t.Fatalf("concurrency %q, notes %q", ro.Concurrency, ro.Notes)
	}
	for _, o := range ro.Obs {
		if o.Class == analysis.ObsDecodeGap && o.Decodes != 4 {
			t.Fatalf("%s: %v decodes, want 4", o.Label, o.Decodes)
		}
	}
}

// TestReadRunObservationsWarmup: a warm-up request gives no observation of
// its own but loads the steps it overlaps; the cluster numbers cover every
// request, so the next run's start after them.
func TestReadRunObservationsWarmup(t *testing.T) {
	a := streamed("A", 0, 100, every(10, 5, 8)...)
	b := streamed("B", 22, 200, every(30, 5, 4)...)
	a.Warmup = true
	dir := writeCalRun(t, []results.Record{a, b})
	ro, err := analysis.ReadRunObservations(dir, analysis.RunObservationOptions{ClusterBase: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Requests != 1 || ro.Gaps != 3 || ro.Kept != 3 || ro.IdleTTFT != 0 || ro.Clusters != 2 {
		t.Fatalf("%+v", ro)
	}
	for _, o := range ro.Obs {
		if !strings.Contains(o.Label, "request B") {
			t.Errorf("an observation of the warm-up request: %s", o.Label)
		}
		if o.Decodes != 2 { // A still decodes beside B
			t.Errorf("%s: %g decoding, want 2 (the warm-up request loads the step)", o.Label, o.Decodes)
		}
		if o.Cluster < 10 || o.Cluster >= 10+ro.Clusters {
			t.Errorf("%s: cluster %d outside [10, %d)", o.Label, o.Cluster, 10+ro.Clusters)
		}
	}
	a.Warmup, b.Warmup = true, true
	if _, err := analysis.ReadRunObservations(writeCalRun(t, []results.Record{a, b}), analysis.RunObservationOptions{}); !errors.Is(err, analysis.ErrNoObservations) || !strings.Contains(err.Error(), "warm-up") {
		t.Errorf("only warm-up: %v", err)
	}
}

// TestReadRunObservationsIdleBound: idle arrivals (one observation each)
// are bounded by MaxGaps too, so a long run of lone requests does not hold
// one observation per request.
func TestReadRunObservationsIdleBound(t *testing.T) {
	var recs []results.Record
	for i := range 40 {
		sent := float64(i) * 1000 // each alone on the server
		recs = append(recs, streamed(fmt.Sprint(i), sent, 100, sent+10, sent+15))
	}
	dir := writeCalRun(t, recs)
	ro, err := analysis.ReadRunObservations(dir, analysis.RunObservationOptions{MaxGaps: 10})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Requests != 40 || ro.IdleTTFT != 10 || ro.Kept != 10 || len(ro.Obs) != 20 {
		t.Errorf("requests %d, idle %d, gaps kept %d, observations %d; want 40, 10, 10, 20", ro.Requests, ro.IdleTTFT, ro.Kept, len(ro.Obs))
	}
	if !strings.Contains(strings.Join(ro.Notes, "\n"), "40 requests: every 4-th considered") {
		t.Errorf("notes %q", ro.Notes)
	}
}
