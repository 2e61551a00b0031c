package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SweepVariant is one sweep of a comparison: a scheduler variant, a build,
// a configuration.
type SweepVariant struct {
	Name     string   `json:"name"`
	Capacity Capacity `json:"capacity"`
	// Relative is the capacity over the first variant's, minus one (+0.25
	// is 25% more); nil when either found none.
	Relative *float64 `json:"relative,omitempty"`
}

// SweepComparison is several sweeps side by side: capacity per variant
// and their curves, level by level.
type SweepComparison struct {
	Mode     string         `json:"mode"`
	Variants []SweepVariant `json:"variants"`
	// Notes warn of sweeps that were not run alike (other SLOs, stage
	// lengths): their capacities are not comparable as they stand.
	Notes  []string `json:"notes,omitempty"`
	sweeps []*Sweep
}

// CompareSweeps lines up sweeps of one mode (all rate or all users); names
// label them (e.g. their directories), the first is the baseline.
func CompareSweeps(names []string, sweeps []*Sweep) (*SweepComparison, error) {
	if len(sweeps) == 0 || len(names) != len(sweeps) {
		return nil, errors.New("compare sweeps: want one name per sweep, and at least one sweep")
	}
	c := &SweepComparison{Mode: sweeps[0].Mode, sweeps: sweeps}
	base := sweeps[0]
	for i, s := range sweeps {
		if s.Mode != c.Mode {
			return nil, fmt.Errorf("compare sweeps: %s sweeps %s levels and %s %s levels; compare sweeps of one kind", names[0], c.Mode, names[i], s.Mode)
		}
		v := SweepVariant{Name: names[i], Capacity: s.Capacity}
		if s.Capacity.Found && base.Capacity.Found && base.Capacity.Level > 0 {
			r := s.Capacity.Level/base.Capacity.Level - 1
			v.Relative = &r
		}
		c.Variants = append(c.Variants, v)
		if i == 0 {
			continue
		}
		if !slices.Equal(s.SLO, base.SLO) {
			c.Notes = append(c.Notes, fmt.Sprintf("%s judged SLOs [%s], %s [%s]: capacities under different SLOs", names[0], strings.Join(base.SLO, " "), names[i], strings.Join(s.SLO, " ")))
		}
		if s.StageDurationS != base.StageDurationS {
			c.Notes = append(c.Notes, fmt.Sprintf("%s ran %gs stages, %s %gs", names[0], base.StageDurationS, names[i], s.StageDurationS))
		}
		if s.Name != base.Name {
			c.Notes = append(c.Notes, fmt.Sprintf("%s ran profile %q, %s %q", names[0], base.Name, names[i], s.Name))
		}
	}
	return c, nil
}

// Sweeps returns the compared sweeps, in order.
func (c *SweepComparison) Sweeps() []*Sweep { return c.sweeps }

// Best returns the indices of the variants with the highest capacity (the
// highest level that met the SLOs): several when they tie, none when no
// variant found one. Throughput at equal levels differs by noise, so it
// breaks no tie.
func (c *SweepComparison) Best() []int {
	var best []int
	for i, v := range c.Variants {
		if !v.Capacity.Found {
			continue
		}
		if len(best) == 0 {
			best = []int{i}
			continue
		}
		switch top := c.Variants[best[0]].Capacity.Level; {
		case v.Capacity.Level > top:
			best = []int{i}
		case v.Capacity.Level == top:
			best = append(best, i)
		}
	}
	return best
}
