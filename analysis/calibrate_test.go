package analysis_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// TestCalibrateH200StepTiming is check (c) of docs/schedulers.md
// ("Calibrate your own"): the cost model fitted to the H200 measurement
// explains every measured step within 15%.
func TestCalibrateH200StepTiming(t *testing.T) {
	data, err := os.ReadFile("testdata/calibrate/h200-llama8b-shape-hf-eager.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := analysis.ParseStepTiming("h200.json", data)
	if err != nil {
		t.Fatal(err)
	}
	obs := st.Observations("h200", 0)
	cal, err := analysis.FitCostModel(obs, analysis.CalibrateOptions{Name: "fit", KVTokens: 1000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m := cal.Model
	t.Logf("fitted: %+v", m)
	for _, p := range cal.Params {
		t.Logf("%-22s %10.4g ± %-8.2g %-3s identifiable=%v %s", p.Name, p.Value, p.SE, p.Unit, p.Identifiable, p.Note)
	}
	for _, w := range cal.Warnings {
		t.Logf("warning: %s", w)
	}
	for _, o := range obs {
		got := float64(m.StepTime(sim.StepLoad{Tokens: int(o.Tokens), Decodes: int(o.Decodes), Context: int64(o.Context)})) / float64(time.Millisecond)
		if rel := math.Abs(got-o.MS) / o.MS; rel > 0.15 {
			t.Errorf("%s: measured %.1f ms, fitted model %.1f ms (%.0f%% off, want ≤ 15%%)", o.Label, o.MS, got, 100*rel)
		}
	}
	// The eager-mode floors are in the data: both must be found.
	if m.LaunchFloor == 0 || m.DecodeLaunchFloor == 0 {
		t.Errorf("floors not found: launch %s, decode %s", m.LaunchFloor, m.DecodeLaunchFloor)
	}
}

func TestParseStepTimingErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "empty"},
		{"{", "unexpected EOF"},
		{`{"prefill": []}`, "no \"prefill\" or \"decode\" points"},
		{`{"prefill": [{"batch": 0, "tokens": 5, "ms": 1}]}`, "prefill[0]"},
		{`{"decode": [{"batch": 1, "context": 5, "ms": -1}]}`, "decode[0]"},
		{`{"decode": [{"batch": 1, "context": 5, "ms": "x"}]}`, "decode.ms is a JSON string; want a number"},
		{`{"decode": {"batch": 1}}`, "decode is a JSON object; want a list"},
		{`hello`, "not JSON (invalid character 'h'"},
		{`{} {}`, "more than one JSON value"},
	} {
		_, err := analysis.ParseStepTiming("f.json", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "step-timing file f.json: ") {
			t.Errorf("%q: got %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

// TestCalibrateInputs: the library call behind the command fits a
// step-timing file with the KV capacity given, says where that came from,
// and refuses to guess one.
func TestCalibrateInputs(t *testing.T) {
	in := []analysis.CalibrationInput{{Path: "testdata/calibrate/h200-llama8b-shape-hf-eager.json", Steps: true}}
	if _, err := analysis.Calibrate(in, analysis.CalibrateInputsOptions{}); !errors.Is(err, analysis.ErrNoKVCapacity) {
		t.Errorf("no KV capacity: %v", err)
	}
	cal, err := analysis.Calibrate(in, analysis.CalibrateInputsOptions{Fit: analysis.CalibrateOptions{Name: "h200", KVTokens: 900000, Bootstrap: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if cal.Model.KVTokens != 900000 || cal.KVTokensSource != "--kv-tokens" || len(cal.Sources) != 1 || cal.Sources[0].Kind != "step-timing" ||
		!strings.Contains(cal.Model.Description, "h200-llama8b-shape-hf-eager.json") {
		t.Errorf("calibration %+v, sources %+v", cal.Model, cal.Sources)
	}
}
