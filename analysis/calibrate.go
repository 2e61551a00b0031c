package analysis

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/targets/sim"
)

// The classes of step observations, as StepObservation.Class and in the
// residual table.
const (
	// ObsDecodeGap is the gap between two token-bearing frames of one
	// request: one engine step (k steps for a frame of k tokens).
	ObsDecodeGap = "decode-gap"
	// ObsIdleTTFT is the time to first token of a request that arrived at
	// an idle server: its prefill step (plus the network).
	ObsIdleTTFT = "idle-ttft"
	// ObsPrefill and ObsDecode are steps of a step-timing file.
	ObsPrefill = "prefill"
	ObsDecode  = "decode"
)

// StepObservation is one observed engine step, or Steps equal steps in a
// row (a frame that carried several tokens). Load is per step and may be
// fractional (a prompt spread over the steps of a multi-token frame).
type StepObservation struct {
	Class string
	// Tokens, Decodes and Context are the step's load, as sim.StepLoad
	// counts it.
	Tokens, Decodes, Context float64
	// Steps is how many steps the observation spans (at least 1).
	Steps int
	// MS is the observed duration of all Steps steps.
	MS float64
	// Cluster groups the observations of one request (one point of a
	// step-timing file) for the bootstrap.
	Cluster int
	// Label says where the observation comes from, for the worst points.
	Label string
}

// perStep is the observed duration of one step.
func (o *StepObservation) perStep() float64 { return o.MS / float64(max(o.Steps, 1)) }

// CalibrateOptions tune FitCostModel.
type CalibrateOptions struct {
	// Name and Description go into the fitted model.
	Name, Description string
	// KVTokens is the fitted model's KV capacity (the fit cannot see it).
	KVTokens int
	// Bootstrap is the number of cluster resamples for the standard
	// errors (default 40; negative: none).
	Bootstrap int
	// Seed seeds the bootstrap.
	Seed uint64
}

// CalibrationParam is one fitted term of the cost model.
type CalibrationParam struct {
	// Name is the preset file's key.
	Name string `json:"name" yaml:"name"`
	// Value and SE (the bootstrap standard error; 0 when not computed) are
	// in Unit.
	Value float64 `json:"value" yaml:"value"`
	SE    float64 `json:"se" yaml:"se"`
	Unit  string  `json:"unit" yaml:"unit"`
	// Identifiable is false when these observations cannot pin the term
	// down; Note then says which convention the preset uses.
	Identifiable bool   `json:"identifiable" yaml:"identifiable"`
	Note         string `json:"note,omitempty" yaml:"note,omitempty"`
}

// ResidualStats summarises the relative residuals (observed − fitted) /
// fitted of one class of observations.
type ResidualStats struct {
	Class string `json:"class" yaml:"class"`
	N     int    `json:"n" yaml:"n"`
	// P50 and P99 are quantiles of |residual|; Median is the signed
	// median (a bias).
	P50    float64 `json:"p50" yaml:"p50"`
	P99    float64 `json:"p99" yaml:"p99"`
	Median float64 `json:"median" yaml:"median"`
}

// WorstPoint is an observation the fit explains worst.
type WorstPoint struct {
	Class   string  `json:"class" yaml:"class"`
	Label   string  `json:"label" yaml:"label"`
	Tokens  float64 `json:"tokens" yaml:"tokens"`
	Decodes float64 `json:"decodes" yaml:"decodes"`
	Context float64 `json:"context" yaml:"context"`
	MS      float64 `json:"ms" yaml:"ms"`
	FitMS   float64 `json:"fit_ms" yaml:"fit_ms"`
	Rel     float64 `json:"rel" yaml:"rel"`
}

