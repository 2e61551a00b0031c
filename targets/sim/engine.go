package sim

import (
	"context"
	"fmt"
	"time"
)

// Job is one request as the engine sees it.
type Job struct {
	// ID is the request's id (the client's X-Request-Id when sent).
	ID           string
	PromptTokens int
	// OutputTokens is how many tokens to produce.
	OutputTokens int
	// Prompt is the request's text; the prefix cache hashes its words.
	Prompt string
	// CachedTokens and Prefill are the engine's: how many prompt tokens the
	// prefix cache held, and how long the prompt's computation took. The
	// engine sets them before it calls emit for token 0.
	CachedTokens int
	Prefill      time.Duration
	// Due is when the engine meant the token being emitted to leave (Unix
	// ns); an engine sets it before each call of emit, 0 when it cannot say.
	Due int64
}

// Engine decides when each token of a job leaves the server.
type Engine interface {
	// Generate produces job.OutputTokens tokens, calling emit(i) for token i
	// (0-based) at the moment it is ready. It returns when all tokens are out,
	// when emit fails, or when ctx is canceled (the client went away).
	Generate(ctx context.Context, job *Job, emit func(i int) error) error
}

// Admitter is implemented by engines that refuse some jobs outright (a
// request larger than the KV cache, say); the server answers 400 with the
// error before streaming.
type Admitter interface {
	Admit(job *Job) error
}

// Stats is an engine's state for /metrics.
type Stats struct {
	Running, Waiting int
	// KVUsed and KVTokens are the KV-cache tokens in use and the capacity.
	KVUsed, KVTokens          int64
	Steps, Preemptions, Slips uint64
	// PrefixQueries and PrefixHits count prompt tokens looked up in the
	// prefix cache and found there.
	PrefixQueries, PrefixHits uint64
}

// StatsReporter is implemented by engines with a queue and a KV cache.
type StatsReporter interface {
	Stats() Stats
}

// Fixed is an engine in which every request, whatever the load, gets its
// first token TTFT after arrival (plus PerPromptToken for each prompt token)
// and each next token ITL after the previous one. Deadlines are absolute, so
// timer error does not accumulate along a stream.
type Fixed struct {
	TTFT           time.Duration
	ITL            time.Duration
	PerPromptToken time.Duration
}

// Validate reports a setting that cannot work.
func (f Fixed) Validate() error {
	if f.TTFT < 0 || f.ITL < 0 || f.PerPromptToken < 0 {
		return fmt.Errorf("sim: ttft %s, itl %s and per-prompt-token %s must not be negative", f.TTFT, f.ITL, f.PerPromptToken)
	}
	return nil
}

// Generate implements Engine.
func (f Fixed) Generate(ctx context.Context, job *Job, emit func(int) error) error {
	start := time.Now()
	wall := start.UnixNano()
	first := f.TTFT + time.Duration(job.PromptTokens)*f.PerPromptToken
	job.Prefill = first
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for i := 0; i < job.OutputTokens; i++ {
		due := first + time.Duration(i)*f.ITL
		if wait := due - time.Since(start); wait > 0 {
			t.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.C:
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		job.Due = wall + int64(due)
		if err := emit(i); err != nil {
			return err
		}
	}
	return nil
}
