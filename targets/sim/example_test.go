package sim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// A step's duration under a preset: one decode of a single sequence is
// bound by the weight read; a 2048-token prefill by compute.
func ExampleCostModel_StepTime() {
	m, _ := sim.Preset("h100-llama8b")
	decode := m.StepTime(sim.StepLoad{Tokens: 1, Decodes: 1, Context: 1000})
	prefill := m.StepTime(sim.StepLoad{Tokens: 2048, Context: 2048})
	batch := m.StepTime(sim.StepLoad{Tokens: 256, Decodes: 256, Context: 256 * 1000})
	fmt.Println(decode.Round(100*time.Microsecond), prefill.Round(time.Millisecond), batch.Round(100*time.Microsecond))
	// Output: 7.1ms 68ms 27.1ms
}

// The engine the serve command runs, started in process.
func ExampleNewFromConfig() {
	cfg := sim.DefaultConfig()
	cfg.Scheduler = sim.SchedChunked
	cfg.Preset = "h200-llama8b"
	cfg.MaxStepTokens = 256
	srv, err := sim.NewFromConfig(cfg, openai.Chat{})
	if err != nil {
		fmt.Println(err)
		return
	}
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close(context.Background())
	c, _ := targets.NewClient(l.URL, openai.Chat{})
	r := c.Do(context.Background(), &targets.Request{ID: "ex-1", Model: "m", Prompt: "why is the sky blue", MaxTokens: 5, IgnoreEOS: true})
	fmt.Println(len(r.Frames), "tokens,", r.Err)

	cfg.MaxBatch = 0
	fmt.Println(cfg.Validate())
	// Output:
	// 5 tokens, <nil>
	// sim: max-batch: 0 must be at least 1
}
