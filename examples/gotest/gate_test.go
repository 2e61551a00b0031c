// Package gotest shows how a Go project gates on streamgauge SLOs inside
// `go test`: load a profile, run it against a target (here the built-in
// simulator, or $STREAMGAUGE_TARGET), and judge the run's SLOs as values.
//
//	go test ./examples/gotest/                                   # against the simulator
//	STREAMGAUGE_TARGET=http://127.0.0.1:8000 go test ./examples/gotest/ -v
package gotest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/report"
)

// loadProfile reads a profile file (or a built-in profile's name) over the
// defaults and validates it, as `streamgauge run FILE` does.
func loadProfile(t *testing.T, nameOrPath string) profiles.Profile {
	t.Helper()
	p, err := profiles.Load(nameOrPath)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// verdict is a run judged: its summary and one result per SLO.
type verdict struct {
	Dir     string
	Summary *analysis.Summary
	SLO     []analysis.SLOResult
}

func (v verdict) Pass() bool { return analysis.AllPass(v.SLO) }

// runAndJudge runs p and judges it against p's SLOs and goodput.
func runAndJudge(ctx context.Context, t *testing.T, p profiles.Profile) verdict {
	t.Helper()
	slos, err := analysis.ParseSLOs(p.SLO)
	if err != nil {
		t.Fatal(err)
	}
	goodput, err := analysis.ParseGoodput(p.Goodput)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := harness.Run(ctx, p, harness.WithLog(t.Logf))
	if err != nil {
		t.Fatal(err)
	}
	sum := res.Summary
	if goodput != nil {
		// Count goodput with the profile's per-request SLOs.
		if sum, _, err = analysis.LoadSummary(res.Dir, goodput); err != nil {
			t.Fatal(err)
		}
	}
	return verdict{Dir: res.Dir, Summary: sum, SLO: analysis.EvaluateSLOs(sum, slos)}
}

// TestServingMeetsSLOs is the gate: it fails when an SLO of the profile
// does not hold, and logs the ✓/✗ table either way.
func TestServingMeetsSLOs(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := loadProfile(t, filepath.Join("testdata", "chat-gate.yaml"))
	p.Out = filepath.Join(t.TempDir(), "run")
	if target := os.Getenv("STREAMGAUGE_TARGET"); target != "" {
		p.Target = target // else the built-in simulator
	}
	v := runAndJudge(ctx, t, p)
	var table bytes.Buffer
	report.WriteSLOTable(&table, v.SLO)
	t.Logf("run %s:\n%s", v.Dir, table.String())
	if !v.Pass() {
		t.Errorf("SLOs failed: %d ok, %d failed requests", v.Summary.Requests.OK, v.Summary.Requests.Failed)
	}
}

// TestGateCatchesASlowServer: the same gate against a server that is too
// slow (the simulator with a 600 ms time to first token) fails, and the
// result says which SLO and by how much.
func TestGateCatchesASlowServer(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := loadProfile(t, filepath.Join("testdata", "chat-gate.yaml"))
	p.Out = filepath.Join(t.TempDir(), "run")
	p.Requests = 40
	p.SimTTFT, p.SimITL = 600*time.Millisecond, 5*time.Millisecond
	v := runAndJudge(ctx, t, p)
	if v.Pass() {
		t.Fatal("a 600 ms ttft passed ttft.p99<500ms")
	}
	for _, r := range v.SLO {
		switch r.Expr {
		case "ttft.p99<500ms", "goodput.ratio>=0.95":
			if r.Pass || r.Margin >= 0 {
				t.Errorf("%s: %+v, want a failure with a negative margin", r.Expr, r)
			}
		case "error_rate<1%", "e2e.max<30s":
			if !r.Pass {
				t.Errorf("%s failed: %+v", r.Expr, r)
			}
		}
	}
}
