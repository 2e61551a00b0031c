package analysis

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// SweepFile is the curve and capacity of a sweep, in the sweep's directory
// next to its stages' run directories; SweepTableFile is the same as the
// terminal table.
const (
	SweepFile      = "sweep.json"
	SweepTableFile = "sweep.txt"
)

// Sweep modes: the load level of a stage is a rate or a number of users.
const (
	SweepRate  = "rate"
	SweepUsers = "users"
)

// SweepMetrics are the latency metrics a sweep keeps per stage.
var SweepMetrics = []string{"lag", "ttft", "itl", "tpot", "e2e"}

// Sweep is sweep.json: one stage per load level, in the order they ran, and
// the capacity found.
type Sweep struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	// Name is the profile's name.
	Name string `json:"name"`
	// Mode is SweepRate (open loop, levels in req/s) or SweepUsers
	// (closed loop, levels in users).
	Mode string `json:"mode"`
	// Auto is true for a capacity search (--auto), false for a list of
	// levels.
	Auto      bool      `json:"auto"`
	Precision float64   `json:"precision,omitempty"`
	SLO       []string  `json:"slo"`
	Goodput   string    `json:"goodput,omitempty"`
	Target    string    `json:"target"`
	Simulated bool      `json:"simulated"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end,omitzero"`
	// StageDurationS and CooldownS are each stage's length and the pause
	// between stages, in seconds.
	StageDurationS float64      `json:"stage_duration_s"`
	CooldownS      float64      `json:"cooldown_s"`
	Stages         []SweepStage `json:"stages"`
	Capacity       Capacity     `json:"capacity"`
	// Outcome says why the search ended (auto) or that the list ran out.
	Outcome string   `json:"outcome,omitempty"`
	Notes   []string `json:"notes,omitempty"`
	// Interrupted is true when the sweep was cut short.
	Interrupted bool `json:"interrupted,omitempty"`
}

// SweepStage is one load level: a row of the curve.
type SweepStage struct {
	// Index numbers the stages in the order they ran, from 1; Dir is the
	// stage's run directory, relative to the sweep's.
	Index int    `json:"index"`
	Dir   string `json:"dir"`
	// Level is the stage's load: req/s (rate sweeps) or users.
	Level float64 `json:"level"`
	// OfferedRate is the rate asked for (open loop), AchievedRate the rate
	// the generator sent at.
	OfferedRate  float64          `json:"offered_rate"`
	AchievedRate float64          `json:"achieved_rate"`
	Requests     Counts           `json:"requests"`
	Throughput   Throughput       `json:"throughput"`
	Goodput      Goodput          `json:"goodput"`
	ErrorRate    float64          `json:"error_rate"`
	Metrics      map[string]Stats `json:"metrics"`
	SLO          []SLOResult      `json:"slo"`
	// SLOPass is true when every SLO held.
	SLOPass    bool       `json:"slo_pass"`
	Saturation Saturation `json:"saturation"`
	// GeneratorSaturated marks a stage whose generator fell behind (lag
	// p99 over the limit): its latencies may be understated.
	GeneratorSaturated bool `json:"generator_saturated"`
	// Pass is the stage's verdict: SLOs held and the queue did not grow
	// without bound.
	Pass bool `json:"pass"`
	// Error is set when the stage ran but could not be judged normally
	// (every request failed, say).
	Error string `json:"error,omitempty"`
}

// Capacity is the highest load level that passed below the lowest that
// failed, with the evidence on both sides.
type Capacity struct {
	// Found is false when no level passed.
	Found bool `json:"found"`
	// Level is the capacity in the sweep's unit (req/s or users);
	// Throughput and OutputTokensPerS are what its stage achieved.
	Level            float64 `json:"level"`
	Throughput       float64 `json:"throughput_requests_per_s"`
	OutputTokensPerS float64 `json:"output_tokens_per_s"`
	Stage            int     `json:"stage,omitempty"`
	// FailedLevel is the lowest level that failed (0: none did, and the
	// capacity is at least Level); FailedStage its stage and Why what
	// failed there.
	FailedLevel float64 `json:"failed_level,omitempty"`
	FailedStage int     `json:"failed_stage,omitempty"`
	Why         string  `json:"why,omitempty"`
	// Bracket is FailedLevel/Level − 1: how precisely the capacity is
	// known.
	Bracket float64 `json:"bracket,omitempty"`
}

// Unit is the unit of the sweep's levels.
func (s *Sweep) Unit() string {
	if s.Mode == SweepUsers {
		return "users"
	}
	return "req/s"
}

