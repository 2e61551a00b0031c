package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// TestTokenizerServer runs against the simulator, whose tokenizer is not
// cl100k: with --tokenizer server every prompt the simulator counted holds
// exactly the record's input_tokens (the length intended), without it the
// counts are clearly off.
func TestTokenizerServer(t *testing.T) {
	type prompts struct {
		mu     sync.Mutex
		counts map[string]int
	}
	tests := []struct {
		api, tokenizer string
		prefix         bool
		turns          string
		wantExact      bool
	}{
		{api: "openai-chat", tokenizer: "server", turns: "3", wantExact: true},
		{api: "openai-chat", tokenizer: "server", wantExact: true},
		{api: "openai-chat", tokenizer: "server", prefix: true, wantExact: true},
		{api: "openai-completions", tokenizer: "server", prefix: true, wantExact: true},
		{api: "llamacpp", tokenizer: "server", wantExact: true},
		{api: "tgi", tokenizer: "server", wantExact: true},
		{api: "openai-chat", tokenizer: "cl100k_base"},
		{api: "openai-completions", tokenizer: "o200k_base"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/prefix=%v/turns=%s", tt.api, tt.tokenizer, tt.prefix, tt.turns), func(t *testing.T) {
			seen := &prompts{counts: map[string]int{}}
			cfg := sim.DefaultConfig()
			cfg.Scheduler = sim.SchedFixed
			cfg.TTFT, cfg.ITL = time.Millisecond, time.Millisecond
			srv, err := sim.New(sim.WithConfig(cfg), sim.WithProtocols(apis.Servers()...), sim.WithTruth(func(tr *sim.Truth) {
				seen.mu.Lock()
				seen.counts[tr.ID] = tr.PromptTokens
				seen.mu.Unlock()
			}))
			if err != nil {
				t.Fatal(err)
			}
			// Every user message a later turn resends must be the text its
			// own turn sent (fitted), or the server's prefix cache misses.
			var mu sync.Mutex
			sentLast := map[string]bool{}
			var resent, stale int
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v1/chat/completions" {
					body, _ := io.ReadAll(r.Body)
					r.Body = io.NopCloser(bytes.NewReader(body))
					var b struct{ Messages []targets.Message }
					json.Unmarshal(body, &b)
					mu.Lock()
					for i, m := range b.Messages {
						switch {
						case m.Role != "user":
						case i == len(b.Messages)-1:
							sentLast[m.Content] = true
						case sentLast[m.Content]:
							resent++
						default:
							stale++
						}
					}
					mu.Unlock()
				}
				srv.ServeHTTP(w, r)
			}))
			defer ts.Close()
			defer func() {
				if stale > 0 || (tt.turns != "" && resent == 0) {
					t.Errorf("%d earlier user turns resent as sent, %d resent otherwise", resent, stale)
				}
			}()
			l := struct{ URL string }{ts.URL}

			p := profiles.Default()
			p.Name = "tokfit"
			p.Target, p.API, p.Tokenizer = l.URL, tt.api, tt.tokenizer
			p.Rate, p.Requests = 200, 24
			p.InputTokens, p.OutputTokens = "uniform:20,400", "2"
			if tt.prefix {
				p.PrefixGroups, p.PrefixTokens, p.PrefixShare = 2, 64, 0.5
				p.PrefixSystem = tt.api == "openai-chat"
			}
			if tt.turns != "" {
				p.Turns, p.Requests = tt.turns, 8
			}
			p.Out = filepath.Join(t.TempDir(), "run")
			var logs []string
			res, err := harness.Run(context.Background(), p, harness.WithLog(func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }))
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			var total, off int
			err = results.ReadRecords(res.Dir, func(r *results.Record) error {
				seen.mu.Lock()
				got, ok := seen.counts[r.ID]
				seen.mu.Unlock()
				if !ok {
					return fmt.Errorf("request %s never reached the simulator", r.ID)
				}
				total++
				if got != r.InputTokens {
					off++
					if tt.wantExact {
						t.Errorf("request %s: the simulator counted %d prompt tokens, the record says %d", r.ID, got, r.InputTokens)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if total != int(p.Requests) {
				t.Fatalf("%d records, want %d", total, p.Requests)
			}
			t.Logf("%d of %d prompts counted differently by the simulator", off, total)
			if !tt.wantExact && float64(off)/float64(total) < 0.5 {
				t.Errorf("only %d of %d prompts counted differently by the simulator: its tokenizer must differ from %s", off, total, tt.tokenizer)
			}
			// The summary's own account says the same: the server's input
			// counts (its usage) match the records' with --tokenizer server
			// and mostly do not without it.
			sv := res.Summary.Server
			if sv == nil || sv.InputTokensCompared == 0 {
				t.Fatalf("summary has no server input count compared: %+v", sv)
			}
			t.Logf("summary: input mismatch ratio %.3f over %d requests", sv.InputMismatchRatio, sv.InputTokensCompared)
			if tt.wantExact && sv.InputMismatchRatio != 0 {
				t.Errorf("input mismatch ratio %.3f with --tokenizer server, want 0", sv.InputMismatchRatio)
			}
			if !tt.wantExact && sv.InputMismatchRatio < 0.5 {
				t.Errorf("input mismatch ratio %.3f with %s, want clearly above 0", sv.InputMismatchRatio, tt.tokenizer)
			}
			joined := strings.Join(logs, "\n")
			if tt.tokenizer == "server" && tt.turns == "" && (!strings.Contains(joined, "prompts fitted in") || strings.Contains(joined, "could not be matched")) {
				t.Errorf("log lacks the fit's summary, or some prompts were not exact:\n%s", joined)
			}
		})
	}
}

// TestTokenizerServerMissingEndpoint: a server without /tokenize is a
// configuration error naming the endpoint and the alternatives.
func TestTokenizerServerMissingEndpoint(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	p := profiles.Default()
	p.Name = "tokfit"
	p.Target, p.Tokenizer = ts.URL, "server"
	p.Rate, p.Requests = 10, 2
	p.Out = filepath.Join(t.TempDir(), "run")
	_, err := harness.Run(context.Background(), p)
	var ce *harness.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a configuration error", err)
	}
	for _, want := range []string{"--tokenizer server", "/tokenize answered 404", "no tokenize endpoint", "cl100k_base|o200k_base"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
