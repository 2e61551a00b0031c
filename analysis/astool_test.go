package analysis_test

import (
	"errors"
	"math"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

func st(count int, mean, median, p99 float64) *analysis.ToolStat {
	return &analysis.ToolStat{Count: count, Mean: mean, Median: median, P99: p99}
}

// ours is streamgauge's side, the same for every tool.
//
//	window: first send 5 to last end 340 = 0.335 s; 3 ok, 1 failed.
//	ttft [50 100 200]: mean 116.667, p50 100, p99 100+0.98*100 = 198.
//	itl per token: R1 10 | 20/2,20/2 | 10 -> 10 x4; R2 20 | 40/2,40/2 -> 20 x3:
//	    N=7, mean 100/7, p50 (rank 3) 10, p99 (rank 5.94) 20.
//	tpot [12.5 30]: mean 21.25, p50 21.25, p99 12.5+0.99*17.5 = 29.825.
//	e2e [60 150 290]: mean 166.667, p50 150, p99 150+0.98*140 = 287.2.
//	output tokens 5+4+1 = 10.
var oursWant = analysis.ToolMetrics{
	TTFT: st(3, 350.0/3, 100, 198), ITL: st(7, 100.0/7, 10, 20),
	TPOT: st(2, 21.25, 21.25, 29.825), E2E: st(3, 500.0/3, 150, 287.2),
	Requests: 3, Dropped: 1, OutputTokens: 10, DurationS: 0.335,
	RequestsPerS: 3 / 0.335, OutputTokensPerS: 10 / 0.335,
}

func TestToolReport(t *testing.T) {
	tests := []struct {
		tool string
		want analysis.ToolMetrics
		// families that must be explained
		diffs []string
	}{
		{
			// vLLM: ttft as ours; itl pooled per chunk [10 20 10 20 40]:
			// mean 20, p50 20, p99 (rank 3.96) 20+0.96*20 = 39.2.
			// latency = last chunk: R1 140, R2 260, R3 50.
			// output_len: usage 5, tokenizer 4 (no usage), usage 1 = 10.
			// tpot: R1 (140-100)/4 = 10, R2 (260-200)/3 = 20 (R3 n=1 out):
			// mean 15, p50 15, p99 19.9. e2e [50 140 260]: mean 150,
			// p50 140, p99 140+0.98*120 = 257.6. Window: first scheduled
			// 0 to last end 340 = 0.34 s.
			tool: "vllm",
			want: analysis.ToolMetrics{
				TTFT: st(3, 350.0/3, 100, 198), ITL: st(5, 20, 20, 39.2),
				TPOT: st(2, 15, 15, 19.9), E2E: st(3, 150, 140, 257.6),
				Requests: 3, Dropped: 1, OutputTokens: 10, DurationS: 0.34,
				RequestsPerS: 3 / 0.34, OutputTokensPerS: 10 / 0.34,
			},
			diffs: []string{"ttft", "itl", "tpot", "e2e", "duration", "request throughput", "output throughput"},
		},
		{
			// SGLang: ttft at the first content chunk: R1 130, R2 200,
			// R3 50: mean 126.667, p50 130, p99 130+0.98*70 = 198.6.
			// itl between content chunks: R1 [10], R2 [20 40]: mean
			// 23.333, p50 20, p99 20+0.98*20 = 39.6. output_len: usage 5,
			// ours 4, usage 1 = 10. tpot with e2e to [DONE]: R1
			// (150-130)/4 = 5, R2 (290-200)/3 = 30: mean 17.5, p99
			// 5+0.99*25 = 29.75. e2e as ours. Window 0.34 s.
			tool: "sglang",
			want: analysis.ToolMetrics{
				TTFT: st(3, 380.0/3, 130, 198.6), ITL: st(3, 70.0/3, 20, 39.6),
				TPOT: st(2, 17.5, 17.5, 29.75), E2E: st(3, 500.0/3, 150, 287.2),
				Requests: 3, Dropped: 1, OutputTokens: 10, DurationS: 0.34,
				RequestsPerS: 3 / 0.34, OutputTokensPerS: 10 / 0.34,
			},
			diffs: []string{"ttft", "itl", "tpot", "duration", "request throughput", "output throughput"},
		},
		{
			// AIPerf: ttft as ours; OSL = tokenizer 6, 4, 1 = 11; itl per
			// request for >= 2 responses: R1 (140-100)/5 = 8, R2
			// (260-200)/3 = 20: mean 14, p50 14, p99 8+0.99*12 = 19.88. No
			// tpot. e2e to last response [50 140 260]. Window: first send
			// 5 to R2's last response 50+260 = 310: 0.305 s.
			tool: "aiperf",
			want: analysis.ToolMetrics{
				TTFT: st(3, 350.0/3, 100, 198), ITL: st(2, 14, 14, 19.88),
				E2E:      st(3, 150, 140, 257.6),
				Requests: 3, Dropped: 1, OutputTokens: 11, DurationS: 0.305,
				RequestsPerS: 3 / 0.305, OutputTokensPerS: 11 / 0.305,
			},
			diffs: []string{"itl", "tpot", "e2e", "duration", "request throughput", "output throughput"},
		},
		{
			// GenAI-Perf: content-only: ttft as SGLang's; tokens are
			// tokenizer minus reasoning: 6-2 = 4, 4, 1 = 9. itl R1
			// (140-130)/3 = 3.333333 (rounded to ns), R2 (260-200)/3 = 20:
			// mean 11.6666665, p99 3.333333+0.99*16.666667 = 19.83333333.
			// Window 5 to 310 = 0.305 s; 3 requests in the export.
			tool: "genai-perf",
			want: analysis.ToolMetrics{
				TTFT: st(3, 380.0/3, 130, 198.6), ITL: st(2, 11.6666665, 11.6666665, 19.83333333),
				E2E:      st(3, 150, 140, 257.6),
				Requests: 3, Dropped: 1, OutputTokens: 9, DurationS: 0.305,
				RequestsPerS: 3 / 0.305, OutputTokensPerS: 9 / 0.305,
			},
			diffs: []string{"ttft", "itl", "tpot", "e2e", "duration", "request throughput", "output throughput"},
		},
		{
			// GuideLLM: weighted CDF percentiles; token iterations are
			// content chunks: R1 [130 140], R2 [200 220 260], R3 [50].
			// output_tokens: usage 5, content chunks 3 (no usage), usage 1
			// = 9. ttft [50 130 200] weight 1: p50 130, p99 200. itl R1
			// (140-130)/4 = 2.5 w4, R2 (260-200)/2 = 30 w2: mean 70/6,
			// p50 2.5 (cdf 4/6), p99 30, count 6. tpot incl. ttft: R1
			// 140/5 = 28 w5, R3 50/1 = 50 w1, R2 260/3 w3: mean 450/9 = 50,
			// p50 28 (cdf 5/9), p99 260/3. e2e [60 150 290]: p50 150, p99
			// 290. Window 5 to 340 = 0.335 s.
			tool: "guidellm",
			want: analysis.ToolMetrics{
				TTFT: st(3, 380.0/3, 130, 200), ITL: st(6, 70.0/6, 2.5, 30),
				TPOT: st(9, 50, 28, 260.0/3), E2E: st(3, 500.0/3, 150, 290),
				Requests: 3, Dropped: 1, OutputTokens: 9, DurationS: 0.335,
				RequestsPerS: 3 / 0.335, OutputTokensPerS: 9 / 0.335,
			},
			diffs: []string{"ttft", "itl", "tpot", "e2e", "output throughput"},
		},
		{
			// LLMPerf: ttft at first content chunk (as SGLang). tokens
			// content-only 4, 4, 1 = 9. itl = last content chunk / tokens:
			// R1 140/4 = 35, R2 260/4 = 65, R3 50/1 = 50: mean 50, p50 50,
			// p99 50+0.98*15 = 64.7. No tpot. e2e as ours. Window 0 to 340.
			tool: "llmperf",
			want: analysis.ToolMetrics{
				TTFT: st(3, 380.0/3, 130, 198.6), ITL: st(3, 50, 50, 64.7),
				E2E:      st(3, 500.0/3, 150, 287.2),
				Requests: 3, Dropped: 1, OutputTokens: 9, DurationS: 0.34,
				RequestsPerS: 3 / 0.34, OutputTokensPerS: 9 / 0.34,
			},
			diffs: []string{"ttft", "itl", "tpot", "duration", "request throughput", "output throughput"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.tool, func(t *testing.T) {
			a, err := analysis.NewToolAccumulator(tc.tool)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range analysistest.ToolFixture() {
				if err := a.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			rep := a.Report()
			if rep.Warmup != 1 {
				t.Errorf("warmup = %d, want 1", rep.Warmup)
			}
			checkMetrics(t, "streamgauge", rep.Ours, oursWant)
			checkMetrics(t, tc.tool, rep.Theirs, tc.want)
			got := map[string]analysis.Difference{}
			for _, d := range rep.Differences {
				if d.Why == "" {
					t.Errorf("difference %s has no explanation", d.Metric)
				}
				got[d.Metric] = d
			}
			for _, f := range tc.diffs {
				if _, ok := got[f]; !ok {
					t.Errorf("no explanation for %s; got %v", f, rep.Differences)
				}
			}
			if len(got) != len(tc.diffs) {
				t.Errorf("%d differences, want %d: %+v", len(got), len(tc.diffs), rep.Differences)
			}
			if len(rep.Sources) == 0 || rep.Percentiles == "" {
				t.Errorf("sources %v, percentiles %q", rep.Sources, rep.Percentiles)
			}
		})
	}
}

func nearTool(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func checkStat(t *testing.T, what string, got, want *analysis.ToolStat) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
		return
	}
	if got == nil {
		return
	}
	if got.Count != want.Count || !nearTool(got.Mean, want.Mean) || !nearTool(got.Median, want.Median) || !nearTool(got.P99, want.P99) {
		t.Errorf("%s = %+v, want %+v", what, *got, *want)
	}
}

func checkMetrics(t *testing.T, side string, got, want analysis.ToolMetrics) {
	t.Helper()
	checkStat(t, side+" ttft", got.TTFT, want.TTFT)
	checkStat(t, side+" itl", got.ITL, want.ITL)
	checkStat(t, side+" tpot", got.TPOT, want.TPOT)
	checkStat(t, side+" e2e", got.E2E, want.E2E)
	if got.Requests != want.Requests || got.Dropped != want.Dropped || got.OutputTokens != want.OutputTokens {
		t.Errorf("%s requests %d dropped %d tokens %d, want %d %d %d", side, got.Requests, got.Dropped, got.OutputTokens,
			want.Requests, want.Dropped, want.OutputTokens)
	}
	if !nearTool(got.DurationS, want.DurationS) || !nearTool(got.RequestsPerS, want.RequestsPerS) || !nearTool(got.OutputTokensPerS, want.OutputTokensPerS) {
		t.Errorf("%s duration %g req/s %g tok/s %g, want %g %g %g", side, got.DurationS, got.RequestsPerS, got.OutputTokensPerS,
			want.DurationS, want.RequestsPerS, want.OutputTokensPerS)
	}
}

func TestToolUnknown(t *testing.T) {
	_, err := analysis.NewToolAccumulator("k6")
	if !errors.Is(err, analysis.ErrUnknownTool) {
		t.Fatalf("err = %v, want ErrUnknownTool", err)
	}
}

func TestToolReportEmpty(t *testing.T) {
	for _, tool := range analysis.ToolNames {
		a, err := analysis.NewToolAccumulator(tool)
		if err != nil {
			t.Fatal(err)
		}
		rep := a.Report()
		if rep.Theirs.TTFT != nil || rep.Theirs.RequestsPerS != 0 {
			t.Errorf("%s: empty run gave %+v", tool, rep.Theirs)
		}
	}
}

// TestToolVLLMChunks: vLLM times every chunk with choices, so the empty
// frames the records keep (a role-only first chunk, a finish-only last
// one) enter its ttft, its ITL pool and its latency; without usage its
// output_len is its tokenizer on the content text only.
func TestToolVLLMChunks(t *testing.T) {
	const ms = int64(1e6)
	rec := func() *results.Record {
		tok := 5
		return &results.Record{ID: "a", ScheduledNS: 200 * ms, SentNS: 200 * ms, FirstTokenNS: 240 * ms, DoneNS: 300 * ms,
			TTFTMS: results.Ms(40), TTFOMS: results.Ms(48), E2EMS: 60, ICLMS: []float64{8, 8}, FrameTokens: []int{1, 1, 1},
			EmptyFramesMS: []float64{40, 56.5},
			OutputTokens:  5, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: &tok, ReasoningTokens: 2,
			Frames: 3, HTTPStatus: 200}
	}
	warm := &results.Record{ID: "w", Warmup: true, ScheduledNS: 150 * ms, SentNS: 150 * ms, DoneNS: 190 * ms,
		TTFTMS: results.Ms(30), E2EMS: 40, ICLMS: []float64{}, FrameTokens: []int{1}, OutputTokens: 1, Frames: 1}
	tests := []struct {
		name     string
		warmup   bool
		rate     float64
		gapFirst bool
		// duration: closed loop, the scheduled send 200 ms to its end
		// 300 ms; at a rate, vLLM's one arrival comes N/rate = 1/4 s
		// after its clock's start and takes its 100 ms: 0.35 s.
		durS float64
	}{
		{"closed loop", false, 0, false, 0.1},
		{"closed loop with warm-up", true, 0, false, 0.1},
		{"constant 4/s", false, 4, false, 0.35},
		{"poisson 4/s", false, 4, true, 0.35},
		{"warm-up, 4/s", true, 4, false, 0.35},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := analysis.NewToolAccumulator("vllm")
			if err != nil {
				t.Fatal(err)
			}
			a.SetArrival(tc.rate, tc.gapFirst)
			if tc.warmup {
				if err := a.Append(warm); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Append(rec()); err != nil {
				t.Fatal(err)
			}
			// chunks at [40 40 48 56 56.5]: ttft 40; itl [0 8 8 0.5],
			// sorted [0 0.5 8 8]: mean 16.5/4 = 4.125, p50 (rank 1.5)
			// 0.5+0.5*7.5 = 4.25, p99 (rank 2.97) 8. output_len =
			// tokenizer 5 - reasoning 2 = 3: tpot (56.5-40)/2 = 8.25.
			// e2e = last chunk 56.5.
			want := analysis.ToolMetrics{
				TTFT: st(1, 40, 40, 40), ITL: st(4, 4.125, 4.25, 8), TPOT: st(1, 8.25, 8.25, 8.25),
				E2E: st(1, 56.5, 56.5, 56.5), Requests: 1, OutputTokens: 3, DurationS: tc.durS,
				RequestsPerS: 1 / tc.durS, OutputTokensPerS: 3 / tc.durS,
			}
			checkMetrics(t, "vllm", a.Report().Theirs, want)
		})
	}
}

// TestToolVLLMWindow: vLLM's clock starts one interarrival before its first
// request and its schedule is rescaled so the last of N arrivals comes N/rate
// after that start. Two failed arrivals (they stay in vLLM's duration): A
// scheduled at 200 ms ending at 700 ms, B at 300 ms ending at 320 ms; at
// 4/s, N/rate = 500 ms.
func TestToolVLLMWindow(t *testing.T) {
	const ms = int64(1e6)
	fail := &results.Error{Kind: results.KindHTTP5xx, Message: "boom"}
	recs := []*results.Record{
		{ID: "a", ScheduledNS: 200 * ms, SentNS: 200 * ms, DoneNS: 700 * ms, E2EMS: 500, HTTPStatus: 500, Error: fail},
		{ID: "b", ScheduledNS: 300 * ms, SentNS: 300 * ms, DoneNS: 320 * ms, E2EMS: 20, HTTPStatus: 500, Error: fail},
	}
	warm := &results.Record{ID: "w", Warmup: true, ScheduledNS: 150 * ms, SentNS: 150 * ms, DoneNS: 190 * ms, E2EMS: 40}
	tests := []struct {
		name     string
		warmup   bool
		rate     float64
		gapFirst bool
		durS     float64
	}{
		// 200 to 700, nothing rescaled.
		{"closed loop", false, 0, false, 0.5},
		// start 200 - 250 = -50; f = 500/350: A at -50 + 250*f =
		// 307.142857, ends 807.142857 (B ends -50+500+20 = 470):
		// 807.142857 + 50 = 857.142857 ms.
		{"constant", false, 4, false, 0.857142857},
		// start 0; f = 500/300: A at 333.333 ends 833.333 (B 520).
		{"poisson", false, 4, true, 0.833333333},
		// start 150 (the warm-up); f = 500/150: A at 150 + 50*f =
		// 316.667 ends 816.667 (B 670): 816.667 - 150 = 666.667 ms.
		{"warm-up", true, 4, false, 0.666666667},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := analysis.NewToolAccumulator("vllm")
			if err != nil {
				t.Fatal(err)
			}
			a.SetArrival(tc.rate, tc.gapFirst)
			if tc.warmup {
				if err := a.Append(warm); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range recs {
				if err := a.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			th := a.Report().Theirs
			if th.Requests != 0 || th.Dropped != 2 || !nearTool(th.DurationS, tc.durS) {
				t.Errorf("requests %d dropped %d duration %.9f s, want 0 2 %.9f", th.Requests, th.Dropped, th.DurationS, tc.durS)
			}
		})
	}
}