// Calibration is a fitted cost model with what the fit knows about it. It
// is also the provenance a preset file carries (its "fit" key).
type Calibration struct {
	Model sim.CostModel `json:"-" yaml:"-"`
	// Sources are the inputs, filled by the caller.
	Sources []CalibrationSource `json:"sources" yaml:"sources"`
	// Convention says how the preset fills what the fit cannot see.
	Convention string `json:"convention" yaml:"convention"`
	// KVTokensSource says where the KV capacity came from.
	KVTokensSource string             `json:"kv_tokens_source" yaml:"kv_tokens_source"`
	Params         []CalibrationParam `json:"params" yaml:"params"`
	Residuals      []ResidualStats    `json:"residuals" yaml:"residuals"`
	Worst          []WorstPoint       `json:"worst" yaml:"worst"`
	// Warnings say what the data could not pin down and which run to add.
	Warnings []string `json:"warnings,omitempty" yaml:"warnings,omitempty"`
	// Observations is how many observations went in; Downweighted how
	// many the robust fit gave less than half weight (outliers: GC
	// pauses, late frames).
	Observations int `json:"observations" yaml:"observations"`
	Downweighted int `json:"downweighted" yaml:"downweighted"`
}

// CalibrationSource is one input of a calibration.
type CalibrationSource struct {
	Path string `json:"path" yaml:"path"`
	// Kind is "run" or "step-timing".
	Kind         string `json:"kind" yaml:"kind"`
	Observations int    `json:"observations" yaml:"observations"`
	// Requests, Scheduler and Concurrency describe a run (see
	// RunObservations).
	Requests    int      `json:"requests,omitempty" yaml:"requests,omitempty"`
	Scheduler   string   `json:"scheduler,omitempty" yaml:"scheduler,omitempty"`
	Concurrency string   `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	Notes       []string `json:"notes,omitempty" yaml:"notes,omitempty"`
}

// FitConvention is how a fitted preset fills what step times cannot show.
const FitConvention = "overhead is folded into weight_read and the floors (overhead 0); a term marked not identifiable is 0"

// The parameters of the fit, in ms: c0 = Overhead + WeightRead, a =
// PerToken, b = PerContextToken, fp and fd the floors (Overhead +
// LaunchFloor, Overhead + DecodeLaunchFloor) of prefill-only and decoding
// steps.
const (
	pC0 = iota
	pA
	pB
	pFp
	pFd
	nParams
)

// weakAdvice says which observations pin each parameter down.
var weakAdvice = [nParams]string{
	"few steps sit between the floors and large batches; add a run at a moderate rate with short prompts",
	"add a run with longer prompts, so prefill shows in more steps",
	"add a run with prompts of another length, so the KV-cache read varies apart from the batch",
	"only a few prefill-only steps sit on it; add a run at a low rate with short prompts",
	"only a few decoding steps sit on it; add a run at a low rate",
}

var paramNames = [nParams]string{"weight_read", "per_token", "per_context_token_ns", "launch_floor", "decode_launch_floor"}

type fitVec [nParams]float64

// fitData is the observations in columns.
type fitData struct {
	y, t, c []float64
	dec     []bool
	cl      []int
}

func newFitData(obs []StepObservation) fitData {
	d := fitData{y: make([]float64, len(obs)), t: make([]float64, len(obs)), c: make([]float64, len(obs)),
		dec: make([]bool, len(obs)), cl: make([]int, len(obs))}
	for i := range obs {
		o := &obs[i]
		d.y[i], d.t[i], d.c[i], d.dec[i], d.cl[i] = o.perStep(), o.Tokens, o.Context, o.Decodes > 0, o.Cluster
	}
	return d
}

func (p *fitVec) lin(d *fitData, i int) float64 { return p[pC0] + p[pA]*d.t[i] + p[pB]*d.c[i] }

// pred is the model's step time for observation i, and whether its floor
// is the active part.
func (p *fitVec) pred(d *fitData, i int) (float64, bool) {
	l := p.lin(d, i)
	f := p[pFp]
	if d.dec[i] {
		f = p[pFd]
	}
	if f > l {
		return f, true
	}
	return l, false
}

// fitResult is one robust fit.
type fitResult struct {
	p      fitVec
	free   [nParams]bool
	w      []float64 // final robust weights (relative)
	onFl   []bool
	obj    float64
	scale  float64
	normal [3][3]float64 // weighted normal matrix of the linear part
}

// robustFit fits the hinge model to d by iteratively reweighted least
// squares on relative residuals (Huber weights, points beyond 8 robust
// scales dropped), alternating with the assignment of each point to the
// floor or the linear part. mult is each point's multiplicity (bootstrap),
// nil for 1. Parameters not in free stay at start's values.
func robustFit(d *fitData, start fitVec, free [nParams]bool, mult []float64) fitResult {
	n := len(d.y)
	p := start
	w := make([]float64, n)
	onFl := make([]bool, n)
	r := make([]float64, n)
	abs := make([]float64, 0, n)
	scale := 0.05
	for iter := 0; iter < 40; iter++ {
		// Residuals and scale.
		abs = abs[:0]
		for i := 0; i < n; i++ {
			f, fl := p.pred(d, i)
			onFl[i] = fl
			if f <= 0 {
				f = d.y[i]
			}
			r[i] = (d.y[i] - f) / f
			if mult == nil || mult[i] > 0 {
				abs = append(abs, math.Abs(r[i]))
			}
		}
		if iter > 0 {
			scale = max(1.4826*median(abs), 0.002)
		}
		for i := 0; i < n; i++ {
			f, _ := p.pred(d, i)
			if f <= 0 {
				f = d.y[i]
			}
			u := math.Abs(r[i]) / scale
			wt := 1.0
			switch {
			case iter > 0 && u > 8:
				wt = 0
			case u > 1.345:
				wt = 1.345 / u
			}
			w[i] = wt
			if mult != nil {
				wt *= mult[i]
			}
			r[i] = wt / (f * f) // reuse as the least-squares weight
		}
		next := solveHinge(d, p, free, onFl, r)
		// Floors nobody sits on are dropped.
		for _, k := range [...]int{pFp, pFd} {
			if !free[k] {
				continue
			}
			any := false
			for i := 0; i < n; i++ {
				if onFl[i] && d.dec[i] == (k == pFd) && r[i] > 0 {
					any = true
					break
				}
			}
			if !any {
				next[k] = 0
			}
		}
		done := true
		for k := range next {
			if math.Abs(next[k]-p[k]) > 1e-7*max(math.Abs(p[k]), 1e-9) {
				done = false
			}
		}
		p = next
		if done && iter > 2 {
			break
		}
	}
	res := fitResult{p: p, free: free, w: w, onFl: onFl, scale: scale}
	for i := 0; i < n; i++ {
		f, fl := p.pred(d, i)
		onFl[i] = fl
		rel := (d.y[i] - f) / max(f, 1e-9)
		m := 1.0
		if mult != nil {
			m = mult[i]
		}
		res.obj += m * min(rel*rel, 0.1*0.1)
		if !fl {
			x := [3]float64{1, d.t[i], d.c[i]}
			wt := m * w[i] / max(f*f, 1e-18)
			for a := 0; a < 3; a++ {
				for b := 0; b < 3; b++ {
					res.normal[a][b] += wt * x[a] * x[b]
				}
			}
		}
	}
	return res
}

// solveHinge solves the weighted least squares of one assignment: points
// on a floor fit that floor (an intercept), the others the linear part.
// A negative linear term is pinned at 0 and the rest refitted.
func solveHinge(d *fitData, p fitVec, free [nParams]bool, onFl []bool, wt []float64) fitVec {
	lfree := [3]bool{free[pC0], free[pA], free[pB]}
	out := p
	for attempt := 0; attempt < 4; attempt++ {
		var A [3][3]float64
		var rhs [3]float64
		var fs, fw [2]float64
		for i := range d.y {
			if wt[i] == 0 {
				continue
			}
			if onFl[i] {
				k := 0
				if d.dec[i] {
					k = 1
				}
				fs[k] += wt[i] * d.y[i]
				fw[k] += wt[i]
				continue
			}
			x := [3]float64{1, d.t[i], d.c[i]}
			// The fixed parameters move to the left-hand side.
			y := d.y[i]
			for a := 0; a < 3; a++ {
				if !lfree[a] {
					y -= p[a] * x[a]
				}
			}
			for a := 0; a < 3; a++ {
				rhs[a] += wt[i] * x[a] * y
				for b := 0; b < 3; b++ {
					A[a][b] += wt[i] * x[a] * x[b]
				}
			}
		}
		sol, ok := solveMasked(A, rhs, lfree)
		neg := false
		for a := 0; a < 3; a++ {
			if !lfree[a] {
				continue
			}
			if !ok[a] {
				out[a] = 0
				continue
			}
			out[a] = sol[a]
			if sol[a] < 0 {
				neg = true
			}
		}
		for k := 0; k < 2; k++ {
			idx := pFp + k
			if free[idx] && fw[k] > 0 {
				out[idx] = fs[k] / fw[k]
			}
		}
		if !neg {
			break
		}
		for a := 0; a < 3; a++ {
			if lfree[a] && out[a] < 0 {
				lfree[a] = false
				out[a] = 0
				p[a] = 0
			}
		}
	}
	return out
}

// solveMasked solves A x = b over the masked variables by Gaussian
// elimination on the column-scaled system; a variable whose pivot vanishes
// (no information in the data) comes back not ok.
func solveMasked(A [3][3]float64, b [3]float64, mask [3]bool) ([3]float64, [3]bool) {
	var idx []int
	for i := 0; i < 3; i++ {
		if mask[i] && A[i][i] > 0 {
			idx = append(idx, i)
		}
	}
	var x [3]float64
	var ok [3]bool
	m := len(idx)
	if m == 0 {
		return x, ok
	}
	s := make([]float64, m)
	M := make([][]float64, m)
	for r, i := range idx {
		s[r] = math.Sqrt(A[i][i])
	}
	for r, i := range idx {
		M[r] = make([]float64, m+1)
		for c, j := range idx {
			M[r][c] = A[i][j] / (s[r] * s[c])
		}
		M[r][m] = b[i] / s[r]
	}
	good := make([]bool, m)
	for c := 0; c < m; c++ {
		piv := -1
		best := 1e-10
		for r := c; r < m; r++ {
			if math.Abs(M[r][c]) > best {
				best, piv = math.Abs(M[r][c]), r
			}
		}
		if piv < 0 {
			// Degenerate column: pin at 0.
			for r := 0; r < m; r++ {
				M[r][c] = 0
			}
			continue
		}
		M[c], M[piv] = M[piv], M[c]
		good[c] = true
		for r := 0; r < m; r++ {
			if r == c || M[r][c] == 0 {
				continue
			}
			f := M[r][c] / M[c][c]
			for k := c; k <= m; k++ {
				M[r][k] -= f * M[c][k]
			}
		}
	}
	for c := 0; c < m; c++ {
		if good[c] && M[c][c] != 0 {
			x[idx[c]] = M[c][m] / M[c][c] / s[c]
			ok[idx[c]] = true
		}
	}
	return x, ok
}

// bestFit tries several starting floors and keeps the fit with the least
// truncated-quadratic loss.
func bestFit(full *fitData, free [nParams]bool, fixed fitVec) fitResult {
	// The starts are compared on an even subsample of a large data set;
	// the best is then refined on all of it.
	d := full
	if n := len(full.y); n > maxStartPoints {
		stride := (n + maxStartPoints - 1) / maxStartPoints
		var sub fitData
		for i := 0; i < n; i += stride {
			sub.y = append(sub.y, full.y[i])
			sub.t = append(sub.t, full.t[i])
			sub.c = append(sub.c, full.c[i])
			sub.dec = append(sub.dec, full.dec[i])
			sub.cl = append(sub.cl, full.cl[i])
		}
		d = &sub
	}
	var yp, yd []float64
	for i := range d.y {
		if d.dec[i] {
			yd = append(yd, d.y[i])
		} else {
			yp = append(yp, d.y[i])
		}
	}
	slices.Sort(yp)
	slices.Sort(yd)
	starts := func(ys []float64) []float64 {
		out := []float64{0}
		for _, q := range []float64{0.05, 0.25, 0.5} {
			if len(ys) > 0 {
				out = append(out, ys[int(q*float64(len(ys)-1))])
			}
		}
		return out
	}
	spF, sdF := starts(yp), starts(yd)
	if !free[pFp] {
		spF = []float64{fixed[pFp]}
	}
	if !free[pFd] {
		sdF = []float64{fixed[pFd]}
	}
	var best fitResult
	first := true
	for _, fp := range spF {
		for _, fd := range sdF {
			st := fixed
			st[pFp], st[pFd] = fp, fd
			// Start the linear part from a fit to the points clearly
			// above these floors.
			nf := free
			nf[pFp], nf[pFd] = false, false
			st0 := st
			st0[pFp], st0[pFd] = 0, 0
			above := make([]float64, len(d.y))
			n := 0
			for i := range d.y {
				f := fp
				if d.dec[i] {
					f = fd
				}
				if d.y[i] > 1.03*f {
					above[i] = 1
					n++
				}
			}
			if n < 3 {
				continue
			}
			lin := robustFit(d, st0, nf, above)
			for k := pC0; k <= pB; k++ {
				st[k] = lin.p[k]
			}
			r := robustFit(d, st, free, nil)
			if first || r.obj < best.obj-1e-12 {
				best, first = r, false
			}
		}
	}
	if d != full {
		best = robustFit(full, best.p, free, nil)
	}
	return best
}

// maxStartPoints bounds the points bestFit compares its starts on.
const maxStartPoints = 20000

// unsupportedFloors are the active floors that sit within noise of the
// linear part's least prediction on their steps: a hinge at the bottom
// of noisy data, not a launch floor. A real floor stands more than three
// robust scales above what the linear part predicts for its steps.
func unsupportedFloors(d *fitData, res fitResult) []int {
	var out []int
	for k := 0; k < 2; k++ {
		f := res.p[pFp+k]
		if f <= 0 {
			continue
		}
		least := math.Inf(1)
		for i := range d.y {
			if res.onFl[i] && d.dec[i] == (k == 1) && res.w[i] > 0 {
				least = min(least, res.p.lin(d, i))
			}
		}
		if math.IsInf(least, 1) || f < least*(1+3*res.scale) {
			out = append(out, pFp+k)
		}
	}
	return out
}

// FitCostModel fits the simulator's cost model to step observations: a
// robust, relative least-squares fit of
//
//	step = max(floor, c0 + Tokens·PerToken + Context·PerContextToken)
//
// with c0 = Overhead + WeightRead and the floor LaunchFloor (prefill-only
// steps) or DecodeLaunchFloor (steps that decode), each floor fitted only
// when some steps sit on it. Overhead cannot be told apart from WeightRead
// and the floors by step times: the fitted model folds it into them
// (Overhead 0). Terms the data cannot pin down are reported and, where
// the preset needs a value, set by a stated convention.
func FitCostModel(obs []StepObservation, opt CalibrateOptions) (*Calibration, error) {
	if len(obs) == 0 {
		return nil, errors.New("calibrate: no step observations")
	}
	var clean []StepObservation
	for _, o := range obs {
		if o.MS > 0 && !math.IsNaN(o.MS) && !math.IsInf(o.MS, 0) && o.Tokens >= 0 && o.Context >= 0 {
			clean = append(clean, o)
		}
	}
	if len(clean) < 3 {
		return nil, fmt.Errorf("calibrate: %d usable step observations; at least 3 are needed", len(clean))
	}
	obs = clean
	d := newFitData(obs)
	cal := &Calibration{Observations: len(obs), Convention: FitConvention}
	free := [nParams]bool{true, true, true, true, true}
	var fixed fitVec
	res := bestFit(&d, free, fixed)
	for _, k := range unsupportedFloors(&d, res) {
		free[k] = false
	}
	if !free[pFp] || !free[pFd] {
		res = bestFit(&d, free, fixed)
	}

	// Identifiability of the linear terms: a term whose own share of the
	// step times is not resolved by the data is pinned at 0 and the other
	// terms absorb it.
	notes := map[int]string{}
	B := opt.Bootstrap
	if B == 0 {
		B = 40
	}
	linPts := 0
	for i := range d.y {
		if !res.onFl[i] && res.w[i] > 0 {
			linPts++
		}
	}
	if linPts < 3 {
		cal.Warnings = append(cal.Warnings, "every step sat on a launch floor: the linear terms are not identifiable; add a run at a higher rate or with longer prompts so steps grow past the floor")
		for _, k := range []int{pA, pB} {
			free[k] = false
			notes[k] = "not identifiable from these runs (no step above the floor); set to 0"
		}
		res = bestFit(&d, free, fixed)
	}
	corr := paramCorr(res.normal)
	se := bootstrapSE(&d, res, B, opt.Seed)
	rel := func(k int) float64 {
		if res.p[k] <= 0 {
			return math.Inf(1)
		}
		return se[k] / res.p[k]
	}
	refit := false
	if free[pA] && free[pB] && math.Abs(corr) > 0.995 {
		drop := pB
		if rel(pA) > rel(pB) {
			drop = pA
		}
		free[drop] = false
		notes[drop] = fmt.Sprintf("not identifiable from these runs (batch tokens and KV context moved together, correlation %.3f); set to 0, the other terms absorb it", corr)
		refit = true
	} else {
		for _, k := range []int{pA, pB} {
			if free[k] && B > 0 && (res.p[k] <= 0 || rel(k) > 0.3) {
				free[k] = false
				if res.p[k] <= 0 {
					notes[k] = "not identifiable from these runs (the fit found no effect); set to 0"
				} else {
					notes[k] = fmt.Sprintf("not identifiable from these runs (±%.0f%%); set to 0, the other terms absorb it", 100*rel(k))
				}
				refit = true
			}
		}
	}
	if refit {
		res = bestFit(&d, free, fixed)
		se = bootstrapSE(&d, res, B, opt.Seed)
	}
	if !free[pA] {
		cal.Warnings = append(cal.Warnings, "per_token is not identifiable: add a run with longer prompts (e.g. --input-tokens 2000) at a rate where they arrive while others decode, so the prefill cost shows in the steps")
	}
	if !free[pB] {
		cal.Warnings = append(cal.Warnings, "per_context_token is not identifiable: add a run with prompts of another length (e.g. --input-tokens 4000 next to one with 500), so the KV-cache read grows apart from the batch size")
	}
	// Floors.
	onCount := [2]int{}
	var ys [2][]float64
	for i := range d.y {
		k := 0
		if d.dec[i] {
			k = 1
		}
		if res.onFl[i] && res.w[i] > 0 && res.p[pFp+k] > 0 {
			onCount[k]++
		}
		if res.w[i] >= 0.5 {
			ys[k] = append(ys[k], d.y[i])
		}
	}
	// The shortest steps the fit trusts (a late frame makes the gap after
	// it short), bar 1%.
	minStep := [2]float64{math.Inf(1), math.Inf(1)}
	for k := range ys {
		if len(ys[k]) > 0 {
			slices.Sort(ys[k])
			minStep[k] = quantileSorted(ys[k], 0.01)
		}
	}
	for k := 0; k < 2; k++ {
		idx := pFp + k
		if onCount[k] < minOnFloor {
			res.p[idx] = 0
			what := "prefill-only step"
			if k == 1 {
				what = "decoding step"
			}
			if math.IsInf(minStep[k], 1) {
				notes[idx] = fmt.Sprintf("not identifiable from these runs (no %s observed); set to 0 (no floor)", what)
			} else {
				notes[idx] = fmt.Sprintf("not identifiable from these runs (no %s sat on a floor; it is below %.3g ms); set to 0 (no floor)", what, minStep[k])
			}
		}
	}
	if onCount[0] < minOnFloor && onCount[1] < minOnFloor {
		cal.Warnings = append(cal.Warnings, "launch floors are not identifiable (no step was near one): the preset has none, as a server with CUDA graphs; if yours launches kernels one by one, add a run at a low rate (--rate 0.5) with short prompts so single small steps show the floor")
	}

	m := sim.CostModel{
		Name:              opt.Name,
		Description:       opt.Description,
		WeightRead:        msDur(res.p[pC0]),
		PerToken:          msDur(res.p[pA]),
		PerContextToken:   res.p[pB] * 1e6,
		LaunchFloor:       msDur(res.p[pFp]),
		DecodeLaunchFloor: msDur(res.p[pFd]),
		KVTokens:          opt.KVTokens,
	}
	if m.LaunchFloor > 0 && m.DecodeLaunchFloor == 0 && onCount[1] < minOnFloor {
		// "0 means LaunchFloor": say so rather than imply no floor.
		notes[pFd] += "; the simulator then uses launch_floor"
	}
	cal.Model = m
	units := [nParams]string{"ms", "µs", "ns", "ms", "ms"}
	factor := [nParams]float64{1, 1e3, 1e6, 1, 1}
	for k := 0; k < nParams; k++ {
		note, bad := notes[k]
		prm := CalibrationParam{Name: paramNames[k], Value: res.p[k] * factor[k], SE: se[k] * factor[k], Unit: units[k], Identifiable: !bad, Note: note}
		if k == pC0 {
			prm.Note = "overhead + weight_read: the per-step constant"
		}
		if !bad && prm.SE > 0.3*prm.Value {
			prm.Note = strings.TrimPrefix(prm.Note+fmt.Sprintf("; poorly determined (±%.0f%%)", 100*prm.SE/prm.Value), "; ")
			cal.Warnings = append(cal.Warnings, fmt.Sprintf("%s is poorly determined (±%.0f%%): %s", paramNames[k], 100*prm.SE/prm.Value, weakAdvice[k]))
		}
		if bad {
			prm.SE = 0
		}
		cal.Params = append(cal.Params, prm)
	}
	cal.Params = append(cal.Params, CalibrationParam{Name: "overhead", Unit: "ms", Note: "not identifiable from step times (it adds to weight_read and to each floor alike); folded into them, set to 0"})

	// Residuals.
	type pt struct {
		i   int
		rel float64
	}
	byClass := map[string][]float64{}
	var all []pt
	for i := range obs {
		f, _ := res.p.pred(&d, i)
		r := (d.y[i] - f) / max(f, 1e-9)
		byClass[obs[i].Class] = append(byClass[obs[i].Class], r)
		all = append(all, pt{i, r})
		if res.w[i] < 0.5 {
			cal.Downweighted++
		}
	}
	classes := make([]string, 0, len(byClass))
	for c := range byClass {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		rs := byClass[c]
		abs := make([]float64, len(rs))
		for i, r := range rs {
			abs[i] = math.Abs(r)
		}
		slices.Sort(abs)
		signed := slices.Clone(rs)
		slices.Sort(signed)
		cal.Residuals = append(cal.Residuals, ResidualStats{Class: c, N: len(rs),
			P50: round4(quantileSorted(abs, 0.5)), P99: round4(quantileSorted(abs, 0.99)), Median: round4(quantileSorted(signed, 0.5))})
	}
	sort.Slice(all, func(a, b int) bool { return math.Abs(all[a].rel) > math.Abs(all[b].rel) })
	for _, q := range all[:min(5, len(all))] {
		o := obs[q.i]
		f, _ := res.p.pred(&d, q.i)
		cal.Worst = append(cal.Worst, WorstPoint{Class: o.Class, Label: o.Label, Tokens: o.Tokens, Decodes: o.Decodes, Context: o.Context,
			MS: round4(d.y[q.i]), FitMS: round4(f), Rel: round4(q.rel)})
	}
	return cal, nil
}

// paramCorr is the correlation of the PerToken and PerContextToken
// estimates from the linear part's normal matrix.
func paramCorr(A [3][3]float64) float64 {
	inv, ok := inv3(A)
	if !ok || inv[1][1] <= 0 || inv[2][2] <= 0 {
		return 1
	}
	return inv[1][2] / math.Sqrt(inv[1][1]*inv[2][2])
}

func inv3(a [3][3]float64) ([3][3]float64, bool) {
	var r [3][3]float64
	det := a[0][0]*(a[1][1]*a[2][2]-a[1][2]*a[2][1]) - a[0][1]*(a[1][0]*a[2][2]-a[1][2]*a[2][0]) + a[0][2]*(a[1][0]*a[2][1]-a[1][1]*a[2][0])
	scale := math.Abs(a[0][0] * a[1][1] * a[2][2])
	if det == 0 || scale == 0 || math.Abs(det) < 1e-14*scale {
		return r, false
	}
	r[0][0] = (a[1][1]*a[2][2] - a[1][2]*a[2][1]) / det
	r[0][1] = (a[0][2]*a[2][1] - a[0][1]*a[2][2]) / det
	r[0][2] = (a[0][1]*a[1][2] - a[0][2]*a[1][1]) / det
	r[1][0] = (a[1][2]*a[2][0] - a[1][0]*a[2][2]) / det
	r[1][1] = (a[0][0]*a[2][2] - a[0][2]*a[2][0]) / det
	r[1][2] = (a[0][2]*a[1][0] - a[0][0]*a[1][2]) / det
	r[2][0] = (a[1][0]*a[2][1] - a[1][1]*a[2][0]) / det
	r[2][1] = (a[0][1]*a[2][0] - a[0][0]*a[2][1]) / det
	r[2][2] = (a[0][0]*a[1][1] - a[0][1]*a[1][0]) / det
	return r, true
}

// bootstrapSE resamples clusters (requests) with replacement and refits
// from res's parameters; the standard deviation of each parameter is its
// standard error.
func bootstrapSE(d *fitData, res fitResult, B int, seed uint64) fitVec {
	var se fitVec
	if B <= 0 {
		return se
	}
	ids := map[int]int{}
	for _, c := range d.cl {
		if _, ok := ids[c]; !ok {
			ids[c] = len(ids)
		}
	}
	nc := len(ids)
	idx := make([]int, len(d.cl))
	for i, c := range d.cl {
		idx[i] = ids[c]
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_ca1b))
	counts := make([]float64, nc)
	mult := make([]float64, len(d.y))
	var sum, sum2 fitVec
	for b := 0; b < B; b++ {
		clear(counts)
		for j := 0; j < nc; j++ {
			counts[rng.IntN(nc)]++
		}
		for i := range mult {
			mult[i] = counts[idx[i]]
		}
		r := robustFit(d, res.p, res.free, mult)
		for k := range r.p {
			sum[k] += r.p[k]
			sum2[k] += r.p[k] * r.p[k]
		}
	}
	for k := range se {
		m := sum[k] / float64(B)
		se[k] = math.Sqrt(max(sum2[k]/float64(B)-m*m, 0) * float64(B) / float64(max(B-1, 1)))
	}
	return se
}

func msDur(ms float64) time.Duration { return time.Duration(math.Round(ms * 1e6)) }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return quantileSorted(s, 0.5)
}

// quantileSorted is the linear-interpolated q-quantile of sorted s.
func quantileSorted(s []float64, q float64) float64 {
	if len(s) == 0 {
		return 0
	}
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
}

func round4(v float64) float64 { return math.Round(v*1e4) / 1e4 }

// minOnFloor is how many observations must sit on a floor for the fit to
// keep it.
const minOnFloor = 2
