package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/sim"
)

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"scheduler", []string{"--scheduler", "lifo"}, "sim: scheduler: \"lifo\" is not one of"},
		{"preset", []string{"--preset", "tpu-v9"}, "sim: preset: \"tpu-v9\""},
		{"max-batch", []string{"--max-batch", "0"}, "sim: max-batch: 0 must be at least 1"},
		{"fail-rate", []string{"--fail-rate", "2"}, "sim: fail-rate: 2 must be in [0, 1]"},
		{"fail-kinds", []string{"--fail-rate", "0.1", "--fail-kinds", "429,418"}, "fail-kinds: fail kind \"418\""},
		{"stall", []string{"--stall", "32"}, "stall \"32\": want EVERY:DURATION"},
		{"ttft with a stepped scheduler", []string{"--scheduler", "continuous", "--ttft", "10ms"}, "ttft: applies to --scheduler fixed only"},
		{"two problems at once", []string{"--max-batch", "0", "--max-step-tokens", "0"}, "max-step-tokens"},
		{"argument", []string{"now"}, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tc.want)
			}
		})
	}
}

func TestServeHelp(t *testing.T) {
	r := runCLI(t, nil, "serve", "--help")
	for _, want := range []string{"streamgauge serve --addr 127.0.0.1:8000 --scheduler continuous --preset h100-llama8b",
		"--fail-rate 0.05 --fail-kinds 429,stream,drop --stall 32:250ms --seed 7", "--truth-log", "h200-llama8b-hf-eager", "chunked-prefill"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs serve in-process until the test ends and returns its URL.
func startServe(t *testing.T, args ...string) (url string, stop func() result) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(string) (string, bool) { return "", false }}
	done := make(chan int, 1)
	go func() {
		root := newRoot(e)
		root.SetArgs(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
		root.SetOut(&out)
		root.SetErr(&errb)
		err := root.ExecuteContext(ctx)
		if err != nil {
			printError(&errb, err)
		}
		done <- codeOf(err)
	}()
	var once sync.Once
	var res result
	stop = func() result {
		once.Do(func() {
			cancel()
			res = result{out.String(), errb.String(), <-done}
		})
		return res
	}
	t.Cleanup(func() { stop() })
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			return m[1], stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s", code, errb.String())
		default:
		}
	}
	t.Fatalf("serve did not start: %s", errb.String())
	return "", nil
}

func TestServeEndToEnd(t *testing.T) {
	truth := filepath.Join(t.TempDir(), "truth.jsonl")
	url, stop := startServe(t, "--scheduler", "chunked-prefill", "--preset", "h200-llama8b", "--max-batch", "8",
		"--max-step-tokens", "64", "--prefix-cache", "--truth-log", truth, "--model-name", "sim-8b")
	c, err := targets.NewClient(url, openai.Chat{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	resp := c.Do(context.Background(), &targets.Request{ID: "e2e-1", Model: "m", Prompt: strings.TrimSpace(strings.Repeat("word ", 100)), MaxTokens: 6, IgnoreEOS: true})
	if resp.Err != nil || len(resp.Frames) != 6 {
		t.Fatalf("%d frames, error %v", len(resp.Frames), resp.Err)
	}
	m, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(m.Body)
	m.Body.Close()
	if !strings.Contains(string(body), `vllm:generation_tokens_total{model_name="sim-8b"} 6`) {
		t.Errorf("/metrics:\n%s", body)
	}
	r := stop()
	if r.code != 0 || !strings.Contains(r.stderr, "scheduler chunked-prefill, preset h200-llama8b, max-batch 8, kv-tokens 845638, max-step-tokens 64, prefix cache") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	f, err := os.Open(truth)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []sim.Truth
	for sc.Scan() {
		var tr sim.Truth
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatalf("truth line %q: %v", sc.Text(), err)
		}
		lines = append(lines, tr)
	}
	if len(lines) != 1 || lines[0].ID != "e2e-1" || lines[0].Outcome != "ok" || len(lines[0].TokenNS) != 6 || lines[0].PromptTokens != 100 {
		t.Errorf("truth log %+v", lines)
	}
}

// TestServeFixedCompat: --ttft/--itl without --scheduler keep meaning the
// fixed engine, as before the stepped engine existed.
func TestServeFixedCompat(t *testing.T) {
	url, stop := startServe(t, "--ttft", "5ms", "--itl", "1ms")
	resp, err := http.Get(url + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/health: %v %v", resp, err)
	}
	resp.Body.Close()
	if r := stop(); !strings.Contains(r.stderr, "scheduler fixed: ttft 5ms, itl 1ms") {
		t.Errorf("stderr %q", r.stderr)
	}
}
