package loadgen

import (
	"errors"
	"math/rand/v2"

	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/targets"
)

// Workload synthesises independent single-turn requests: an input length and
// an output length drawn from their distributions, and a prompt of exactly the
// input length. Request i depends only on the seed and i.
type Workload struct {
	Model     string
	Input     dist.Dist
	Output    dist.Dist
	Prompts   *prompt.Builder
	IgnoreEOS bool
	Seed      uint64
}

var _ Source = (*Workload)(nil)

// requestStream separates per-request random streams from the pacer's.
const requestStream = 0x9e3779b97f4a7c15

// Request implements Source.
func (w *Workload) Request(i uint64) (*targets.Request, error) {
	if w.Input == nil || w.Output == nil || w.Prompts == nil {
		return nil, errors.New("workload: input, output and prompts must be set")
	}
	rng := rand.New(rand.NewPCG(w.Seed, requestStream^i))
	in := w.Input.Sample(rng)
	out := w.Output.Sample(rng)
	return &targets.Request{
		Model:       w.Model,
		Prompt:      w.Prompts.Build(rng, in),
		InputTokens: in,
		MaxTokens:   out,
		IgnoreEOS:   w.IgnoreEOS,
	}, nil
}
