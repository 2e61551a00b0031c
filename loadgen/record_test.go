package loadgen_test

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// words counts whitespace-separated words: a stand-in tokenizer.
type words struct{}

func (words) Count(s string) int { return len(strings.Fields(s)) }

const ms = time.Millisecond

// content is a token-bearing answer frame at offset at from the send.
func content(at time.Duration, text string) targets.Stamp {
	return targets.Stamp{At: at, Text: text, Content: true}
}

func reasoning(at time.Duration, text string) targets.Stamp {
	return targets.Stamp{At: at, Text: text, Reasoning: true}
}

func withTokens(s targets.Stamp, k int) targets.Stamp { s.Tokens = k; return s }

func intp(v int) *int { return &v }

// response builds a Response sent at start+sent. Content and Reasoning
// hold the text of the frames of each kind.
func response(start time.Time, sent, header, done time.Duration, frames ...targets.Stamp) *targets.Response {
	r := &targets.Response{Sent: start.Add(sent), Header: header, Done: done, Status: 200, Frames: frames}
	for _, f := range frames {
		if f.Reasoning {
			r.Reasoning.WriteString(f.Text)
		} else if f.Content {
			r.Content.WriteString(f.Text)
		}
	}
	return r
}

func TestNewRecord(t *testing.T) {
	start := time.Now()
	sec := time.Second
	tests := []struct {
		name      string
		scheduled time.Duration
		req       targets.Request
		resp      func() *targets.Response
		counter   loadgen.Counter
		want      results.Record
	}{
		{
			name:      "content with a tokenizer",
			scheduled: sec - ms,
			req:       targets.Request{InputTokens: 64},
			resp: func() *targets.Response {
				r := response(start, sec, 20*ms, 250*ms,
					content(100*ms, "a b "), content(150*ms, "c "), content(200*ms, "d e f"))
				r.Empty = []time.Duration{100 * ms, 210 * ms} // a role chunk, a finish chunk
				return r
			},
			counter: words{},
			want: results.Record{
				ScheduledNS: int64(sec - ms), SentNS: int64(sec), FirstTokenNS: int64(sec + 100*ms), DoneNS: int64(sec + 250*ms),
				LagMS: 1, TTFBMS: results.Ms(20), TTFTMS: results.Ms(100), TTFOMS: results.Ms(100), E2EMS: 250,
				TPOTMS: results.Ms(30), // (250 - 100) / (6 - 1)
				ICLMS:  []float64{50, 50}, FrameTokens: []int{2, 1, 3}, EmptyFramesMS: []float64{100, 210},
				InputTokens: 64, OutputTokens: 6, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(6),
				Frames: 3, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name: "reasoning before content: ttfo after ttft",
			req:  targets.Request{InputTokens: 10},
			resp: func() *targets.Response {
				return response(start, 5*ms, 10*ms, 300*ms,
					reasoning(100*ms, "hmm let me "), reasoning(130*ms, "think "), content(200*ms, "42"), content(280*ms, " done"))
			},
			counter: words{},
			want: results.Record{
				SentNS: int64(5 * ms), FirstTokenNS: int64(105 * ms), DoneNS: int64(305 * ms), LagMS: 5,
				TTFBMS: results.Ms(10), TTFTMS: results.Ms(100), TTFOMS: results.Ms(200), E2EMS: 300,
				TPOTMS: results.Ms(40), // (300 - 100) / (6 - 1)
				ICLMS:  []float64{30, 70, 80}, FrameTokens: []int{3, 1, 1, 1},
				InputTokens: 10, OutputTokens: 6, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(6),
				ReasoningTokens: 4, Frames: 4, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name: "server usage and per-frame tokens win over the tokenizer",
			req:  targets.Request{InputTokens: 40},
			resp: func() *targets.Response {
				r := response(start, 0, 5*ms, 130*ms,
					withTokens(reasoning(10*ms, "x"), 4), withTokens(content(60*ms, "y"), 4), withTokens(content(130*ms, "z"), 4))
				r.Usage = &targets.Usage{PromptTokens: 41, CompletionTokens: 12, ReasoningTokens: 4}
				return r
			},
			counter: words{},
			want: results.Record{
				FirstTokenNS: int64(10 * ms), DoneNS: int64(130 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(10), TTFOMS: results.Ms(60), E2EMS: 130,
				TPOTMS: results.Ms(120.0 / 11),
				ICLMS:  []float64{50, 70}, FrameTokens: []int{4, 4, 4},
				InputTokens: 40, OutputTokens: 12, OutputTokensSource: results.SourceUsage,
				UsageOutputTokens: intp(12), TokenizerOutputTokens: intp(3),
				ReasoningTokens: 4, Frames: 3, HTTPStatus: 200, SLOOK: true,
				ServerInputTokens: intp(41), // the server's count, beside ours
			},
		},
		{
			name: "the server's account: cached tokens, timings, request id",
			req:  targets.Request{InputTokens: 2000},
			resp: func() *targets.Response {
				r := response(start, 0, 5*ms, 100*ms, content(40*ms, "a"), content(100*ms, "b"))
				r.Usage = &targets.Usage{PromptTokens: 2048, CompletionTokens: 2, CachedTokens: 1536, Cached: true}
				r.Timing = &targets.Timing{}
				r.Timing.Set(targets.TimePrefill, 12.5)
				r.Timing.Set(targets.TimeDecode, 55)
				r.Timing.Set(targets.TimeLoad, 0) // reported as 0: kept
				r.ServerID = "chatcmpl-r1"
				return r
			},
			want: results.Record{
				FirstTokenNS: int64(40 * ms), DoneNS: int64(100 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(40), TTFOMS: results.Ms(40), E2EMS: 100,
				TPOTMS: results.Ms(60),
				ICLMS:  []float64{60}, FrameTokens: []int{1, 1},
				InputTokens: 2000, OutputTokens: 2, OutputTokensSource: results.SourceUsage, UsageOutputTokens: intp(2),
				Frames: 2, HTTPStatus: 200, SLOOK: true,
				ServerInputTokens: intp(2048), ServerCachedTokens: intp(1536),
				ServerPrefillMS: results.Ms(12.5), ServerDecodeMS: results.Ms(55), ServerLoadMS: results.Ms(0),
				ServerRequestID: "chatcmpl-r1",
			},
		},
		{
			name: "cached tokens not reported are not zero",
			req:  targets.Request{InputTokens: 10},
			resp: func() *targets.Response {
				r := response(start, 0, 5*ms, 20*ms, content(20*ms, "a"))
				r.Usage = &targets.Usage{PromptTokens: 10, CompletionTokens: 1, CachedTokens: 3}
				return r
			},
			want: results.Record{
				FirstTokenNS: int64(20 * ms), DoneNS: int64(20 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(20), TTFOMS: results.Ms(20), E2EMS: 20,
				ICLMS: []float64{}, FrameTokens: []int{1},
				InputTokens: 10, OutputTokens: 1, OutputTokensSource: results.SourceUsage, UsageOutputTokens: intp(1),
				Frames: 1, HTTPStatus: 200, SLOOK: true, ServerInputTokens: intp(10),
			},
		},
		{
			name: "usage without a tokenizer",
			resp: func() *targets.Response {
				r := response(start, 0, 5*ms, 100*ms, content(20*ms, "a b c"), content(100*ms, "d"))
				r.Usage = &targets.Usage{PromptTokens: 77, CompletionTokens: 5}
				return r
			},
			want: results.Record{
				FirstTokenNS: int64(20 * ms), DoneNS: int64(100 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(20), TTFOMS: results.Ms(20), E2EMS: 100,
				TPOTMS: results.Ms(20), // (100 - 20) / (5 - 1)
				ICLMS:  []float64{80}, FrameTokens: []int{1, 1},
				InputTokens:  77, // from usage: the request did not know
				OutputTokens: 5, OutputTokensSource: results.SourceUsage, UsageOutputTokens: intp(5),
				Frames: 2, HTTPStatus: 200, SLOOK: true,
				InputTokensSource: results.InputFromServer, ServerInputTokens: intp(77),
			},
		},
		{
			name: "no usage, no tokenizer: one token per frame",
			resp: func() *targets.Response {
				return response(start, 0, 5*ms, 100*ms, content(20*ms, "a b c"), content(60*ms, "d"), content(100*ms, "e"))
			},
			want: results.Record{
				FirstTokenNS: int64(20 * ms), DoneNS: int64(100 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(20), TTFOMS: results.Ms(20), E2EMS: 100, TPOTMS: results.Ms(40),
				ICLMS: []float64{40, 40}, FrameTokens: []int{1, 1, 1},
				OutputTokens: 3, OutputTokensSource: results.SourceFrames,
				Frames: 3, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name: "usage of zero tokens falls back to the tokenizer",
			resp: func() *targets.Response {
				r := response(start, 0, 5*ms, 50*ms, content(20*ms, "a b"), content(50*ms, "c"))
				r.Usage = &targets.Usage{}
				return r
			},
			counter: words{},
			want: results.Record{
				FirstTokenNS: int64(20 * ms), DoneNS: int64(50 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(20), TTFOMS: results.Ms(20), E2EMS: 50, TPOTMS: results.Ms(15),
				ICLMS: []float64{30}, FrameTokens: []int{2, 1},
				OutputTokens: 3, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(3),
				Frames: 2, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name: "a single output token has no tpot",
			req:  targets.Request{InputTokens: 8},
			resp: func() *targets.Response {
				return response(start, 0, 5*ms, 40*ms, content(30*ms, "yes"))
			},
			counter: words{},
			want: results.Record{
				FirstTokenNS: int64(30 * ms), DoneNS: int64(40 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(30), TTFOMS: results.Ms(30), E2EMS: 40,
				ICLMS: []float64{}, FrameTokens: []int{1},
				InputTokens: 8, OutputTokens: 1, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(1),
				Frames: 1, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name: "a frame the tokenizer sees as empty is one token",
			resp: func() *targets.Response {
				return response(start, 0, 5*ms, 40*ms, content(10*ms, "a"), content(40*ms, " "))
			},
			counter: words{},
			want: results.Record{
				FirstTokenNS: int64(10 * ms), DoneNS: int64(40 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(10), TTFOMS: results.Ms(10), E2EMS: 40, TPOTMS: results.Ms(30),
				ICLMS: []float64{30}, FrameTokens: []int{1, 1},
				OutputTokens: 2, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(2),
				Frames: 2, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name: "tool-call arguments only: ttft but no ttfo",
			resp: func() *targets.Response {
				return response(start, 0, 5*ms, 60*ms, targets.Stamp{At: 20 * ms, Text: `{"city":`}, targets.Stamp{At: 60 * ms, Text: `"Paris"}`})
			},
			counter: words{},
			want: results.Record{
				FirstTokenNS: int64(20 * ms), DoneNS: int64(60 * ms),
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(20), E2EMS: 60, TPOTMS: results.Ms(40),
				ICLMS: []float64{40}, FrameTokens: []int{1, 1},
				OutputTokens: 2, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(2),
				Frames: 2, HTTPStatus: 200, SLOOK: true,
			},
		},
		{
			name:      "failed mid-stream keeps the tokens received",
			scheduled: 2 * ms,
			req:       targets.Request{InputTokens: 30},
			resp: func() *targets.Response {
				r := response(start, 3*ms, 5*ms, 90*ms, content(20*ms, "a b"), content(50*ms, "c"), content(80*ms, "d"))
				r.Err = &results.Error{Kind: results.KindStream, Message: "upstream reset"}
				return r
			},
			counter: words{},
			want: results.Record{
				ScheduledNS: int64(2 * ms), SentNS: int64(3 * ms), FirstTokenNS: int64(23 * ms), DoneNS: int64(93 * ms), LagMS: 1,
				TTFBMS: results.Ms(5), TTFTMS: results.Ms(20), TTFOMS: results.Ms(20), E2EMS: 90,
				ICLMS: []float64{30, 30}, FrameTokens: []int{2, 1, 1},
				InputTokens: 30, OutputTokens: 4, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(4),
				Frames: 3, HTTPStatus: 200,
				Error: &results.Error{Kind: results.KindStream, Message: "upstream reset"},
			},
		},
		{
			name: "failed before headers",
			req:  targets.Request{InputTokens: 30},
			resp: func() *targets.Response {
				r := response(start, 7*ms, 0, 2*ms)
				r.Status = 0
				r.Err = &results.Error{Kind: results.KindConnect, Message: "connection refused"}
				return r
			},
			counter: words{},
			want: results.Record{
				SentNS: int64(7 * ms), DoneNS: int64(9 * ms), LagMS: 7, E2EMS: 2,
				ICLMS: []float64{}, InputTokens: 30, OutputTokensSource: results.SourceFrames,
				Error: &results.Error{Kind: results.KindConnect, Message: "connection refused"},
			},
		},
		{
			name: "rate limited",
			resp: func() *targets.Response {
				r := response(start, 0, 3*ms, 3*ms)
				r.Status = 429
				r.Err = &results.Error{Kind: results.KindHTTP429, Message: "429 Too Many Requests", RetryAfter: "1"}
				return r
			},
			want: results.Record{
				DoneNS: int64(3 * ms), TTFBMS: results.Ms(3), E2EMS: 3,
				ICLMS: []float64{}, OutputTokensSource: results.SourceFrames, HTTPStatus: 429,
				Error: &results.Error{Kind: results.KindHTTP429, Message: "429 Too Many Requests", RetryAfter: "1"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			got := loadgen.NewRecord("r1", start, tc.scheduled, &req, tc.resp(), tc.counter)
			want := tc.want
			want.ID = "r1"
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("NewRecord:\n got %s\nwant %s", show(got), show(&want))
			}
			// The invariants of the design, whatever the case.
			if got.LagMS != float64(got.SentNS-got.ScheduledNS)/1e6 {
				t.Errorf("lag %v != sent - scheduled", got.LagMS)
			}
			if got.Frames != len(got.ICLMS)+min(got.Frames, 1) {
				t.Errorf("%d frames but %d icl samples", got.Frames, len(got.ICLMS))
			}
			if got.ICLMS == nil {
				t.Error("icl_ms is nil: it would be written as null, not []")
			}
		})
	}
}

// show prints a record with its pointers followed.
func show(r *results.Record) string {
	c := *r
	f := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	i := func(p *int) any {
		if p == nil {
			return nil
		}
		return *p
	}
	c.TTFBMS, c.TTFTMS, c.TTFOMS, c.TPOTMS, c.UsageOutputTokens, c.TokenizerOutputTokens = nil, nil, nil, nil, nil, nil
	return fmt.Sprintf("%+v ttfb=%v ttft=%v ttfo=%v tpot=%v usage=%v tokenizer=%v err=%+v",
		c, f(r.TTFBMS), f(r.TTFTMS), f(r.TTFOMS), f(r.TPOTMS), i(r.UsageOutputTokens), i(r.TokenizerOutputTokens), r.Error)
}

func TestNewRecordTPOT(t *testing.T) {
	// tpot = (e2e - ttft) / (output_tokens - 1), for every token count.
	start := time.Now()
	for _, n := range []int{2, 3, 10, 257} {
		r := response(start, 0, ms, 1000*ms, content(200*ms, "x"), content(1000*ms, "y"))
		r.Usage = &targets.Usage{CompletionTokens: n}
		rec := loadgen.NewRecord("0", start, 0, &targets.Request{}, r, nil)
		want := 800.0 / float64(n-1)
		if rec.TPOTMS == nil || math.Abs(*rec.TPOTMS-want) > 1e-9 {
			t.Errorf("%d tokens: tpot %v, want %v", n, rec.TPOTMS, want)
		}
	}
}

// longWords counts like words but reports a count as bounded when a word is
// longer than 8 bytes: a stand-in for a tokenizer that bounds long runs.
type longWords struct{ words }

func (longWords) CountBounded(s string) (int, bool) {
	bounded := false
	for _, w := range strings.Fields(s) {
		bounded = bounded || len(w) > 8
	}
	return len(strings.Fields(s)), bounded
}

func TestNewRecordBounded(t *testing.T) {
	start := time.Now()
	long := "aaaaaaaaaaaa"
	tests := []struct {
		name    string
		counter loadgen.Counter
		frames  []targets.Stamp
		usage   bool
		want    bool
	}{
		{"no counter", nil, []targets.Stamp{content(ms, long)}, false, false},
		{"counter that never bounds", words{}, []targets.Stamp{content(ms, long)}, false, false},
		{"short frames", longWords{}, []targets.Stamp{content(ms, "a b"), content(2*ms, " c")}, false, false},
		{"long content frame", longWords{}, []targets.Stamp{content(ms, "a b"), content(2*ms, " "+long)}, false, true},
		{"long reasoning", longWords{}, []targets.Stamp{reasoning(ms, "think "+long), content(2*ms, "ok")}, false, true},
		{"usage present", longWords{}, []targets.Stamp{content(ms, long)}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := response(start, 0, ms, 3*ms, tt.frames...)
			if tt.usage {
				r.Usage = &targets.Usage{CompletionTokens: 5}
			}
			rec := loadgen.NewRecord("r", start, 0, &targets.Request{}, r, tt.counter)
			if rec.OutputTokensBounded != tt.want {
				t.Errorf("OutputTokensBounded = %v, want %v", rec.OutputTokensBounded, tt.want)
			}
		})
	}
}

// TestNewRecordLongRun builds records of streams whose text is one long
// run without a space, with the real tokenizer: tiktoken-go's merge never
// finished counting the 1 MiB frame (run with a generous -timeout). No
// timing assertion: the test only needs the record.
func TestNewRecordLongRun(t *testing.T) {
	if testing.Short() {
		t.Skip("MiB frames: skipped with -short")
	}
	tok, err := tokenizer.Get(tokenizer.CL100kBase)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tests := []struct {
		name        string
		frames      []targets.Stamp
		wantBounded bool
	}{
		{"1 MiB frame", []targets.Stamp{content(ms, strings.Repeat("a", 1<<20))}, false},
		{"1 MiB reasoning in 4 frames", []targets.Stamp{
			reasoning(ms, strings.Repeat("b", 256<<10)), reasoning(2*ms, strings.Repeat("b", 256<<10)),
			reasoning(3*ms, strings.Repeat("b", 256<<10)), reasoning(4*ms, strings.Repeat("b", 256<<10)),
			content(5*ms, "done"),
		}, false},
		{"frame over the bound", []targets.Stamp{content(ms, strings.Repeat("c", tokenizer.MaxExactPiece+3))}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := response(start, 0, ms, 10*ms, tt.frames...)
			rec := loadgen.NewRecord("r", start, 0, &targets.Request{}, r, tok)
			if rec.TokenizerOutputTokens == nil || *rec.TokenizerOutputTokens < 1000 {
				t.Errorf("tokenizer_output_tokens = %v, want the run counted", rec.TokenizerOutputTokens)
			}
			if rec.OutputTokensBounded != tt.wantBounded {
				t.Errorf("OutputTokensBounded = %v, want %v", rec.OutputTokensBounded, tt.wantBounded)
			}
		})
	}
}