// NewSweepStage makes a stage's row from its summary (SLOs already
// applied) and saturation evidence; pass is computed.
func NewSweepStage(index int, dir string, level float64, openLoop bool, sum *Summary, sat Saturation) SweepStage {
	st := SweepStage{
		Index: index, Dir: dir, Level: level,
		AchievedRate: sum.Generator.AchievedRate,
		Requests:     sum.Requests, Throughput: sum.Throughput, Goodput: sum.Goodput, ErrorRate: sum.ErrorRate,
		Metrics: map[string]Stats{}, SLO: sum.SLO, SLOPass: AllPass(sum.SLO),
		Saturation: sat, GeneratorSaturated: sum.GeneratorSaturated,
	}
	if st.SLO == nil {
		st.SLO = []SLOResult{}
	}
	if openLoop {
		st.OfferedRate = level
	}
	for _, m := range SweepMetrics {
		st.Metrics[m] = sum.Metrics[m]
	}
	st.Pass = st.SLOPass && !sat.Saturated
	return st
}

// Why says why a stage failed: the SLOs that failed and the saturation
// evidence ("" for a passing stage).
func (st *SweepStage) Why() string {
	var parts []string
	if st.Error != "" {
		parts = append(parts, st.Error)
	}
	for _, r := range st.SLO {
		if r.Pass {
			continue
		}
		if r.Note != "" {
			parts = append(parts, r.Expr+" ("+r.Note+")")
		} else {
			parts = append(parts, fmt.Sprintf("%s was %s", r.Expr, FormatSLOValue(r, r.Value)))
		}
	}
	if st.Saturation.Saturated {
		parts = append(parts, "saturated: "+st.Saturation.Reason)
	}
	return strings.Join(parts, "; ")
}

// FindCapacity computes the capacity from the stages: the highest passing
// level below the lowest failing one. The search keeps every pass below
// every fail; a list of levels may not (noise near the knee), and a pass
// above a failure does not count.
func FindCapacity(stages []SweepStage) Capacity {
	var c Capacity
	var fail *SweepStage
	for i := range stages {
		if st := &stages[i]; !st.Pass && (fail == nil || st.Level < fail.Level) {
			fail = st
		}
	}
	var pass *SweepStage
	for i := range stages {
		st := &stages[i]
		if st.Pass && (fail == nil || st.Level < fail.Level) && (pass == nil || st.Level > pass.Level) {
			pass = st
		}
	}
	if pass != nil {
		c.Found = true
		c.Level, c.Stage = pass.Level, pass.Index
		c.Throughput, c.OutputTokensPerS = pass.Throughput.RequestsPerS, pass.Throughput.OutputTokensPerS
	}
	if fail != nil {
		c.FailedLevel, c.FailedStage, c.Why = fail.Level, fail.Index, fail.Why()
		if pass != nil {
			c.Bracket = fail.Level/pass.Level - 1
		}
	}
	return c
}

// OK is how many requests succeeded over all the sweep's stages: 0 means
// the sweep measured nothing, whatever its verdict says.
func (s *Sweep) OK() int64 {
	var n int64
	for _, st := range s.Stages {
		n += st.Requests.OK
	}
	return n
}

// CapacityLine says the capacity in one line, with the evidence.
func (s *Sweep) CapacityLine() string {
	c, unit := s.Capacity, s.Unit()
	var b strings.Builder
	switch {
	case !c.Found && c.FailedStage == 0:
		b.WriteString("capacity: no stage finished")
	case !c.Found:
		fmt.Fprintf(&b, "capacity: none found: the lowest level, %s %s (stage %d), failed: %s", FormatLevel(c.FailedLevel), unit, c.FailedStage, c.Why)
	case c.FailedStage == 0:
		fmt.Fprintf(&b, "capacity: at least %s %s (stage %d, %s req/s, %s output tok/s): no level failed", FormatLevel(c.Level), unit, c.Stage, reqRate(c.Throughput), fixed(c.OutputTokensPerS, 0))
	default:
		fmt.Fprintf(&b, "capacity: %s %s (stage %d passed, %s req/s, %s output tok/s); %s %s failed (stage %d, +%s): %s",
			FormatLevel(c.Level), unit, c.Stage, reqRate(c.Throughput), fixed(c.OutputTokensPerS, 0), FormatLevel(c.FailedLevel), unit, c.FailedStage, pct(c.Bracket), c.Why)
	}
	return b.String()
}

// LoadSweep reads dir's sweep.json.
func LoadSweep(dir string) (*Sweep, error) {
	var s Sweep
	if err := results.ReadJSON(dir, SweepFile, &s); err != nil {
		return nil, err
	}
	if s.Mode != SweepRate && s.Mode != SweepUsers {
		return nil, fmt.Errorf("%s: mode %q: want %s or %s", filepath.Join(dir, SweepFile), s.Mode, SweepRate, SweepUsers)
	}
	return &s, nil
}

// IsSweepDir reports whether dir holds a sweep (a sweep.json) rather than
// a run.
func IsSweepDir(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, SweepFile))
	return err == nil
}

// SortedStages returns the stages in level order (the order they ran is
// the search's, not the curve's); stages at one level keep their run order.
func SortedStages(stages []SweepStage) []SweepStage {
	out := slices.Clone(stages)
	slices.SortStableFunc(out, func(a, b SweepStage) int {
		switch {
		case a.Level < b.Level:
			return -1
		case a.Level > b.Level:
			return 1
		}
		return a.Index - b.Index
	})
	return out
}
