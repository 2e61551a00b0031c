package targetstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// Failing is an engine that emits N tokens and then fails with "simulated
// engine failure".
type Failing struct{ N int }

// Generate implements sim.Engine.
func (e Failing) Generate(ctx context.Context, job *sim.Job, emit func(int) error) error {
	for i := 0; i < e.N; i++ {
		if err := emit(i); err != nil {
			return err
		}
	}
	return errors.New("simulated engine failure")
}

// NewServer starts the simulator serving p with eng; it closes when t ends.
func NewServer(t testing.TB, p targets.ServerProtocol, eng sim.Engine) *httptest.Server {
	t.Helper()
	srv, err := sim.New(sim.WithProtocols(p), sim.WithEngine(eng))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// CheckEngineFailure sends req to a simulator whose engine fails after two
// tokens: the client must report a stream error with the engine's message
// after those two frames.
func CheckEngineFailure(t *testing.T, p Protocol, req *targets.Request) {
	t.Helper()
	ts := NewServer(t, p, Failing{N: 2})
	c, err := targets.NewClient(ts.URL, p)
	if err != nil {
		t.Fatal(err)
	}
	resp := c.Do(context.Background(), req)
	if resp.Err == nil || resp.Err.Kind != results.KindStream || !strings.Contains(resp.Err.Message, "simulated engine failure") {
		t.Fatalf("Do with failing engine: %+v", resp.Err)
	}
	if len(resp.Frames) != 2 {
		t.Errorf("%d frames before the error, want 2", len(resp.Frames))
	}
}

// CheckSimulator runs the built-in simulator with p and reads a 16-token
// stream from it end to end through a client made with opts.
func CheckSimulator(t *testing.T, p Protocol, opts ...targets.Option) {
	t.Helper()
	CheckSimulatorServing(t, p, p, targets.Usage{PromptTokens: 6, CompletionTokens: 16}, opts...)
}

// CheckSimulatorServing runs the built-in simulator serving server and reads
// a 16-token stream from it end to end through a client of p made with
// opts; the stream must report usage want (the simulator's tokenizer counts
// six prompt tokens in the request: "be", " brief", "\n", "one", " two",
// " three").
func CheckSimulatorServing(t *testing.T, p targets.Protocol, server targets.ServerProtocol, want targets.Usage, opts ...targets.Option) {
	t.Helper()
	ts := NewServer(t, server, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
	c, err := targets.NewClient(ts.URL, p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	resp := c.Do(context.Background(), &targets.Request{Model: "sim", Messages: []targets.Message{
		{Role: "system", Content: "be brief"}, {Role: "user", Content: "one two three"}}, MaxTokens: 16})
	if resp.Err != nil {
		t.Fatalf("Do: %+v", resp.Err)
	}
	if len(resp.Frames) != 16 {
		t.Errorf("%d token frames, want 16", len(resp.Frames))
	}
	// Cached tokens are the simulator's own tests' business.
	if u := resp.Usage; u == nil || u.PromptTokens != want.PromptTokens || u.CompletionTokens != want.CompletionTokens || u.ReasoningTokens != want.ReasoningTokens {
		t.Errorf("usage %+v, want %+v", resp.Usage, want)
	}
}

// WordServer starts a server for POST route that answers with p's stream
// writer: one flushed frame a word, then usage of len(words) tokens for a
// two-token prompt. check vets each request and its parsed body; a non-zero
// status refuses it with msg. The server closes when t ends.
func WordServer(t testing.TB, p targets.ServerProtocol, route string, words []string,
	check func(r *http.Request, req *targets.ServerRequest, body []byte) (status int, msg string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != route {
			http.Error(w, "wrong route "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, err := p.ParseRequest(body)
		if err != nil {
			http.Error(w, "bad body "+string(body), http.StatusBadRequest)
			return
		}
		if status, msg := check(r, req, body); status != 0 {
			http.Error(w, msg, status)
			return
		}
		w.Header().Set("Content-Type", p.ContentType())
		sw := p.NewStreamWriter(w, req, r.Header.Get("X-Request-Id"))
		_ = sw.Start()
		for _, tok := range words {
			_ = sw.Token(tok)
			w.(http.Flusher).Flush()
		}
		_ = sw.Finish(targets.Usage{PromptTokens: 2, CompletionTokens: len(words)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// errClosed is the error of a writer whose connection the client closed.
var errClosed = errors.New("closed")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errClosed }

// CheckWriterErrors checks that every method of p's stream writer returns
// the error of a writer that fails every write, as a connection the client
// closed does.
func CheckWriterErrors(t *testing.T, p targets.ServerProtocol) {
	t.Helper()
	sw := p.NewStreamWriter(failWriter{}, &targets.ServerRequest{}, "")
	for name, err := range map[string]error{
		"Start": sw.Start(), "Token": sw.Token("x"),
		"Finish": sw.Finish(targets.Usage{}), "Fail": sw.Fail("x"),
	} {
		if !errors.Is(err, errClosed) {
			t.Errorf("%s = %v, want the write error", name, err)
		}
	}
}

// CheckBearer checks that p's Authorize sets no header without a key and
// "Authorization: Bearer key" with key.
func CheckBearer(t *testing.T, p targets.Protocol, key string) {
	t.Helper()
	h := http.Header{}
	p.Authorize(h, "")
	if len(h) != 0 {
		t.Errorf("Authorize without key set %v", h)
	}
	p.Authorize(h, key)
	if got := h.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization = %q", got)
	}
}
