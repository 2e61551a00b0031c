package analysistest

import "github.com/streamgauge/streamgauge/results"

func intp(v int) *int { return &v }

const ms = int64(1e6)

// ToolFixture is a tiny run with every case the tools treat differently.
// Frame times are ms from the request's send.
//
//	R1 ok, reasoning model: a role-only chunk (not in the record: we never
//	   time it) then frames at 100 (reasoning, 1 token), 110 (reasoning, 1),
//	   130 (content, 2 tokens), 140 (content, 1); [DONE] at 150.
//	   scheduled 0, sent 5 (lag 5), done 155. usage 5, our tokenizer 6,
//	   reasoning 2. ttft 100, ttfo 130, icl [10 20 10], tpot (150-100)/4=12.5.
//	R2 ok, no usage (tokenizer count 4): frames at 200, 220, 260 (2 tokens);
//	   end 290. sent 50, done 340. ttft=ttfo 200, icl [20 40], tpot 90/3=30.
//	R3 ok, one token at 50, end 60; sent 100, done 160; usage 1.
//	R4 failed (http_5xx): sent 120, done 130.
//	R5 warm-up (absurd numbers: must be left out everywhere).
func ToolFixture() []*results.Record {
	return []*results.Record{
		{ID: "r1", ScheduledNS: 0, SentNS: 5 * ms, FirstTokenNS: 105 * ms, DoneNS: 155 * ms,
			TTFTMS: results.Ms(100), TTFOMS: results.Ms(130), E2EMS: 150, TPOTMS: results.Ms(12.5),
			ICLMS: []float64{10, 20, 10}, FrameTokens: []int{1, 1, 2, 1},
			OutputTokens: 5, OutputTokensSource: results.SourceUsage, UsageOutputTokens: intp(5), TokenizerOutputTokens: intp(6),
			ReasoningTokens: 2, Frames: 4, HTTPStatus: 200},
		{ID: "r2", ScheduledNS: 50 * ms, SentNS: 50 * ms, FirstTokenNS: 250 * ms, DoneNS: 340 * ms,
			TTFTMS: results.Ms(200), TTFOMS: results.Ms(200), E2EMS: 290, TPOTMS: results.Ms(30),
			ICLMS: []float64{20, 40}, FrameTokens: []int{1, 1, 2},
			OutputTokens: 4, OutputTokensSource: results.SourceTokenizer, TokenizerOutputTokens: intp(4),
			Frames: 3, HTTPStatus: 200},
		{ID: "r3", ScheduledNS: 100 * ms, SentNS: 100 * ms, FirstTokenNS: 150 * ms, DoneNS: 160 * ms,
			TTFTMS: results.Ms(50), TTFOMS: results.Ms(50), E2EMS: 60,
			ICLMS: []float64{}, FrameTokens: []int{1},
			OutputTokens: 1, OutputTokensSource: results.SourceUsage, UsageOutputTokens: intp(1), TokenizerOutputTokens: intp(1),
			Frames: 1, HTTPStatus: 200},
		{ID: "r4", ScheduledNS: 120 * ms, SentNS: 120 * ms, DoneNS: 130 * ms, E2EMS: 10, HTTPStatus: 500,
			Error: &results.Error{Kind: results.KindHTTP5xx, Message: "boom"}},
		{ID: "r5", Warmup: true, ScheduledNS: 0, SentNS: 0, DoneNS: 9000 * ms,
			TTFTMS: results.Ms(9999), TTFOMS: results.Ms(9999), E2EMS: 9999, ICLMS: []float64{999},
			OutputTokens: 99, OutputTokensSource: results.SourceUsage, UsageOutputTokens: intp(99), Frames: 2, HTTPStatus: 200},
	}
}
