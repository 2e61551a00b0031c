package loadgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/targets"
)

// blockStream seeds the text of trace prefix blocks.
const blockStream = 0x510e527fade682d1

// TraceWorkload replays a trace's request sizes: request i has the input and
// output lengths of the trace's entry i. When entries carry prefix blocks
// (Mooncake hash_ids), the prompt is built block by block, each block's text
// a pure function of its id, so requests that share leading blocks share
// exactly those prompt tokens, as they did in the traced service.
type TraceWorkload struct {
	Trace     *Trace
	Model     string
	Prompts   *prompt.Builder
	IgnoreEOS bool
	Seed      uint64
}

var _ Source = (*TraceWorkload)(nil)

// Request implements Source.
func (w *TraceWorkload) Request(i uint64) (*targets.Request, error) {
	if i >= uint64(len(w.Trace.Entries)) {
		return nil, fmt.Errorf("trace has %d requests; request %d is past its end", len(w.Trace.Entries), i)
	}
	e := w.Trace.Entries[i]
	req := &targets.Request{Model: w.Model, InputTokens: e.Input, MaxTokens: e.Output, IgnoreEOS: w.IgnoreEOS}
	bt := w.Trace.BlockTokens
	if len(e.Blocks) == 0 || bt <= 0 {
		req.Prompt = w.Prompts.Build(rand.New(rand.NewPCG(w.Seed, requestStream^i)), e.Input)
		return req, nil
	}
	var text []byte
	left := e.Input
	for j, id := range e.Blocks {
		if left <= 0 {
			break
		}
		n := min(bt, left)
		if j == len(e.Blocks)-1 {
			n = left // the last block takes whatever the input length leaves
		}
		rng := rand.New(rand.NewPCG(w.Seed, blockStream^id))
		if j == 0 {
			text = append(text, w.Prompts.Build(rng, n)...)
		} else {
			text = append(text, w.Prompts.Continue(rng, n)...)
		}
		left -= n
	}
	req.Prompt = string(text)
	return req, nil
}
