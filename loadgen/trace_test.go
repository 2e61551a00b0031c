package loadgen_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
	"github.com/streamgauge/streamgauge/targets"
)

func readTrace(t *testing.T, path, format string) *loadgen.Trace {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := loadgen.ReadTrace(f, path, format)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestReadTraceFormats(t *testing.T) {
	tests := []struct {
		path string
		at   []time.Duration
		in   []int
	}{
		{"testdata/mooncake.jsonl", []time.Duration{0, 0, 3 * time.Second}, []int{1100, 1300, 600}},
		{"testdata/azure.csv", []time.Duration{0, 4314579000, 4319410000}, []int{374, 396, 10}},
		{"testdata/offsets.csv", []time.Duration{0, 250500 * time.Microsecond, time.Second}, []int{100, 200, 300}},
		{"../../shared/data/burstgpt_head42.csv", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if _, err := os.Stat(tc.path); err != nil {
				t.Skip(err)
			}
			tr := readTrace(t, tc.path, loadgen.TraceAuto)
			if tc.at == nil {
				if len(tr.Entries) != 38 { // 42 rows, 4 failed with 0 tokens
					t.Errorf("%d entries, want 38", len(tr.Entries))
				}
				return
			}
			if len(tr.Entries) != len(tc.at) {
				t.Fatalf("%d entries, want %d", len(tr.Entries), len(tc.at))
			}
			for i, e := range tr.Entries {
				if e.At != tc.at[i] || e.Input != tc.in[i] {
					t.Errorf("entry %d: at %s in %d, want at %s in %d", i, e.At, e.Input, tc.at[i], tc.in[i])
				}
			}
		})
	}
}

func TestReadTraceErrors(t *testing.T) {
	for _, tc := range []struct{ body, format, want string }{
		{"offset_ms,input_tokens,output_tokens\n0,10\n", "auto", "t.csv:2: 2 fields"},
		{"offset_ms,input_tokens,output_tokens\nx,10,3\n", "auto", "t.csv:2: timestamp \"x\""},
		{"offset_ms,input_tokens,output_tokens\n1,-4,3\n", "auto", "input tokens \"-4\""},
		{"TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n", "auto", "TIMESTAMP \"yesterday\""},
		{"{\"timestamp\": 0, \"input_length\": 5}\n", "auto", "record 1: want timestamp, input_length and output_length"},
		{"{\"timestamp\": 0,\n", "auto", "record 1: not a Mooncake line"},
		{"hello\n", "auto", "unknown format"},
		{"", "csv", "no requests"},
		{"0,1,1\n", "parquet", "format \"parquet\""},
	} {
		_, err := loadgen.ReadTrace(strings.NewReader(tc.body), "t.csv", tc.format)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadTrace(%q) = %v, want %q", tc.body, err, tc.want)
		}
	}
}

func TestTraceSliceAndPacer(t *testing.T) {
	tr := readTrace(t, "testdata/offsets.csv", "")
	s, err := tr.Slice(200*time.Millisecond, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != 2 || s.Entries[0].At != 25250*time.Microsecond || s.Entries[1].At != 400*time.Millisecond {
		t.Fatalf("slice %+v", s.Entries)
	}
	got := sched(t, s.Pacer(), 10)
	if len(got) != 2 || got[0] != s.Entries[0].At || got[1] != s.Entries[1].At {
		t.Errorf("pacer schedule %v", got)
	}
	if _, err := tr.Slice(5*time.Second, 0, 1); err == nil {
		t.Error("empty window accepted")
	}
	if _, err := tr.Slice(0, 0, 0); err == nil {
		t.Error("speed 0 accepted")
	}
	for _, w := range []string{"", "10s:20s", ":5m", "1m:"} {
		if _, _, err := loadgen.ParseWindow(w); err != nil {
			t.Errorf("ParseWindow(%q): %v", w, err)
		}
	}
	for _, w := range []string{"10s", "20s:10s", "x:1s"} {
		if _, _, err := loadgen.ParseWindow(w); err == nil {
			t.Errorf("ParseWindow(%q) accepted", w)
		}
	}
}

var builder *prompt.Builder

func promptBuilder(t *testing.T) (*prompt.Builder, tokenizer.Tokenizer) {
	t.Helper()
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		t.Fatal(err)
	}
	if builder == nil {
		if builder, err = prompt.New(tok); err != nil {
			t.Fatal(err)
		}
	}
	return builder, tok
}

