package analysis_test

import (
	"math"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

func TestLoadSweep(t *testing.T) {
	dir := t.TempDir()
	s := analysistest.Sweep("chat", 12)
	if err := results.WriteJSON(dir, analysis.SweepFile, s); err != nil {
		t.Fatal(err)
	}
	if !analysis.IsSweepDir(dir) || analysis.IsSweepDir(t.TempDir()) {
		t.Error("IsSweepDir does not tell a sweep from an empty directory")
	}
	got, err := analysis.LoadSweep(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Capacity != s.Capacity || len(got.Stages) != len(s.Stages) {
		t.Errorf("loaded capacity %+v with %d stages, wrote %+v with %d", got.Capacity, len(got.Stages), s.Capacity, len(s.Stages))
	}
	if err := results.WriteJSON(dir, analysis.SweepFile, map[string]string{"mode": "speed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := analysis.LoadSweep(dir); err == nil || !strings.Contains(err.Error(), `mode "speed"`) {
		t.Errorf("a sweep.json of unknown mode: %v", err)
	}
}

func TestCompareSweeps(t *testing.T) {
	a, b := analysistest.Sweep("chat", 12, "ttft.p99<100ms"), analysistest.Sweep("chat", 16, "ttft.p99<100ms")
	c, err := analysis.CompareSweeps([]string{"fcfs", "continuous"}, []*analysis.Sweep{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if c.Variants[0].Relative == nil || *c.Variants[0].Relative != 0 {
		t.Errorf("baseline relative %v, want 0", c.Variants[0].Relative)
	}
	if r := c.Variants[1].Relative; r == nil || math.Abs(*r-(16.0/11.3-1)) > 1e-9 {
		t.Errorf("continuous relative %v, want %g", r, 16.0/11.3-1)
	}
	if len(c.Notes) != 0 {
		t.Errorf("notes %v for sweeps run alike", c.Notes)
	}
	t.Run("different SLOs are noted", func(t *testing.T) {
		c, err := analysis.CompareSweeps([]string{"a", "b"}, []*analysis.Sweep{a, analysistest.Sweep("chat", 16, "ttft.p99<200ms")})
		if err != nil || len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "different SLOs") {
			t.Errorf("notes %v, err %v", c.Notes, err)
		}
	})
	t.Run("rate and users sweeps do not compare", func(t *testing.T) {
		u := analysistest.Sweep("chat", 16)
		u.Mode = analysis.SweepUsers
		if _, err := analysis.CompareSweeps([]string{"a", "b"}, []*analysis.Sweep{a, u}); err == nil {
			t.Error("compared a rate sweep with a users sweep")
		}
	})
}
