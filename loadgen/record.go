package loadgen

import (
	"fmt"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// Counter counts tokens in text (a tokenizer).
type Counter interface {
	Count(text string) int
}

// BoundedCounter is a Counter that bounds the cost of pathological text
// and says when it did: CountBounded returns Count(text) and whether the
// count was made in pieces (and so may be off by a few tokens). The
// built-in tokenizers implement it; NewRecord then sets the record's
// OutputTokensBounded.
type BoundedCounter interface {
	Counter
	CountBounded(text string) (n int, bounded bool)
}

// recordCounter counts with a Counter and remembers whether any count was
// bounded.
type recordCounter struct {
	c       Counter
	bc      BoundedCounter // c, when it is one
	bounded bool
}

func newRecordCounter(c Counter) *recordCounter {
	bc, _ := c.(BoundedCounter)
	return &recordCounter{c: c, bc: bc}
}

func (rc *recordCounter) count(text string) int {
	if rc.bc == nil {
		return rc.c.Count(text)
	}
	n, bounded := rc.bc.CountBounded(text)
	rc.bounded = rc.bounded || bounded
	return n
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// NewRecord turns one response into a record. scheduled and the response's
// times are taken relative to start, the run's time origin. counter counts
// tokens of streamed text when the server does not; nil means one token per
// frame.
func NewRecord(id string, start time.Time, scheduled time.Duration, req *targets.Request, resp *targets.Response, counter Counter) *results.Record {
	sent := resp.Sent.Sub(start)
	r := &results.Record{
		ID:          id,
		ScheduledNS: int64(scheduled),
		SentNS:      int64(sent),
		DoneNS:      int64(sent + resp.Done),
		// Lag is how late the attempt started; connection set-up after it
		// is connect time, not the generator's lateness.
		LagMS:       ms(sent - resp.Connect - scheduled),
		ConnectMS:   ms(resp.Connect),
		E2EMS:       ms(resp.Done),
		InputTokens: req.InputTokens,
		DatasetID:   req.DatasetID,
		HTTPStatus:  resp.Status,
		Error:       resp.Err,
		ICLMS:       []float64{},
	}
	if resp.Header > 0 {
		r.TTFBMS = results.Ms(ms(resp.Header))
	}
	for _, at := range resp.Empty {
		r.EmptyFramesMS = append(r.EmptyFramesMS, ms(at))
	}
	frames := resp.Frames
	r.Frames = len(frames)
	if len(frames) > 0 {
		r.FirstTokenNS = int64(sent + frames[0].At)
		r.TTFTMS = results.Ms(ms(frames[0].At))
		for _, f := range frames {
			if f.Content {
				r.TTFOMS = results.Ms(ms(f.At))
				break
			}
		}
		var rc *recordCounter
		if counter != nil {
			rc = newRecordCounter(counter)
		}
		r.ICLMS = make([]float64, 0, len(frames)-1)
		r.FrameTokens = make([]int, len(frames))
		tokenizerTotal := 0
		for i, f := range frames {
			if i > 0 {
				r.ICLMS = append(r.ICLMS, ms(f.At-frames[i-1].At))
			}
			k := f.Tokens
			n := 1
			if rc != nil {
				n = max(rc.count(f.Text), 1)
			}
			tokenizerTotal += n
			if k <= 0 {
				k = n
			}
			r.FrameTokens[i] = k
		}
		if counter != nil {
			r.TokenizerOutputTokens = &tokenizerTotal
		}
		if rc != nil && resp.Reasoning.Len() > 0 {
			r.ReasoningTokens = rc.count(resp.Reasoning.String())
		}
		r.OutputTokensBounded = rc != nil && rc.bounded
	}
	switch {
	case resp.Usage != nil && resp.Usage.CompletionTokens > 0:
		u := resp.Usage.CompletionTokens
		r.UsageOutputTokens = &u
		r.OutputTokens = u
		r.OutputTokensSource = results.SourceUsage
		if resp.Usage.ReasoningTokens > 0 {
			r.ReasoningTokens = resp.Usage.ReasoningTokens
		}
	case r.TokenizerOutputTokens != nil:
		r.OutputTokens = *r.TokenizerOutputTokens
		r.OutputTokensSource = results.SourceTokenizer
	default:
		r.OutputTokens = len(frames)
		r.OutputTokensSource = results.SourceFrames
	}
	serverAccount(r, req, resp)
	if r.TTFTMS != nil && r.OutputTokens >= 2 && r.Error == nil {
		r.TPOTMS = results.Ms((r.E2EMS - *r.TTFTMS) / float64(r.OutputTokens-1))
	}
	if h := PromptHash(req); h != 0 {
		r.PromptHash = fmt.Sprintf("%016x", h)
	}
	r.SLOOK = r.Error == nil
	return r
}

// serverAccount copies into r what the server reported about the request
// beyond its output tokens: its input and cached token counts, its own
// timings and its request id. The input count also stands in for ours when
// the request had none.
func serverAccount(r *results.Record, req *targets.Request, resp *targets.Response) {
	r.ServerRequestID = resp.ServerID
	if u := resp.Usage; u != nil {
		if u.PromptTokens > 0 {
			n := u.PromptTokens
			r.ServerInputTokens = &n
			if req.InputTokens == 0 {
				r.InputTokens = n
				r.InputTokensSource = results.InputFromServer
			}
		}
		if u.Cached && u.CachedTokens >= 0 {
			c := u.CachedTokens
			r.ServerCachedTokens = &c
		}
	}
	for _, f := range [...]struct {
		field targets.TimingField
		dst   **float64
	}{
		{targets.TimeQueue, &r.ServerQueueMS},
		{targets.TimePrefill, &r.ServerPrefillMS},
		{targets.TimeDecode, &r.ServerDecodeMS},
		{targets.TimeLoad, &r.ServerLoadMS},
	} {
		if v, ok := resp.Timing.Get(f.field); ok {
			*f.dst = results.Ms(v)
		}
	}
}
