package analysis

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/results"
)

// CompareMetrics are the rows of a comparison by default.
var CompareMetrics = []string{
	"ttft.p50", "ttft.p90", "ttft.p99",
	"itl.p50", "itl.p90", "itl.p99",
	"tpot.p50", "tpot.p90", "tpot.p99",
	"e2e.p50", "e2e.p90", "e2e.p99",
	"throughput.output_tokens_per_s", "throughput.requests_per_s",
	"goodput.ratio", "error_rate",
}

// compareQuantiles are the statistics a comparison row may take of a latency.
var compareQuantiles = map[string]float64{"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}

// resolveCompareStat turns a row name (ttft.p99, error_rate, ...) into how
// to compute it.
func resolveCompareStat(name string) (compareStat, error) {
	switch name {
	case "throughput.output_tokens_per_s":
		return compareStat{name: name, kind: statOutputTokensPerS, unit: "tok/s", higher: true}, nil
	case "throughput.requests_per_s":
		return compareStat{name: name, kind: statRequestsPerS, unit: "req/s", higher: true}, nil
	case "goodput.ratio":
		return compareStat{name: name, kind: statGoodputRatio, unit: "ratio", higher: true}, nil
	case "error_rate":
		return compareStat{name: name, kind: statErrorRate, unit: "ratio"}, nil
	}
	metric, stat, _ := strings.Cut(name, ".")
	if !slices.Contains(sampleMetrics, metric) {
		return compareStat{}, fmt.Errorf("%s: unknown metric; want METRIC.STAT with METRIC one of %s (and STAT one of p50 p90 p95 p99 p99.9 mean), or throughput.output_tokens_per_s, throughput.requests_per_s, goodput.ratio, error_rate",
			name, strings.Join(sampleMetrics, " "))
	}
	if stat == "mean" {
		return compareStat{name: name, kind: statMean, metric: metric, unit: "ms"}, nil
	}
	q, ok := compareQuantiles[stat]
	if !ok {
		return compareStat{}, fmt.Errorf("%s: %q is not a statistic compare can resample; want p50 p90 p95 p99 p99.9 or mean", name, stat)
	}
	return compareStat{name: name, kind: statQuantile, metric: metric, q: q, unit: "ms"}, nil
}

// CompareOptions tune Compare. Zero values take the defaults.
type CompareOptions struct {
	// Metrics are the rows (default CompareMetrics).
	Metrics []string
	// Tolerance is the relative change (0.05 = 5%) a significant worsening
	// must exceed to count as a regression. Zero means 5%; use a negative
	// value for no tolerance.
	Tolerance float64
	// Confidence is the level of the intervals (default 0.95).
	Confidence float64
	// Resamples is the number of bootstrap resamples per run (default 2000).
	Resamples int
	// Seed seeds the resampling; the same seed gives the same verdict.
	Seed uint64
	// Adjust is how significance accounts for comparing many metrics at
	// once: AdjustFDR (the default), AdjustHolm or AdjustNone.
	Adjust string
}

// Multiple-comparison adjustments.
const (
	// AdjustFDR controls the false discovery rate over the metrics of a
	// candidate (Benjamini-Hochberg): of the metrics called significant,
	// the expected share that did not truly change is under 1 - confidence,
	// and when nothing changed at all, a false call happens in under
	// 1 - confidence of comparisons, however many metrics are compared.
	AdjustFDR = "fdr"
	// AdjustHolm controls the family-wise error rate over the metrics of a
	// candidate (Holm-Bonferroni): the chance that any metric of a
	// candidate that truly did not change is called significant stays
	// under 1 - confidence, however many metrics are compared.
	AdjustHolm = "holm"
	// AdjustNone judges each metric on its own: each has a 1 - confidence
	// chance of a false alarm, so with many metrics one is likely.
	AdjustNone = "none"
)

// Compare defaults.
const (
	DefaultTolerance  = 0.05
	DefaultConfidence = 0.95
	DefaultResamples  = 2000
)

func (o *CompareOptions) defaults() error {
	if o.Metrics == nil {
		o.Metrics = CompareMetrics
	}
	switch {
	case o.Tolerance == 0:
		o.Tolerance = DefaultTolerance
	case o.Tolerance < 0:
		o.Tolerance = 0
	}
	if o.Confidence == 0 {
		o.Confidence = DefaultConfidence
	}
	if o.Confidence <= 0 || o.Confidence >= 1 {
		return fmt.Errorf("confidence %v: want a level between 0 and 1, e.g. 0.95", o.Confidence)
	}
	if o.Resamples == 0 {
		o.Resamples = DefaultResamples
	}
	switch o.Adjust {
	case "":
		o.Adjust = AdjustFDR
	case AdjustFDR, AdjustHolm, AdjustNone:
	default:
		return fmt.Errorf("adjust %q: want %s, %s or %s", o.Adjust, AdjustFDR, AdjustHolm, AdjustNone)
	}
	if o.Resamples < 100 {
		return fmt.Errorf("resamples %d: want at least 100 (2000 is usual for a 95%% interval)", o.Resamples)
	}
	return nil
}

// Verdict is what a comparison says about one metric of one candidate.
type Verdict string

// The verdicts. A regression (or improvement) is a change that is both
// significant (the interval excludes zero) and larger than the tolerance.
const (
	VerdictSame        Verdict = "same"        // no significant change
	VerdictBetter      Verdict = "better"      // significantly better, within the tolerance
	VerdictWorse       Verdict = "worse"       // significantly worse, within the tolerance
	VerdictImprovement Verdict = "improvement" // significantly better, beyond the tolerance
	VerdictRegression  Verdict = "regression"  // significantly worse, beyond the tolerance
	VerdictUnknown     Verdict = "n/a"         // a run has too few samples of the metric to judge it
)

// Number is a float64 that encodes NaN and infinities as JSON null.
type Number float64

// MarshalJSON implements json.Marshaler.
func (n Number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler; null is NaN.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Number(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Number(f)
	return nil
}

// RunRef names a run in a comparison.
type RunRef struct {
	Name     string `json:"name"`
	Dir      string `json:"dir,omitempty"`
	Requests int    `json:"requests"`
	OK       int    `json:"ok"`
}

// CompareCell is one candidate's value of one metric against the baseline.
type CompareCell struct {
	Run   string `json:"run"`
	Value Number `json:"value"`
	// Diff is Value minus the baseline's value; Rel is Diff relative to the
	// baseline (null when the baseline is 0).
	Diff Number `json:"diff"`
	Rel  Number `json:"rel"`
	// CILow and CIHigh bound the confidence interval of Diff.
	CILow  Number `json:"ci_low"`
	CIHigh Number `json:"ci_high"`
	// PValue is the bootstrap's two-sided p-value for "no change" on this
	// metric alone; PAdjusted is it adjusted for the number of metrics
	// compared (Holm), and Significant is PAdjusted < 1 - confidence.
	PValue      Number  `json:"p_value"`
	PAdjusted   Number  `json:"p_adjusted"`
	Significant bool    `json:"significant"`
	Verdict     Verdict `json:"verdict"`
}

// CompareRow is one metric: the baseline's value and every candidate's.
type CompareRow struct {
	Metric string `json:"metric"`
	// Unit is "ms", "tok/s", "req/s" or "ratio" (a fraction).
	Unit string `json:"unit"`
	// Better is "lower" or "higher".
	Better     string        `json:"better"`
	Baseline   Number        `json:"baseline"`
	Candidates []CompareCell `json:"candidates"`
}

// KeyDiff is a profile setting that differs between two runs.
type KeyDiff struct {
	Key       string `json:"key"`
	Baseline  any    `json:"baseline"`
	Candidate any    `json:"candidate"`
}

// ProfileMismatch lists how a candidate's workload or load differs from
// the baseline's.
type ProfileMismatch struct {
	Run  string    `json:"run"`
	Keys []KeyDiff `json:"keys"`
}

// Comparison is the result of Compare.
type Comparison struct {
	Baseline   RunRef            `json:"baseline"`
	Candidates []RunRef          `json:"candidates"`
	Tolerance  float64           `json:"tolerance"`
	Confidence float64           `json:"confidence"`
	Resamples  int               `json:"resamples"`
	Seed       uint64            `json:"seed"`
	Adjust     string            `json:"adjust"`
	Rows       []CompareRow      `json:"metrics"`
	Mismatches []ProfileMismatch `json:"profile_mismatches,omitempty"`
	// Warnings are one-line cautions about the comparison (profiles that
	// differ, runs too small to say much).
	Warnings []string `json:"warnings,omitempty"`
	// Regressed names the candidates with at least one regression.
	Regressed []string `json:"regressed"`
}

// Regression reports whether any candidate regressed.
func (c *Comparison) Regression() bool { return len(c.Regressed) > 0 }

// MinSamplesWarning is the number of measured requests under which a
// comparison warns that its intervals are wide.
const MinSamplesWarning = 100

// Compare compares each candidate with the baseline, metric by metric: the
// change of each metric with a bootstrap confidence interval (see the
// comment at the top of bootstrap.go), and a verdict. It also flags
// candidates whose profile differs from the baseline's in workload or load.
// A run with no measured request that succeeded is an error wrapping an
// *EmptyRunError for each such run.
func Compare(base *RunSamples, cands []*RunSamples, opt CompareOptions) (*Comparison, error) {
	if len(cands) == 0 {
		return nil, errors.New("compare: no candidate run")
	}
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	// A side with no measured request that succeeded would compare as
	// "no change": refuse it, naming every empty side.
	var empty []error
	for i, s := range append([]*RunSamples{base}, cands...) {
		role := "baseline"
		if i > 0 {
			role = "candidate"
		}
		name := s.Dir
		if name == "" {
			name = s.Name
		}
		empty = append(empty, RequireEvidence(role+" run "+name, Counts{Total: int64(s.n + s.warmup + s.canceled), OK: int64(s.okCount),
			Failed: int64(s.n - s.okCount), Warmup: int64(s.warmup), Canceled: int64(s.canceled)}))
	}
	if err := errors.Join(empty...); err != nil {
		return nil, err
	}
	stats := make([]compareStat, 0, len(opt.Metrics))
	var errs []error
	for _, m := range opt.Metrics {
		st, err := resolveCompareStat(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stats = append(stats, st)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Comparison{
		Baseline:   ref(base),
		Tolerance:  opt.Tolerance,
		Confidence: opt.Confidence,
		Resamples:  opt.Resamples,
		Seed:       opt.Seed,
		Adjust:     opt.Adjust,
		Regressed:  []string{},
	}
	basePlan := base.plan(stats)
	basePoint := base.point(basePlan)
	baseBoot := base.bootstrap(basePlan, opt.Resamples, opt.Seed, 0)
	c.Rows = make([]CompareRow, len(stats))
	for k, st := range stats {
		better := "lower"
		if st.higher {
			better = "higher"
		}
		c.Rows[k] = CompareRow{Metric: st.name, Unit: st.unit, Better: better, Baseline: Number(basePoint[k])}
	}
	saturated := func(s *RunSamples) {
		if s.Saturated {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: the load generator was saturated (lag p99 %s ms): its latencies may be understated", s.Name, fms(s.LagP99)))
		}
	}
	saturated(base)
	if base.n < MinSamplesWarning {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s has only %s: intervals are wide and tail percentiles rest on a few requests", base.Name, plural.Count(base.n, "measured request")))
	}
	alpha := 1 - opt.Confidence
	for ci, cand := range cands {
		c.Candidates = append(c.Candidates, ref(cand))
		if cand.n < MinSamplesWarning {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s has only %s: intervals are wide and tail percentiles rest on a few requests", cand.Name, plural.Count(cand.n, "measured request")))
		}
		saturated(cand)
		if base.Dir != "" && cand.Dir != "" && (base.Profile == nil) != (cand.Profile == nil) {
			missing := base
			if cand.Profile == nil {
				missing = cand
			}
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s has no run.json: whether %s and %s ran the same workload cannot be checked", missing.Name, base.Name, cand.Name))
		}
		if mm := diffProfiles(base, cand); mm != nil {
			c.Mismatches = append(c.Mismatches, *mm)
			c.Warnings = append(c.Warnings, mismatchWarning(base.Name, *mm))
		}
		candPlan := cand.plan(stats)
		point := cand.point(candPlan)
		boot := cand.bootstrap(candPlan, opt.Resamples, opt.Seed, ci+1)
		diffs := make([]float64, opt.Resamples)
		cells := make([]CompareCell, len(stats))
		for k := range stats {
			for r := range diffs {
				diffs[r] = boot[r][k] - baseBoot[r][k]
			}
			cells[k] = interval(cand.Name, basePoint[k], point[k], diffs, alpha)
		}
		adjust(cells, opt.Adjust)
		regressed := false
		for k, st := range stats {
			cells[k].Significant = !math.IsNaN(float64(cells[k].PAdjusted)) && float64(cells[k].PAdjusted) < alpha
			cells[k].Verdict = verdict(st, basePoint[k], cells[k], opt.Tolerance)
			regressed = regressed || cells[k].Verdict == VerdictRegression
			c.Rows[k].Candidates = append(c.Rows[k].Candidates, cells[k])
		}
		if regressed {
			c.Regressed = append(c.Regressed, cand.Name)
		}
	}
	return c, nil
}

func ref(s *RunSamples) RunRef {
	return RunRef{Name: s.Name, Dir: s.Dir, Requests: s.n, OK: s.okCount}
}

// interval builds a cell from the point estimates and the bootstrap
// differences (sorted in place): the change, its percentile interval at
// level 1-alpha, and its two-sided bootstrap p-value.
func interval(run string, base, cand float64, diffs []float64, alpha float64) CompareCell {
	nan := Number(math.NaN())
	cell := CompareCell{Run: run, Value: Number(cand), Diff: Number(cand - base), Rel: nan,
		CILow: nan, CIHigh: nan, PValue: nan, PAdjusted: nan, Verdict: VerdictUnknown}
	if math.IsNaN(base) || math.IsNaN(cand) {
		return cell
	}
	if base != 0 {
		cell.Rel = Number((cand - base) / math.Abs(base))
	}
	for _, d := range diffs {
		if math.IsNaN(d) {
			// Some resamples had no sample of the metric (a handful of
			// requests carry it): no interval.
			return cell
		}
	}
	slices.Sort(diffs)
	R := len(diffs)
	cell.CILow = Number(diffs[int(math.Floor(alpha/2*float64(R)))])
	cell.CIHigh = Number(diffs[min(R-1, int(math.Ceil((1-alpha/2)*float64(R)))-1)])
	// The percentile interval at level 1-p just reaches zero: p is twice
	// the share of resampled changes on the far side of zero.
	le, _ := slices.BinarySearch(diffs, math.Nextafter(0, 1)) // count <= 0
	ge := R - func() int { i, _ := slices.BinarySearch(diffs, 0); return i }()
	cell.PValue = Number(min(1, 2*float64(min(le, ge))/float64(R)))
	return cell
}

// adjust fills PAdjusted for the cells of one candidate.
func adjust(cells []CompareCell, how string) {
	var idx []int
	for i, c := range cells {
		if !math.IsNaN(float64(c.PValue)) {
			idx = append(idx, i)
		}
	}
	if how == AdjustNone {
		for _, i := range idx {
			cells[i].PAdjusted = cells[i].PValue
		}
		return
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(cells[a].PValue, cells[b].PValue) })
	m := len(idx)
	if how == AdjustHolm {
		// Holm: the j-th smallest of m p-values (from 0) is multiplied by
		// m-j, and adjusted p-values are made non-decreasing in that order.
		running := 0.0
		for j, i := range idx {
			running = max(running, min(1, float64(m-j)*float64(cells[i].PValue)))
			cells[i].PAdjusted = Number(running)
		}
		return
	}
	// Benjamini-Hochberg: the j-th smallest (from 1) is multiplied by m/j,
	// and adjusted p-values are made non-increasing from the largest down.
	running := 1.0
	for j := m - 1; j >= 0; j-- {
		i := idx[j]
		running = min(running, float64(m)*float64(cells[i].PValue)/float64(j+1))
		cells[i].PAdjusted = Number(running)
	}
}

// verdict names what a cell says about its metric.
func verdict(st compareStat, base float64, c CompareCell, tol float64) Verdict {
	if math.IsNaN(float64(c.PValue)) {
		return VerdictUnknown
	}
	if !c.Significant {
		return VerdictSame
	}
	diff := float64(c.Diff)
	worse := diff != 0 && (diff > 0) != st.higher
	beyond := diff != 0 && (base == 0 || math.Abs(diff)/math.Abs(base) > tol)
	switch {
	case worse && beyond:
		return VerdictRegression
	case worse:
		return VerdictWorse
	case beyond:
		return VerdictImprovement
	}
	return VerdictBetter
}

// WorkloadKeys are the profile settings that define a run's workload and
// load. Runs that differ in any of them do not measure the same thing, and
// Compare says so. Server-side settings (target, sim-*), the run's length
// (requests, duration) and the seed are not among them: comparing those is
// what compare is for.
var WorkloadKeys = []string{
	"api", "endpoint", "model", "ignore-eos",
	"rate", "arrival", "burstiness", "concurrency", "max-concurrency",
	"ramp-to", "ramp-over", "sine-amplitude", "sine-period", "stages",
	"warmup", "warmup-requests", "latency-from",
	"input-tokens", "output-tokens", "tokenizer",
	"prefix-groups", "prefix-tokens", "prefix-share", "prefix-system",
	"turns", "think-time",
	"trace", "trace-format", "trace-speed", "trace-window",
	"goodput",
}

// diffProfiles lists the workload keys whose values differ. A key missing
// from a profile is its zero value (profiles omit empty settings).
func diffProfiles(base, cand *RunSamples) *ProfileMismatch {
	if base.Profile == nil || cand.Profile == nil {
		return nil
	}
	var keys []KeyDiff
	for _, k := range WorkloadKeys {
		a, b := base.Profile[k], cand.Profile[k]
		if isZeroJSON(a) && isZeroJSON(b) {
			continue
		}
		if !reflect.DeepEqual(a, b) {
			keys = append(keys, KeyDiff{Key: k, Baseline: a, Candidate: b})
		}
	}
	if keys == nil {
		return nil
	}
	return &ProfileMismatch{Run: cand.Name, Keys: keys}
}

func isZeroJSON(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func mismatchWarning(base string, mm ProfileMismatch) string {
	parts := make([]string, len(mm.Keys))
	for i, k := range mm.Keys {
		parts[i] = fmt.Sprintf("%s (%s vs %s)", k.Key, showJSON(k.Baseline), showJSON(k.Candidate))
	}
	return fmt.Sprintf("%s differs from %s in workload or load: %s; the comparison may not be like for like",
		mm.Run, base, strings.Join(parts, ", "))
}

func showJSON(v any) string {
	if v == nil {
		return "unset"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// LoadRunSamples reads the measured requests of a run directory
// (requests.jsonl) and its profile (run.json, when present). g decides
// which requests are good; when nil, the run's own goodput conditions
// (run.json) do, or else each record's slo_ok. A run made with
// --latency-from scheduled is read the same way.
func LoadRunSamples(dir string, g *GoodputSLO) (*RunSamples, error) {
	profile, err := readRunProfile(dir)
	if err != nil {
		return nil, err
	}
	fromScheduled := profile["latency-from"] == "scheduled"
	if own, _ := profile["goodput"].(string); g == nil && own != "" {
		if g, err = ParseGoodput(own); err != nil {
			return nil, fmt.Errorf("%s: goodput: %w", filepath.Join(dir, results.RunFile), err)
		}
	}
	b := NewSampleBuilder(filepath.Base(filepath.Clean(dir)), g, fromScheduled)
	if err := results.ReadRecords(dir, b.Append); err != nil {
		return nil, err
	}
	s := b.Finish()
	s.Dir = dir
	s.Profile = profile
	var sum struct {
		Saturated bool                      `json:"generator_saturated"`
		Metrics   map[string]map[string]any `json:"metrics"`
	}
	if err := results.ReadJSON(dir, results.SummaryFile, &sum); err == nil && sum.Saturated {
		s.Saturated = true
		s.LagP99, _ = sum.Metrics["lag"]["p99"].(float64)
	}
	return s, nil
}
