package sim

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestChaosDecide(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FailRate = 0.25
	cfg.Seed = 42
	ch := newChaos(cfg)
	kinds := map[chaosKind]int{}
	for i := range 4000 {
		id := "r" + strconv.Itoa(i)
		a := ch.decide(id, 10)
		if a != ch.decide(id, 10) {
			t.Fatalf("%s: two decisions for one id", id)
		}
		kinds[a.kind]++
		if a.kind >= chaosStream && (a.at < 1 || a.at > 9) {
			t.Errorf("%s: mid-stream failure before token %d of 10", id, a.at)
		}
	}
	if n := 4000 - kinds[chaosNone]; n < 900 || n > 1100 {
		t.Errorf("%d of 4000 failed at rate 0.25", n)
	}
	for k := chaos429; k <= chaosDrop; k++ {
		if kinds[k] < 150 {
			t.Errorf("kind %s chosen %d times", k, kinds[k])
		}
	}
	if a := newChaos(DefaultConfig()).decide("r1", 10); a.kind != chaosNone {
		t.Errorf("rate 0 failed a request: %v", a)
	}
	if a := (*chaos)(nil).decide("r1", 10); a.kind != chaosNone {
		t.Errorf("no chaos failed a request: %v", a)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"every scheduler", func(c *Config) { c.Scheduler = SchedPriority }, ""},
		{"scheduler", func(c *Config) { c.Scheduler = "lifo" }, "sim: scheduler: \"lifo\" is not one of"},
		{"preset", func(c *Config) { c.Preset = "tpu" }, "sim: preset: \"tpu\""},
		{"cost replaces preset", func(c *Config) { c.Preset = "tpu"; c.Cost = &CostModel{Overhead: 1, KVTokens: 10} }, ""},
		{"max-batch", func(c *Config) { c.MaxBatch = 0 }, "sim: max-batch: 0 must be at least 1"},
		{"kv-tokens", func(c *Config) { c.KVTokens = -1 }, "sim: kv-tokens"},
		{"max-step-tokens", func(c *Config) { c.MaxStepTokens = 0 }, "sim: max-step-tokens"},
		{"fail-rate", func(c *Config) { c.FailRate = 1.5 }, "sim: fail-rate: 1.5 must be in [0, 1]"},
		{"fail-kinds", func(c *Config) { c.FailKinds = []string{"teapot"} }, "sim: fail-kinds: \"teapot\""},
		{"fail-kinds empty", func(c *Config) { c.FailRate = 0.1; c.FailKinds = nil }, "sim: fail-kinds"},
		{"stall", func(c *Config) { c.StallEvery = 3 }, "sim: stall"},
		{"ttft", func(c *Config) { c.TTFT = -time.Second }, "sim: ttft"},
		{"model-name", func(c *Config) { c.Model = "" }, "sim: model-name"},
		{"kv too small for a preset", func(c *Config) { c.Cost = &CostModel{Overhead: 1} }, "sim: kv-tokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	c := DefaultConfig()
	c.MaxBatch, c.FailRate = 0, 2
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "max-batch") || !strings.Contains(err.Error(), "fail-rate") {
		t.Errorf("want every problem at once, got %v", err)
	}
}

func TestParseStallAndKinds(t *testing.T) {
	if n, d, err := ParseStall("32:250ms"); err != nil || n != 32 || d != 250*time.Millisecond {
		t.Errorf("ParseStall = %d, %s, %v", n, d, err)
	}
	for _, bad := range []string{"32", "x:1s", "0:1s", "3:-1s", "3:abc"} {
		if _, _, err := ParseStall(bad); err == nil {
			t.Errorf("ParseStall(%q) accepted", bad)
		}
	}
	if k, err := ParseFailKinds("429, drop,429"); err != nil || len(k) != 2 || k[0] != "429" || k[1] != "drop" {
		t.Errorf("ParseFailKinds = %v, %v", k, err)
	}
	if _, err := ParseFailKinds("429,418"); err == nil {
		t.Error("ParseFailKinds accepted 418")
	}
}
