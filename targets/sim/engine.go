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
}

// Engine decides when each token of a job leaves the server.
type Engine interface {
	// Generate produces job.OutputTokens tokens, calling emit(i) for token i
	// (0-based) at the moment it is ready. It returns when all tokens are out,
	// when emit fails, or when ctx is canceled (the client went away).
	Generate(ctx context.Context, job *Job, emit func(i int) error) error
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
	first := f.TTFT + time.Duration(job.PromptTokens)*f.PerPromptToken
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
		if err := emit(i); err != nil {
			return err
		}
	}
	return nil
}
