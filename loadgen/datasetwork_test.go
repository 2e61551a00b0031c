package loadgen_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/dataset"
	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/targets"
)

// TestUniquePrompts: with Unique, every prompt starts with its own marker,
// no two requests share their first 8 bytes, and the input length (marker
// included) is the drawn one, as the tokenizer counts the whole text.
func TestUniquePrompts(t *testing.T) {
	b, tok := promptBuilder(t)
	for _, tt := range []struct {
		name   string
		prefix loadgen.Prefixes
		in     int
	}{
		{"plain", loadgen.Prefixes{}, 200},
		{"tiny", loadgen.Prefixes{}, 1},
		{"system prefix", loadgen.Prefixes{Groups: 2, Tokens: 50, Share: 1, System: true}, 120},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := &loadgen.Workload{Model: "m", Input: constDist(t, tt.in), Output: constDist(t, 4), Prompts: b, Seed: 1, Prefix: tt.prefix, Unique: true, Nonce: 42}
			seen := map[string]bool{}
			for i := range uint64(200) {
				req, err := w.Request(i)
				if err != nil {
					t.Fatal(err)
				}
				first := req.ChatMessages()[0].Content
				if !strings.HasPrefix(first, loadgen.Marker(42, i)) {
					t.Fatalf("request %d starts %q, want its marker", i, first[:min(30, len(first))])
				}
				head := first[:8]
				if seen[head] {
					t.Fatalf("request %d shares its first bytes %q with an earlier one", i, head)
				}
				seen[head] = true
				got := 0
				for _, m := range req.ChatMessages() {
					got += tok.Count(m.Content)
				}
				mt := tok.Count(loadgen.Marker(42, i))
				if want := max(tt.in, mt+1) + tt.prefix.Tokens; got != req.InputTokens || got != want {
					t.Fatalf("request %d: %d tokens counted, %d recorded, want %d", i, got, req.InputTokens, want)
				}
			}
		})
	}
	// Sessions: the first turn starts with the session's marker, and later
	// turns carry it in the conversation.
	w := &loadgen.Workload{Model: "m", Input: constDist(t, 30), Output: constDist(t, 4), Prompts: b, Seed: 1, Turns: constDist(t, 2), Unique: true, Nonce: 7}
	conv := loadgen.Sessions{Workload: w}.Session(5)
	req, _, _, err := conv.Next(nil)
	if err != nil || !strings.HasPrefix(req.Prompt, loadgen.Marker(7, 5)) || tok.Count(req.Prompt) != 30 {
		t.Fatalf("session turn 1: %v %q (%d tokens)", err, req.Prompt, tok.Count(req.Prompt))
	}
	// Markers differ between runs whose nonces (start times in ns) are
	// close, whatever the request numbers.
	markers := map[string]bool{}
	for _, nonce := range []uint64{1_000_000, 1_000_500} {
		for i := range uint64(2000) {
			m := loadgen.Marker(nonce, i)
			if markers[m] {
				t.Fatalf("nonce %d request %d repeats a marker", nonce, i)
			}
			markers[m] = true
		}
	}
}

func readSet(t *testing.T, path string, o dataset.Options) *dataset.Set {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := dataset.Read(f, path, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDatasetWorkload(t *testing.T) {
	_, tok := promptBuilder(t)
	set := readSet(t, "dataset/testdata/prompts.jsonl", dataset.Options{Seed: 1})
	w := &loadgen.DatasetWorkload{Set: set, Model: "m", Output: constDist(t, 9), Counter: tok, Seed: 1}
	ids := map[string]int{}
	for i := range uint64(6) {
		req, err := w.Request(i)
		if err != nil {
			t.Fatal(err)
		}
		ids[req.DatasetID]++
		want := map[string]int{"a": 64, "line 2": 9, "7": tok.Count("It says little.")}[req.DatasetID]
		if req.MaxTokens != want {
			t.Errorf("%s: max tokens %d, want %d", req.DatasetID, req.MaxTokens, want)
		}
		n := 0
		for _, m := range req.ChatMessages() {
			n += tok.Count(m.Content)
		}
		if req.InputTokens != n || n == 0 {
			t.Errorf("%s: input tokens %d, counted %d", req.DatasetID, req.InputTokens, n)
		}
		if req.DatasetID == "line 2" && (len(req.Messages) != 2 || req.Messages[0].Role != "system") {
			t.Errorf("line 2: messages %+v", req.Messages)
		}
	}
	if len(ids) != 3 || ids["a"] != 2 {
		t.Errorf("entries used %v, want each of 3 twice", ids)
	}
	// Same seed, same requests.
	a, _ := w.Request(4)
	b, _ := w.Request(4)
	if a.Prompt != b.Prompt {
		t.Error("request 4 differs between calls")
	}
}

func TestDatasetSessions(t *testing.T) {
	_, tok := promptBuilder(t)
	set := readSet(t, "dataset/testdata/sharegpt.json", dataset.Options{Seed: 1})
	if !set.Multi() {
		t.Fatal("ShareGPT set with a two-turn conversation is not multi-turn")
	}
	w := &loadgen.DatasetWorkload{Set: set, Model: "m", Output: constDist(t, 9), Counter: tok, Seed: 1, Unique: true, Nonce: 3}
	for s := range uint64(len(set.Entries)) {
		conv := loadgen.DatasetSessions{DatasetWorkload: w}.Session(s)
		var prev *targets.Response
		var reqs []*targets.Request
		for {
			req, _, more, err := conv.Next(prev)
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				break
			}
			reqs = append(reqs, req)
			prev = &targets.Response{}
			prev.Content.WriteString("SERVER SAID THIS")
		}
		if reqs[0].DatasetID != "conv1" {
			if len(reqs) != 1 {
				t.Errorf("%s: %d turns", reqs[0].DatasetID, len(reqs))
			}
			continue
		}
		if len(reqs) != 2 {
			t.Fatalf("conv1: %d turns, want 2", len(reqs))
		}
		m := reqs[1].Messages
		want := []string{"system", "user", "assistant", "user"}
		for j, r := range want {
			if m[j].Role != r {
				t.Fatalf("turn 2 roles: %+v", m)
			}
		}
		if !strings.HasPrefix(m[0].Content, loadgen.Marker(3, s)) || m[2].Content != "Hi! How can I help?" || m[3].Content != "Tell me about tides." {
			t.Errorf("turn 2 messages %+v", m)
		}
		n := 0
		for _, msg := range m {
			n += tok.Count(msg.Content)
		}
		if reqs[1].InputTokens != n || reqs[1].MaxTokens != tok.Count("Tides follow the moon.") || !reqs[1].Session {
			t.Errorf("turn 2: input %d (counted %d), max %d", reqs[1].InputTokens, n, reqs[1].MaxTokens)
		}
	}
}

func constDist(t *testing.T, n int) dist.Dist {
	t.Helper()
	d, err := dist.Parse(strconv.Itoa(n))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
