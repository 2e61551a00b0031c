package harness

import (
	"fmt"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/dataset"
	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/profiles"
)

// runNonce is the per-run part of --unique-prompts markers: from the clock,
// so a second run with the same seed does not match the first's prompts in
// a warm server's prefix cache.
func runNonce() uint64 { return uint64(time.Now().UnixNano()) }

// datasetSource reads --dataset FILE in one streaming pass and returns the
// requests (or, for multi-turn conversations, sessions) it gives. A
// malformed file is an error naming each bad line, before any traffic.
func datasetSource(p *profiles.Profile, builder *prompt.Builder, out dist.Dist, unique bool, nonce uint64) (loadgen.Source, error) {
	f, err := p.OpenFile("dataset", p.Dataset)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	sample := p.DatasetSample
	if sample == 0 {
		sample = dataset.DefaultSample
		if p.Requests > 0 && p.Requests < dataset.DefaultSample {
			sample = int(p.Requests)
		}
	}
	tok := builder.Tokenizer()
	set, err := dataset.Read(f, p.Dataset, dataset.Options{Format: p.DatasetFormat, Sample: sample, Seed: p.Seed,
		MinInput: p.DatasetMinInput, MaxInput: p.DatasetMaxInput, Counter: tok})
	if err != nil {
		return nil, err
	}
	w := &loadgen.DatasetWorkload{Set: set, Model: p.Model, Output: out, Counter: tok, IgnoreEOS: p.IgnoreEOS,
		Seed: p.Seed, Unique: unique, Nonce: nonce}
	if !set.Multi() {
		return w, nil
	}
	if p.ThinkTime != "" {
		if w.Think, err = p.ParseDist("think-time", p.ThinkTime); err != nil {
			return nil, fmt.Errorf("think-time: %w", err)
		}
	}
	return loadgen.DatasetSessions{DatasetWorkload: w}, nil
}

// warnRepeatedPrompts says on the terminal when measured requests repeated
// earlier prompts and --unique-prompts was not given.
func warnRepeatedPrompts(p profiles.Profile, sum *analysis.Summary, logf func(string, ...any)) {
	if note := sum.RepeatedNote(); note != "" && !p.UniquePrompts {
		logf("warning: %s", note)
	}
}
