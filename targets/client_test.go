package targets_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// chunk is a chat.completion.chunk as vLLM writes it, with delta as given.
func chunk(delta string) string {
	return `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733000000,"model":"m","choices":[{"index":0,"delta":` + delta + `,"logprobs":null,"finish_reason":null}]}` + "\n\n"
}

func contentChunk(s string) string { return chunk(fmt.Sprintf(`{"content":%q}`, s)) }

var (
	roleChunk  = chunk(`{"role":"assistant","content":""}`)
	usageChunk = `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1733000000,"model":"m","choices":[],"usage":{"prompt_tokens":9,"total_tokens":12,"completion_tokens":3}}` + "\n\n"
	doneChunk  = "data: [DONE]\n\n"
)

// streamHandler answers with an SSE stream of frames, flushing each one.
func streamHandler(frames ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for _, f := range frames {
			_, _ = io.WriteString(w, f)
			w.(http.Flusher).Flush()
		}
	}
}

// stall waits until the client has gone away. The server notices a client
// closing the connection only once the request body has been read.
func stall(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	<-r.Context().Done()
}

// stallHandler sends frames, then waits for the client to go away.
func stallHandler(frames ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		streamHandler(frames...)(w, r)
		stall(r)
	}
}

// newServer starts a test server on 127.0.0.1.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

func newClient(t *testing.T, base string, opts ...targets.Option) *targets.Client {
	t.Helper()
	c, err := targets.NewClient(base, openai.Chat{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	return c
}

var testRequest = &targets.Request{ID: "req-42", Model: "m", Prompt: "Say hi", MaxTokens: 3, IgnoreEOS: true}

func do(t *testing.T, h http.Handler, opts ...targets.Option) *targets.Response {
	t.Helper()
	srv := newServer(t, h)
	return newClient(t, srv.URL, opts...).Do(context.Background(), testRequest)
}

func wantKind(t *testing.T, resp *targets.Response, kind results.ErrorKind, msg string) {
	t.Helper()
	if resp.Err == nil {
		t.Fatalf("Err = nil, want %s", kind)
	}
	if resp.Err.Kind != kind {
		t.Errorf("Err = %v, want kind %s", resp.Err, kind)
	}
	if !strings.Contains(resp.Err.Message, msg) {
		t.Errorf("Err.Message = %q, want it to contain %q", resp.Err.Message, msg)
	}
}

func TestClientStream(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got *http.Request
		raw []byte
	)
	h := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r
		raw, _ = io.ReadAll(r.Body)
		mu.Unlock()
		streamHandler(": keep-alive\n\n", roleChunk, contentChunk("Hello"), ": ping\n\n",
			contentChunk(","), contentChunk(" world"), chunk(`{}`), usageChunk, doneChunk)(w, r)
	}
	resp := do(t, http.HandlerFunc(h))
	if resp.Err != nil {
		t.Fatalf("Err = %v", resp.Err)
	}
	if resp.Status != http.StatusOK || resp.Sent.IsZero() || resp.Header <= 0 || resp.Done < resp.Header {
		t.Errorf("Status %d, Sent %v, Header %v, Done %v", resp.Status, resp.Sent, resp.Header, resp.Done)
	}
	// The role-only, empty and usage frames are not token frames.
	want := []string{"Hello", ",", " world"}
	if len(resp.Frames) != len(want) {
		t.Fatalf("Frames = %+v, want %d token frames", resp.Frames, len(want))
	}
	for i, s := range resp.Frames {
		if s.Text != want[i] || !s.Content || s.Reasoning || s.Tokens != 0 {
			t.Errorf("frame %d = %+v, want content %q", i, s, want[i])
		}
		if s.At < resp.Header || (i > 0 && s.At < resp.Frames[i-1].At) || s.At > resp.Done {
			t.Errorf("frame %d at %v: out of order (header %v, previous %v, done %v)", i, s.At, resp.Header, resp.Frames[max(i-1, 0)].At, resp.Done)
		}
	}
	if c := resp.Content.String(); c != "Hello, world" {
		t.Errorf("Content = %q", c)
	}
	// The role-only and the empty-delta chunks are timed as empty frames
	// (vLLM's client times them); keep-alives, usage and [DONE] are not.
	if len(resp.Empty) != 2 || resp.Empty[0] > resp.Frames[0].At || resp.Empty[1] < resp.Frames[2].At {
		t.Errorf("Empty = %v, want the role chunk before %v and the empty delta after %v", resp.Empty, resp.Frames[0].At, resp.Frames[2].At)
	}
	if resp.Usage == nil || *resp.Usage != (targets.Usage{PromptTokens: 9, CompletionTokens: 3}) {
		t.Errorf("Usage = %+v", resp.Usage)
	}

	mu.Lock()
	defer mu.Unlock()
	if got.Method != http.MethodPost || got.URL.Path != "/v1/chat/completions" {
		t.Errorf("request %s %s", got.Method, got.URL.Path)
	}
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if a := got.Header.Get("Accept"); !strings.Contains(a, "text/event-stream") {
		t.Errorf("Accept %q", a)
	}
	if id := got.Header.Get("X-Request-Id"); id != "req-42" {
		t.Errorf("X-Request-Id = %q, want req-42", id)
	}
	if a, ok := got.Header["Authorization"]; ok {
		t.Errorf("Authorization %q sent without an API key", a)
	}
	sr, err := openai.Chat{}.ParseRequest(raw)
	if err != nil {
		t.Fatal(err)
	}
	if sr.Model != "m" || sr.Prompt != "Say hi" || sr.MaxTokens != 3 || !sr.IgnoreEOS || !sr.Stream || !sr.IncludeUsage {
		t.Errorf("server read %+v from %s", *sr, raw)
	}
}

