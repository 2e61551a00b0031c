package sim

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"
)

// measurement is testdata/h200-llama8b-shape-hf-eager.json: forward-pass
// times of a Llama-3-8B-shaped model on one H200, Hugging Face eager mode
// (a copy of the shared data folder's file; see its README).
type measurement struct {
	GPU     string `json:"gpu"`
	Params  int64  `json:"params"`
	Prefill []struct {
		Batch, Tokens int
		MS            float64
	} `json:"prefill"`
	Decode []struct {
		Batch, Context int
		MS             float64
	} `json:"decode"`
}

// TestHFEagerFit checks that the preset fitted to the H200 measurement
// reproduces every measured step within 15%.
func TestHFEagerFit(t *testing.T) {
	b, err := os.ReadFile("testdata/h200-llama8b-shape-hf-eager.json")
	if err != nil {
		t.Fatal(err)
	}
	var m measurement
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.Params != int64(Llama8B.Params()) {
		t.Errorf("measured model has %d params, Llama8B shape %d", m.Params, int64(Llama8B.Params()))
	}
	cost, err := Preset("h200-llama8b-hf-eager")
	if err != nil {
		t.Fatal(err)
	}
	type point struct {
		name string
		load StepLoad
		ms   float64
	}
	var pts []point
	for _, p := range m.Prefill {
		// One forward pass over whole prompts: every token computed, and
		// attention over the tokens just written.
		n := p.Batch * p.Tokens
		pts = append(pts, point{name: "prefill", load: StepLoad{Tokens: n, Context: int64(n)}, ms: p.MS})
	}
	for _, d := range m.Decode {
		// One new token per sequence, attending over its context.
		pts = append(pts, point{name: "decode", load: StepLoad{Tokens: d.Batch, Decodes: d.Batch, Context: int64(d.Batch * (d.Context + 1))}, ms: d.MS})
	}
	if len(pts) != 20 {
		t.Fatalf("%d points, want the measurement's 20", len(pts))
	}
	var sumSq float64
	for _, p := range pts {
		got := float64(cost.StepTime(p.load)) / float64(time.Millisecond)
		rel := got/p.ms - 1
		sumSq += rel * rel
		t.Logf("%-7s tokens %6d context %7d: measured %7.1f ms, model %7.1f ms (%+5.1f%%)", p.name, p.load.Tokens, p.load.Context, p.ms, got, 100*rel)
		if math.Abs(rel) > 0.15 {
			t.Errorf("%s of %d tokens over %d context: model %.1f ms is %+.1f%% off the measured %.1f ms (want within 15%%)",
				p.name, p.load.Tokens, p.load.Context, got, 100*rel, p.ms)
		}
	}
	t.Logf("rms relative error %.1f%%", 100*math.Sqrt(sumSq/float64(len(pts))))
}

func TestDerivedPresets(t *testing.T) {
	tests := []struct {
		name string
		// Published shapes: 8.03B and 70.55B parameters; expected decode
		// step of one short sequence and its KV capacity, from the
		// datasheet figures by hand (docs/schedulers.md).
		params    float64
		decode1ms float64
		kvTokens  int
	}{
		{"h100-llama8b", 8.03e9, 7.0, 426_000},
		{"h100-llama70b", 70.55e9, 15.9, 448_000},
		{"h200-llama8b", 8.03e9, 5.2, 845_000},
		{"h200-llama70b", 70.55e9, 21.0, 343_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Preset(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			ms := float64(c.StepTime(StepLoad{Tokens: 1, Decodes: 1, Context: 1})) / 1e6
			if math.Abs(ms/tc.decode1ms-1) > 0.02 {
				t.Errorf("decode step of one sequence %.2f ms, want %.1f", ms, tc.decode1ms)
			}
			if math.Abs(float64(c.KVTokens)/float64(tc.kvTokens)-1) > 0.01 {
				t.Errorf("KV capacity %d tokens, want about %d", c.KVTokens, tc.kvTokens)
			}
			t.Logf("%s: %s; overhead %v, per token %v, weights %v, per context token %.1f ns, KV %d tokens",
				c.Name, c.Description, c.Overhead, c.PerToken, c.WeightRead, c.PerContextToken, c.KVTokens)
		})
	}
	if p := Llama8B.Params(); math.Abs(p/8.03e9-1) > 0.001 {
		t.Errorf("Llama 8B shape has %.4g params, want 8.03e9", p)
	}
	if p := Llama70B.Params(); math.Abs(p/70.55e9-1) > 0.001 {
		t.Errorf("Llama 70B shape has %.4g params, want 70.55e9", p)
	}
	if _, err := Preset("tpu"); err == nil {
		t.Error("unknown preset accepted")
	}
}