// TestTraceBlocksShareText checks Mooncake prefix blocks: requests sharing
// leading hash ids share exactly that prompt text, and every prompt has the
// trace's input length.
func TestTraceBlocksShareText(t *testing.T) {
	b, tok := promptBuilder(t)
	w := &loadgen.TraceWorkload{Trace: readTrace(t, "testdata/mooncake.jsonl", ""), Prompts: b, Seed: 7}
	var prompts []string
	for i := range w.Trace.Entries {
		r, err := w.Request(uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if n := tok.Count(r.Prompt); n != w.Trace.Entries[i].Input || r.InputTokens != n {
			t.Errorf("request %d: %d tokens (record says %d), trace says %d", i, n, r.InputTokens, w.Trace.Entries[i].Input)
		}
		prompts = append(prompts, r.Prompt)
	}
	common := func(a, b string) int {
		n := 0
		for n < len(a) && n < len(b) && a[n] == b[n] {
			n++
		}
		return tok.Count(a[:n])
	}
	// Requests 0 and 1 share blocks 0 and 1 (1,024 tokens); 0 and 2 share block 0.
	if c := common(prompts[0], prompts[1]); c < 1024 || c > 1025 {
		t.Errorf("requests 0 and 1 share %d tokens, want 1024", c)
	}
	if c := common(prompts[0], prompts[2]); c < 512 || c > 513 {
		t.Errorf("requests 0 and 2 share %d tokens, want 512", c)
	}
	if _, err := w.Request(99); err == nil {
		t.Error("request past the trace's end accepted")
	}
}

func TestWorkloadDeterministicAndPrefixed(t *testing.T) {
	b, tok := promptBuilder(t)
	in, _ := dist.Parse("uniform:50,200")
	out, _ := dist.Parse("lognormal:median=100,sigma=0.5")
	mk := func(seed uint64) *loadgen.Workload {
		return &loadgen.Workload{Model: "m", Input: in, Output: out, Prompts: b, Seed: seed,
			Prefix: loadgen.Prefixes{Groups: 2, Tokens: 300, Share: 0.5}}
	}
	a, a2, c := mk(1), mk(1), mk(2)
	prefixed := 0
	for i := uint64(0); i < 200; i++ {
		ra, _ := a.Request(i)
		ra2, _ := a2.Request(i)
		rc, _ := c.Request(i)
		if ra.Prompt != ra2.Prompt || ra.MaxTokens != ra2.MaxTokens || ra.InputTokens != ra2.InputTokens {
			t.Fatalf("request %d differs between two workloads with seed 1", i)
		}
		if ra.Prompt == rc.Prompt {
			t.Fatalf("request %d is the same under seeds 1 and 2", i)
		}
		if n := tok.Count(ra.Prompt); n != ra.InputTokens {
			t.Fatalf("request %d: %d tokens, says %d", i, n, ra.InputTokens)
		}
		if ra.InputTokens > 300 {
			prefixed++
		}
	}
	if prefixed < 70 || prefixed > 130 {
		t.Errorf("%d of 200 requests carry a 300-token prefix, want about half", prefixed)
	}
}

func TestSessionsCarryConversation(t *testing.T) {
	b, _ := promptBuilder(t)
	in, _ := dist.Parse("20")
	out, _ := dist.Parse("5")
	turns, _ := dist.Parse("3")
	think, _ := dist.Parse("250")
	w := &loadgen.Workload{Model: "m", Input: in, Output: out, Prompts: b, Seed: 3, Turns: turns, Think: think,
		Prefix: loadgen.Prefixes{Groups: 1, Tokens: 40, Share: 1, System: true}}
	conv := loadgen.Sessions{Workload: w}.Session(0)
	r1, th, more, err := conv.Next(nil)
	if err != nil || !more || th != 0 || !r1.Session {
		t.Fatalf("turn 1: %v %v %v %v", r1, th, more, err)
	}
	if len(r1.Messages) != 2 || r1.Messages[0].Role != "system" || r1.InputTokens != 60 {
		t.Fatalf("turn 1 messages %+v, input %d", r1.Messages, r1.InputTokens)
	}
	resp := fakeResponse("the answer", 5)
	r2, th, more, _ := conv.Next(resp)
	if !more || th != 250*time.Millisecond {
		t.Fatalf("turn 2: more %v think %s", more, th)
	}
	if len(r2.Messages) != 4 || r2.Messages[2].Role != "assistant" || r2.Messages[2].Content != "the answer" || r2.InputTokens != 85 {
		t.Fatalf("turn 2 messages %+v input %d", r2.Messages, r2.InputTokens)
	}
	if _, _, more, _ = conv.Next(resp); !more {
		t.Fatal("turn 3 missing")
	}
	if _, _, more, _ = conv.Next(resp); more {
		t.Fatal("a fourth turn in a 3-turn session")
	}
	// The same session of another Sessions value sends the same prompts.
	again := loadgen.Sessions{Workload: &loadgen.Workload{Model: "m", Input: in, Output: out, Prompts: b, Seed: 3, Turns: turns, Think: think,
		Prefix: loadgen.Prefixes{Groups: 1, Tokens: 40, Share: 1, System: true}}}.Session(0)
	a1, _, _, _ := again.Next(nil)
	if a1.Messages[1].Content != r1.Messages[1].Content || a1.Messages[0].Content != r1.Messages[0].Content {
		t.Error("same seed, different first turn")
	}
}

// fakeResponse is a finished stream of text with a usage report of n tokens.
func fakeResponse(text string, n int) *targets.Response {
	r := &targets.Response{Usage: &targets.Usage{CompletionTokens: n}}
	r.Content.WriteString(text)
	return r
}