func TestClientReasoningAndToolFrames(t *testing.T) {
	t.Parallel()
	resp := do(t, streamHandler(roleChunk,
		chunk(`{"reasoning_content":"hm"}`),
		chunk(`{"content":"ok"}`),
		chunk(`{"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f"}}]}`),
		chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}`),
		doneChunk))
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	want := []targets.Stamp{{Text: "hm", Reasoning: true}, {Text: "ok", Content: true}, {Text: "{}"}}
	if len(resp.Frames) != len(want) {
		t.Fatalf("Frames = %+v, want %d (a tool name alone is not a token frame)", resp.Frames, len(want))
	}
	for i, s := range resp.Frames {
		s.At = 0
		if s != want[i] {
			t.Errorf("frame %d = %+v, want %+v", i, s, want[i])
		}
	}
	if resp.Reasoning.String() != "hm" || resp.Content.String() != "ok" {
		t.Errorf("Reasoning %q, Content %q", resp.Reasoning.String(), resp.Content.String())
	}
}

func statusHandler(code int, header http.Header, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func TestClientHTTPErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		h          http.Handler
		kind       results.ErrorKind
		msg        string
		retryAfter string
	}{
		{"400", statusHandler(400, http.Header{"Content-Type": {"application/json"}},
			`{"object":"error","message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":null,"code":400}`),
			results.KindHTTP4xx, "max_tokens must be at least 1, got 0.", ""},
		{"404 empty body", statusHandler(404, nil, ""), results.KindHTTP4xx, "Not Found", ""},
		{"429", statusHandler(429, http.Header{"Retry-After": {"7"}}, `{"error":{"message":"Rate limit reached"}}`),
			results.KindHTTP429, "Rate limit reached", "7"},
		{"503", statusHandler(503, nil, "upstream overloaded"), results.KindHTTP5xx, "upstream overloaded", ""},
		{"500", statusHandler(500, nil, "Internal Server Error"), results.KindHTTP5xx, "HTTP 500", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, tt.h)
			wantKind(t, resp, tt.kind, tt.msg)
			if resp.Err.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %q, want %q", resp.Err.RetryAfter, tt.retryAfter)
			}
			if resp.Status == 0 || len(resp.Frames) != 0 {
				t.Errorf("Status %d, Frames %v", resp.Status, resp.Frames)
			}
		})
	}
}

func TestClientErrorBodyBounded(t *testing.T) {
	t.Parallel()
	resp := do(t, statusHandler(400, nil, strings.Repeat("x", 1<<20)))
	wantKind(t, resp, results.KindHTTP4xx, "xxx")
	if n := len(resp.Err.Message); n > 4096 {
		t.Errorf("message of %d bytes, want it clipped", n)
	}
}

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestClientConnectionRefused(t *testing.T) {
	t.Parallel()
	resp := newClient(t, "http://"+closedAddr(t)).Do(context.Background(), testRequest)
	wantKind(t, resp, results.KindConnect, "refused")
	if resp.Status != 0 || resp.Sent.IsZero() {
		t.Errorf("Status %d, Sent %v", resp.Status, resp.Sent)
	}
}

func TestClientStreamErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		h      http.Handler
		opts   []targets.Option
		kind   results.ErrorKind
		msg    string
		frames int
	}{
		{"plain JSON body", statusHandler(200, http.Header{"Content-Type": {"application/json"}},
			`{"id":"chatcmpl-1","object":"chat.completion","choices":[{"message":{"role":"assistant","content":"hi"}}]}`),
			nil, results.KindProtocol, "did not stream", 0},
		{"invalid JSON frame", streamHandler(roleChunk, contentChunk("a"), "data: {\"choices\":[\n\n", doneChunk),
			nil, results.KindProtocol, "invalid JSON", 1},
		{"frame over the bound", streamHandler(roleChunk, contentChunk(strings.Repeat("a", 300)), doneChunk),
			[]targets.Option{targets.WithMaxFrameBytes(256)}, results.KindProtocol, "larger than 256 bytes", 0},
		{"ended before [DONE]", streamHandler(roleChunk, contentChunk("a"), contentChunk("b")),
			nil, results.KindStream, "without its terminator", 2},
		{"ended mid-line", streamHandler(roleChunk, contentChunk("a"), contentChunk("b")[:40]),
			nil, results.KindStream, "stream ended inside a frame", 1},
		{"connection dropped", dropHandler(roleChunk + contentChunk("a") + contentChunk("b")[:40]),
			nil, results.KindStream, "unexpected EOF", 1},
		{"in-stream error", streamHandler(roleChunk, contentChunk("a"),
			`data: {"error": {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "param": null, "code": 500}}`+"\n\n", doneChunk),
			nil, results.KindStream, "CUDA out of memory", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, tt.h, tt.opts...)
			wantKind(t, resp, tt.kind, tt.msg)
			if len(resp.Frames) != tt.frames {
				t.Errorf("Frames = %+v, want %d kept", resp.Frames, tt.frames)
			}
			if resp.Status != http.StatusOK || resp.Done <= 0 {
				t.Errorf("Status %d, Done %v", resp.Status, resp.Done)
			}
		})
	}
}

// dropHandler writes a chunked response holding body and then drops the
// connection without ending the chunked encoding.
func dropHandler(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(body), body)
		_ = buf.Flush()
	}
}

func TestClientTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    http.Handler
	}{
		{"before headers", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stall(r) })},
		{"between frames", stallHandler(roleChunk, contentChunk("a"))},
		// A deadline while a line is half read is a timeout too, not a
		// truncated stream.
		{"mid-line", stallHandler(roleChunk, contentChunk("a"), contentChunk("b")[:40])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := do(t, tt.h, targets.WithTimeout(200*time.Millisecond))
			wantKind(t, resp, results.KindTimeout, "--timeout")
			if resp.Done <= 0 {
				t.Errorf("Done = %v", resp.Done)
			}
		})
	}
}

func TestClientCanceled(t *testing.T) {
	t.Parallel()
	t.Run("mid-stream", func(t *testing.T) {
		t.Parallel()
		sent := make(chan struct{})
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			streamHandler(roleChunk, contentChunk("a"))(w, r)
			close(sent)
			stall(r)
		}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-sent
			cancel()
		}()
		resp := newClient(t, srv.URL, targets.WithTimeout(time.Minute)).Do(ctx, testRequest)
		wantKind(t, resp, results.KindCanceled, "stopped")
	})
	t.Run("before sending", func(t *testing.T) {
		t.Parallel()
		srv := newServer(t, streamHandler(roleChunk, doneChunk))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		resp := newClient(t, srv.URL).Do(ctx, testRequest)
		wantKind(t, resp, results.KindCanceled, "stopped")
	})
}

func TestClientHeadersAndAPIKey(t *testing.T) {
	t.Parallel()
	const key = "sk-test-9f8e7d6c5b4a"
	var (
		mu  sync.Mutex
		hdr http.Header
	)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hdr = r.Header.Clone()
		mu.Unlock()
		if r.URL.Path == "/echo" {
			// Some gateways echo the credential they reject.
			statusHandler(401, nil, "invalid api key: "+r.Header.Get("Authorization"))(w, r)
			return
		}
		streamHandler(roleChunk, contentChunk("a"), doneChunk)(w, r)
	}))
	c := newClient(t, srv.URL, targets.WithAPIKey(key), targets.WithHeader("X-Tenant", "blue"))
	resp := c.Do(context.Background(), testRequest)
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	mu.Lock()
	if a := hdr.Get("Authorization"); a != "Bearer "+key {
		t.Errorf("Authorization = %q, want the bearer key", a)
	}
	if v := hdr.Get("X-Tenant"); v != "blue" {
		t.Errorf("X-Tenant = %q", v)
	}
	if v := hdr.Get("X-Request-Id"); v != "req-42" {
		t.Errorf("X-Request-Id = %q", v)
	}
	mu.Unlock()

	// The key never reaches an error message, whatever failed.
	for name, resp := range map[string]*targets.Response{
		"echoed by a 401": newClient(t, srv.URL, targets.WithAPIKey(key), targets.WithEndpoint("/echo")).Do(context.Background(), testRequest),
		"connect":         newClient(t, "http://"+closedAddr(t), targets.WithAPIKey(key)).Do(context.Background(), testRequest),
	} {
		if resp.Err == nil {
			t.Fatalf("%s: no error", name)
		}
		if strings.Contains(resp.Err.Message, key) || strings.Contains(resp.Err.Message, key[3:]) {
			t.Errorf("%s: the API key is in the error message %q", name, resp.Err.Message)
		}
	}
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		base string
		opts []targets.Option
		want string // error substring
	}{
		{"no scheme", "127.0.0.1:8000", nil, "want scheme://host:port"},
		{"ftp", "ftp://h:1", nil, "want scheme://host:port"},
		{"no host", "http://", nil, "want scheme://host:port"},
		{"endpoint without slash", "http://h:1", []targets.Option{targets.WithEndpoint("v1/x")}, "must start with /"},
		{"bad header", "http://h:1", []targets.Option{targets.WithHeader("X Bad", "v")}, "header"},
		{"empty header", "http://h:1", []targets.Option{targets.WithHeader("", "v")}, "header"},
		{"negative timeout", "http://h:1", []targets.Option{targets.WithTimeout(-time.Second)}, "must not be negative"},
		{"zero frame bound", "http://h:1", []targets.Option{targets.WithMaxFrameBytes(0)}, "must be positive"},
	} {
		if _, err := targets.NewClient(tt.base, openai.Chat{}, tt.opts...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	for _, tt := range []struct {
		base string
		opts []targets.Option
		want string
	}{
		{"http://127.0.0.1:8000", nil, "http://127.0.0.1:8000/v1/chat/completions"},
		{"http://127.0.0.1:8000/", nil, "http://127.0.0.1:8000/v1/chat/completions"},
		{"https://gw.example/llm/", nil, "https://gw.example/llm/v1/chat/completions"},
		{"http://h:1/p", []targets.Option{targets.WithEndpoint("/generate")}, "http://h:1/p/generate"},
	} {
		c, err := targets.NewClient(tt.base, openai.Chat{}, tt.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.URL(testRequest); got != tt.want {
			t.Errorf("URL(%s) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

// TestClientAgainstStreamWriter reads, over HTTP, what the simulator's
// stream writer sends.
func TestClientAgainstStreamWriter(t *testing.T) {
	t.Parallel()
	tokens := []string{"one", " two", " three"}
	for _, p := range []interface {
		targets.Protocol
		targets.ServerProtocol
	}{openai.Chat{}, openai.Completions{}} {
		srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			req, err := p.ParseRequest(body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", p.ContentType())
			bw := bufio.NewWriter(w)
			sw := p.NewStreamWriter(bw, req, r.Header.Get("X-Request-Id"))
			_ = sw.Start()
			for _, tok := range tokens {
				_ = sw.Token(tok)
				_ = bw.Flush()
				w.(http.Flusher).Flush()
			}
			_ = sw.Finish(targets.Usage{PromptTokens: 2, CompletionTokens: len(tokens)})
			_ = bw.Flush()
		}))
		c, err := targets.NewClient(srv.URL, p)
		if err != nil {
			t.Fatal(err)
		}
		resp := c.Do(context.Background(), testRequest)
		if resp.Err != nil {
			t.Fatalf("%s: %v", p.Name(), resp.Err)
		}
		if len(resp.Frames) != len(tokens) || resp.Content.String() != "one two three" {
			t.Errorf("%s: frames %+v, content %q", p.Name(), resp.Frames, resp.Content.String())
		}
		if resp.Usage == nil || resp.Usage.CompletionTokens != len(tokens) {
			t.Errorf("%s: usage %+v", p.Name(), resp.Usage)
		}
		c.CloseIdle()
	}
}

// hookChat is openai.Chat whose decoder calls hook before each frame.
type hookChat struct {
	openai.Chat
	hook func(n int)
}

func (p hookChat) NewDecoder() targets.Decoder {
	return &hookDecoder{Decoder: p.Chat.NewDecoder(), hook: p.hook}
}

type hookDecoder struct {
	targets.Decoder
	hook func(n int)
	n    int
}

func (d *hookDecoder) Decode(f *targets.Frame, ev *targets.Event) error {
	d.n++
	d.hook(d.n)
	return d.Decoder.Decode(f, ev)
}

// TestClientCanceledStopsDecoding: a request canceled while its stream is
// already buffered (a fast server, a slow decode) stops at the next frame
// instead of decoding the rest, and says it was canceled.
func TestClientCanceledStopsDecoding(t *testing.T) {
	t.Parallel()
	const n = 2000
	var body strings.Builder
	body.WriteString(roleChunk)
	for range n {
		body.WriteString(contentChunk("a"))
	}
	body.WriteString(doneChunk)
	srv := newServer(t, streamHandler(body.String()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const cancelAt = 3 // the frame whose decoding the run is canceled in
	proto := hookChat{hook: func(i int) {
		if i == cancelAt {
			cancel()
		}
	}}
	c, err := targets.NewClient(srv.URL, proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdle)
	resp := c.Do(ctx, testRequest)
	wantKind(t, resp, results.KindCanceled, "stopped")
	// The role frame carries no token: frames 2 and 3 are content.
	if len(resp.Frames) != cancelAt-1 {
		t.Errorf("%d frames, want %d: decoding went on after the cancel", len(resp.Frames), cancelAt-1)
	}
}
