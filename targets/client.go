package targets

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/results"
)

// Stamp is one token-bearing frame of a response, stamped when it was fully
// read from the socket.
type Stamp struct {
	// At is the time since the request was sent (monotonic clock).
	At time.Duration
	// Tokens is the server's own count for the frame, 0 when unknown.
	Tokens int
	// Text is the frame's token text (content, reasoning and tool arguments),
	// for counting tokens after the stream ends.
	Text string
	// Content is true when the frame carries answer content (not only
	// reasoning or tool arguments).
	Content bool
	// Reasoning is true when the frame carries reasoning text.
	Reasoning bool
}

// Response is what happened on the wire for one request.
type Response struct {
	// Sent is when the request went out: written to its connection's
	// buffer, right before the write system call.
	Sent time.Time
	// Connect is the time from the attempt to Sent: getting a connection
	// (a new one's dial and TLS handshake) and handing the request to the
	// connection's writer goroutine.
	Connect time.Duration
	// Header is the time from Sent to the response headers; 0 if none came.
	Header time.Duration
	// Done is the time from Sent to the end of the stream (or the failure).
	Done time.Duration
	// Status is the HTTP status, 0 if no response came.
	Status int
	// Frames holds the token-bearing frames in order.
	Frames []Stamp
	// Empty holds the times of the frames that meant something to the
	// protocol but carried no token, usage, timing, error or terminator: a
	// role-only or finish-only chunk, an empty delta. Other tools' clients
	// time some of them (vLLM's counts every chunk with choices); at most
	// maxEmpty are kept.
	Empty []time.Duration
	// Content and Reasoning are the streamed answer and reasoning text.
	Content, Reasoning strings.Builder
	// Usage is the server's final usage, nil if it sent none.
	Usage *Usage
	// Timing is the server's own timings of the request, nil if it sent
	// none; fields sent in several frames are merged, the last one wins.
	Timing *Timing
	// ServerID is the server's id for the request, to find it in the
	// server's logs: a request-id response header (x-request-id,
	// request-id) unless it only echoes the id we sent, else the id the
	// stream carries (a chunk's "id", an Anthropic message id). Empty when
	// the server gives none.
	ServerID string
	// Err is nil for a complete stream.
	Err *results.Error
}

// Client sends requests with one Protocol and reads their streams with exact
// frame timing. It is safe for concurrent use; one goroutine reads each
// stream, so a frame's time is taken by the goroutine that read it.
type Client struct {
	proto    Protocol
	base     string
	where    string // scheme://host of base, for messages (no user info)
	path     string
	headers  http.Header
	apiKey   string
	hc       *http.Client
	maxFrame int
	timeout  time.Duration
	timeouts Timeouts
	secrets  []string         // extra values masked in error messages
	redactor *secret.Redactor // masks error messages; built by NewClient
}

// Option configures a Client.
type Option func(*Client) error

// WithEndpoint overrides the protocol's API path.
func WithEndpoint(path string) Option {
	return func(c *Client) error {
		if path != "" && !strings.HasPrefix(path, "/") {
			return fmt.Errorf("endpoint %q: must start with /", path)
		}
		c.path = path
		return nil
	}
}

// WithHeader adds a header to every request. Its value is masked in every
// error message unless its name is on the harmless allow-list
// (secret.Harmless): servers and gateways echo the headers they reject.
func WithHeader(key, value string) Option {
	return func(c *Client) error {
		if key == "" || strings.ContainsAny(key, " \t\r\n:") {
			return fmt.Errorf("header %q is not a header line; write it as 'Name: value'", secret.HeaderLine(key))
		}
		c.headers.Add(key, value)
		return nil
	}
}

// WithAPIKey sets the credential the protocol puts in its auth header. The key
// is sent to the target only, and masked in every error message.
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		c.apiKey = key
		return nil
	}
}

// WithSecrets adds values to mask in every error message, besides the API
// key, the header values and the target URL's credentials, which the
// client masks on its own: a protocol's constant headers, say.
func WithSecrets(values ...string) Option {
	return func(c *Client) error {
		c.secrets = append(c.secrets, values...)
		return nil
	}
}

// WithTimeout bounds each whole request (0 = none).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("timeout %s: must not be negative", d)
		}
		c.timeout = d
		return nil
	}
}

// Timeouts bounds each phase of a request; zero fields mean no bound. Each
// one that fires fails the request with kind timeout (connect with kind
// connect) and a message naming it.
type Timeouts struct {
	Connect    time.Duration // TCP (and TLS) connection set-up
	FirstByte  time.Duration // send to response headers
	FirstToken time.Duration // send to the first token-bearing frame
	Idle       time.Duration // gap between frames once the stream started
}

// WithTimeouts sets the per-phase timeouts.
func WithTimeouts(t Timeouts) Option {
	return func(c *Client) error {
		if t.Connect < 0 || t.FirstByte < 0 || t.FirstToken < 0 || t.Idle < 0 {
			return fmt.Errorf("timeouts must not be negative")
		}
		c.timeouts = t
		tr := c.hc.Transport.(*http.Transport)
		if t.Connect > 0 {
			tr.DialContext = (&net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}).DialContext
			tr.TLSHandshakeTimeout = t.Connect
		}
		tr.ResponseHeaderTimeout = t.FirstByte
		return nil
	}
}

// WithTLS sets how the server's certificate is checked: insecure skips the
// check (self-signed test servers); caFile adds a PEM bundle of trusted CAs.
func WithTLS(insecure bool, caFile string) Option {
	return func(c *Client) error {
		cfg := c.hc.Transport.(*http.Transport).TLSClientConfig
		cfg.InsecureSkipVerify = insecure
		if caFile == "" {
			return nil
		}
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("ca-cert: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("ca-cert %s: no PEM certificate in the file", caFile)
		}
		cfg.RootCAs = pool
		return nil
	}
}

// WithSecretHeader adds a header whose value is a credential: it is sent like
// any header and masked in every error message, even when its name is on
// the harmless allow-list.
func WithSecretHeader(key, value string) Option {
	return func(c *Client) error {
		if err := WithHeader(key, value)(c); err != nil {
			return err
		}
		if value != "" {
			c.secrets = append(c.secrets, value)
		}
		return nil
	}
}

// WithMaxFrameBytes bounds one frame of the stream.
func WithMaxFrameBytes(n int) Option {
	return func(c *Client) error {
		if n <= 0 {
			return fmt.Errorf("max frame bytes %d: must be positive", n)
		}
		c.maxFrame = n
		return nil
	}
}

// WithConnections sizes the connection pool for n concurrent streams.
func WithConnections(n int) Option {
	return func(c *Client) error {
		t := c.hc.Transport.(*http.Transport)
		if n > t.MaxIdleConnsPerHost {
			t.MaxIdleConnsPerHost = n
			t.MaxIdleConns = n
		}
		return nil
	}
}

// NewClient returns a client for the server at base (scheme://host:port[/prefix]).
func NewClient(base string, proto Protocol, opts ...Option) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q: want scheme://host:port[/prefix], e.g. http://127.0.0.1:8000", secret.URL(base))
	}
	tr := &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DialContext:       (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2: true,
		// Idle connections are bounded by the peak of concurrent streams, so
		// a generous pool only avoids re-dialling (which would add connect
		// time to ttft) when concurrency swings.
		MaxIdleConns:          defaultPool,
		MaxIdleConnsPerHost:   defaultPool,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Compression would make the transport buffer the stream.
		DisableCompression: true,
		TLSClientConfig:    &tls.Config{MinVersion: tls.VersionTLS12},
	}
	c := &Client{
		proto:    proto,
		base:     strings.TrimRight(u.String(), "/"),
		where:    u.Scheme + "://" + u.Host,
		headers:  http.Header{},
		hc:       &http.Client{Transport: tr},
		maxFrame: DefaultMaxFrameBytes,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if u.Scheme == "http" {
		tr := c.hc.Transport.(*http.Transport)
		tr.DialContext = sniffDial(tr.DialContext)
	}
	known := append([]string{c.apiKey}, c.secrets...)
	for name, vs := range c.headers {
		if !secret.Harmless(name) {
			known = append(known, vs...)
		}
	}
	c.redactor = secret.New(append(known, secret.URLValues(base)...)...)
	return c, nil
}

// Protocol returns the client's protocol.
func (c *Client) Protocol() Protocol { return c.proto }

// URL returns the full URL a request is sent to.
func (c *Client) URL(r *Request) string {
	if c.path != "" {
		return c.base + c.path
	}
	return c.base + c.proto.Path(r)
}

// CloseIdle closes idle connections.
func (c *Client) CloseIdle() { c.hc.CloseIdleConnections() }

// defaultPool is the idle-connection pool size per host.
const defaultPool = 4096

// maxFramesHint bounds the frame stamps allocated up front from max_tokens.
const maxFramesHint = 4096

// errBodyMax bounds the error body kept from a failed response.
const errBodyMax = 2048

// notStreamMax bounds what is read of a reply that is not a stream, to find
// an error object in it.
const notStreamMax = 64 << 10

// Do sends r and reads its stream to the end. It never returns nil; failures
// are in Response.Err with the design's error kinds.
func (c *Client) Do(ctx context.Context, r *Request) *Response {
	resp := &Response{}
	defer c.redact(resp)
	body, err := c.proto.Body(r)
	if err != nil {
		resp.Sent = time.Now()
		resp.Err = &results.Error{Kind: results.KindProtocol, Message: fmt.Sprintf("build request: %v", err)}
		return resp
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, &timeoutCause{fmt.Sprintf("request took longer than --timeout %s", c.timeout)})
		defer cancel()
	}
	ctx, cancelCause := context.WithCancelCause(ctx)
	defer cancelCause(nil)
	// One watchdog timer per request: armed for the first token, then
	// re-armed for the idle gap at every frame. started tells its callback
	// which of the two fired.
	var wd *time.Timer
	var started atomic.Bool
	fire := func() {
		if started.Load() {
			cancelCause(&timeoutCause{fmt.Sprintf("no frame for --idle-timeout %s", c.timeouts.Idle)})
		} else {
			cancelCause(&timeoutCause{fmt.Sprintf("no token within --ttft-timeout %s", c.timeouts.FirstToken)})
		}
	}
	if d := c.timeouts.FirstToken; d > 0 {
		wd = time.AfterFunc(d, fire)
		defer wd.Stop()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL(r), bytes.NewReader(body))
	if err != nil {
		resp.Sent = time.Now()
		resp.Err = &results.Error{Kind: results.KindProtocol, Message: fmt.Sprintf("build request: %v", err)}
		return resp
	}
	c.setHeaders(req.Header, "text/event-stream, application/x-ndjson, application/json", r.ID)

	// Times count from the moment the request goes out on its connection,
	// as k6's do: getting the connection (a new one's dial and TLS) and
	// handing the request to net/http's writer goroutine are reported on
	// their own as Connect, not folded into ttfb/ttft/e2e. The send stamp is
	// taken on the writer goroutine when the request has been written to
	// the connection's buffer, right before the write system call (net/http
	// flushes after its WroteRequest hook); the hook runs on another
	// goroutine, hence the atomic. Without the hook (a request that failed
	// before it was written) the send is when the connection came, or the
	// attempt.
	start := time.Now()
	var gotConn time.Time
	var conn net.Conn
	var wrote atomic.Pointer[time.Time]
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { gotConn, conn = time.Now(), info.Conn },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				t := time.Now()
				wrote.Store(&t)
			}
		},
	}))
	resp.Sent = start
	hr, err := c.hc.Do(req)
	if w := wrote.Load(); w != nil {
		resp.Sent, resp.Connect = *w, w.Sub(start)
	} else if !gotConn.IsZero() {
		resp.Sent, resp.Connect = gotConn, gotConn.Sub(start)
	}
	if err != nil {
		resp.Done = time.Since(resp.Sent)
		resp.Err = c.classify(ctx, err)
		if resp.Err.Kind == results.KindStream {
			if e := c.notHTTPError(conn, err); e != nil {
				resp.Err = e
			}
		}
		return resp
	}
	defer hr.Body.Close()
	resp.Header = time.Since(resp.Sent)
	resp.Status = hr.StatusCode
	if hr.ProtoMajor < 1 {
		resp.Err = &results.Error{Kind: results.KindConnect, Message: fmt.Sprintf("the server at %s did not answer with HTTP (it sent %q): check --target's host and port", c.where, hr.Proto+" "+hr.Status)}
		resp.Done = time.Since(resp.Sent)
		return resp
	}
	resp.ServerID = headerID(hr.Header, r.ID)
	if hr.StatusCode/100 != 2 {
		resp.Err = statusError(hr)
		if hr.StatusCode == http.StatusBadRequest {
			if e := c.plainToTLS(resp.Err); e != nil {
				resp.Err = e
			}
		}
		resp.Done = time.Since(resp.Sent)
		return resp
	}
	if e := c.checkStreaming(hr); e != nil {
		resp.Err = e
		resp.Done = time.Since(resp.Sent)
		return resp
	}
	if c.timeouts.Idle > 0 && wd == nil {
		started.Store(true)
		wd = time.AfterFunc(c.timeouts.Idle, fire)
		defer wd.Stop()
	}
	if n := min(r.MaxTokens, maxFramesHint); n > 0 {
		// One allocation for the stamps of a stream of the expected length,
		// rather than growing the slice frame by frame.
		resp.Frames = make([]Stamp, 0, n)
	}
	c.read(ctx, cancelCause, hr.Body, resp, wd, &started)
	return resp
}

// setHeaders puts on h what every request of the client carries: its
// headers (--header), a JSON Content-Type, accept as Accept, id as
// X-Request-Id unless it is empty, and last the protocol's headers (its
// auth header with the API key, a generic spec's constant headers), which
// win over the others.
func (c *Client) setHeaders(h http.Header, accept, id string) {
	for k, vs := range c.headers {
		h[k] = vs
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", accept)
	if id != "" {
		h.Set("X-Request-Id", id)
	}
	c.proto.Authorize(h, c.apiKey)
}

// requestIDHeaders are the response headers servers put their request id
// in: OpenAI, vLLM (--enable-request-id-headers) and most gateways send
// x-request-id, Anthropic request-id.
var requestIDHeaders = [...]string{"X-Request-Id", "Request-Id"}

// headerID returns the server's request id from its response headers, or ""
// when there is none or it only echoes sent, the id we sent.
func headerID(h http.Header, sent string) string {
	for _, k := range requestIDHeaders {
		if v := cleanID(h.Get(k)); v != "" && v != sent {
			return v
		}
	}
	return ""
}

// cleanID bounds an id to MaxServerID bytes of printable ASCII: an id is
// for a log search, and anything else in it (control characters, a
// megabyte of text from a broken server) is not.
func cleanID(id string) string {
	id = strings.TrimSpace(id)
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return ""
		}
	}
	if len(id) > MaxServerID {
		return ""
	}
	return id
}

// maxEmpty bounds the empty frames a response keeps (Response.Empty).
const maxEmpty = 1024

// afterDone bounds how long the client keeps reading a stream after its
// terminator, waiting for the server to end the body.
const afterDone = 2 * time.Second

// errHeldOpen cancels the read of a stream the server kept open after its
// terminator.
var errHeldOpen = errors.New("stream held open after its terminator")

// timeoutCause is why a request's context ended: one of its timeouts.
type timeoutCause struct{ msg string }

func (t *timeoutCause) Error() string { return t.msg }

// read consumes the stream, stamping each frame as soon as it is read.
// wd, when not nil, is the request's watchdog timer: it is re-armed for the
// idle timeout at every frame once the first token arrived (stopped if there
// is no idle timeout). After the protocol's terminator the response is
// complete: the rest of the body is read so the connection can be reused,
// but for at most afterDone (then cancel ends the read), and nothing that
// happens then (a timeout, a reset) fails the request.
func (c *Client) read(ctx context.Context, cancel context.CancelCauseFunc, body io.Reader, resp *Response, wd *time.Timer, started *atomic.Bool) {
	fr := NewFrameReader(c.proto.Framing(), body, c.maxFrame)
	dec := c.proto.NewDecoder()
	var f Frame
	var ev Event
	done := false
	et, ok := c.proto.(EOFTerminated)
	endsAtEOF := ok && et.EndsAtEOF()
	events := 0              // frames that meant something to the protocol
	var doneAt time.Duration // when the terminator came
	var grace *time.Timer    // ends the read a while after the terminator
	defer func() {
		if grace != nil {
			grace.Stop()
		}
	}()
	stray := "" // the last bare line that was not an error, for the message
	sse, _ := fr.(*SSEReader)
	// unrecognised names what the server wrote that the stream's syntax
	// does not define, for the message of a stream that ended badly.
	unrecognised := func() string {
		if stray == "" && sse != nil {
			return strayNote(sse.Unrecognised())
		}
		return strayNote(stray)
	}
	canceled := ctx.Done()
	for {
		err := fr.Next(&f)
		at := time.Since(resp.Sent)
		if err == nil {
			// Frames already buffered are read without touching the
			// network, so a canceled request must stop here rather than
			// decode the rest of a long stream.
			select {
			case <-canceled:
				err = context.Cause(ctx)
			default:
			}
		}
		if err != nil {
			resp.Done = at
			switch {
			case done && !errors.Is(err, io.EOF) && !errors.Is(err, ErrFrameTooLarge):
				// The server held the stream open (or broke it) after
				// its terminator: the response ended there.
				resp.Done = doneAt
			case errors.Is(err, io.EOF):
				switch {
				case !done && !endsAtEOF:
					resp.Err = &results.Error{Kind: results.KindStream, Message: "stream ended without its terminator" + unrecognised()}
				case endsAtEOF && events == 0:
					// A stream that ends at EOF still holds one response:
					// none at all (or only lines the protocol does not
					// know) is not a success.
					resp.Err = &results.Error{Kind: results.KindStream, Message: "stream ended without any event" + unrecognised()}
				}
			case errors.Is(err, ErrFrameTooLarge):
				resp.Err = &results.Error{Kind: results.KindProtocol, Message: fmt.Sprintf("frame larger than %d bytes (raise --max-frame-bytes)", c.maxFrame)}
			case errors.Is(err, ErrTruncated):
				if !done {
					resp.Err = &results.Error{Kind: results.KindStream, Message: err.Error()}
				}
			default:
				resp.Err = c.classify(ctx, err)
			}
			return
		}
		if wd != nil && started.Load() && c.timeouts.Idle > 0 && !done {
			wd.Reset(c.timeouts.Idle)
		}
		ev = Event{}
		if err := DecodeFrame(dec, &f, &ev); err != nil {
			resp.Done = at
			resp.Err = &results.Error{Kind: results.KindProtocol, Message: fmt.Sprintf("frame %q: %v", clip(f.Data, 120), err)}
			return
		}
		if f.Bare && ev.Err == "" {
			stray = clip(f.Data, 120)
			continue
		}
		events++
		if ev.TokenBearing() {
			if wd != nil && !started.Load() {
				// The first token arrived: from now on only gaps count.
				started.Store(true)
				if c.timeouts.Idle > 0 {
					wd.Reset(c.timeouts.Idle)
				} else {
					wd.Stop()
				}
			}
			text := ev.Content + ev.Reasoning + ev.ToolArgs
			resp.Frames = append(resp.Frames, Stamp{At: at, Tokens: ev.Tokens, Text: text, Content: ev.Content != "", Reasoning: ev.Reasoning != ""})
			if ev.Content != "" {
				if resp.Content.Cap() == 0 {
					resp.Content.Grow(min(4*cap(resp.Frames), 1<<16))
				}
				resp.Content.WriteString(ev.Content)
			}
			if ev.Reasoning != "" {
				resp.Reasoning.WriteString(ev.Reasoning)
			}
		}
		if !ev.TokenBearing() && ev.Usage == nil && ev.Timing == nil && ev.Err == "" && !ev.Done && len(resp.Empty) < maxEmpty {
			resp.Empty = append(resp.Empty, at)
		}
		if ev.Usage != nil {
			u := *ev.Usage
			resp.Usage = &u
		}
		if ev.Timing != nil {
			if resp.Timing == nil {
				resp.Timing = &Timing{}
			}
			resp.Timing.Merge(ev.Timing)
		}
		if ev.ID != "" && resp.ServerID == "" {
			resp.ServerID = cleanID(ev.ID)
		}
		if ev.Err != "" {
			resp.Done = at
			resp.Err = &results.Error{Kind: results.KindStream, Message: cleanMessage(ev.Err)}
			return
		}
		if ev.Done && events == 1 && c.proto.Framing() == SSE && !ev.TokenBearing() && ev.Usage == nil {
			// Only the terminator, after nothing the protocol knows
			// (unknown fields, stray lines): not a response.
			resp.Done = at
			resp.Err = &results.Error{Kind: results.KindStream, Message: "stream held nothing but its terminator" + unrecognised()}
			return
		}
		if ev.Done && !done {
			doneAt = at
			if wd != nil {
				wd.Stop()
			}
			grace = time.AfterFunc(afterDone, func() { cancel(errHeldOpen) })
		}
		if ev.Done {
			done = true
			if c.proto.Framing() == NDJSON {
				// NDJSON protocols end with a done object; nothing follows.
				resp.Done = at
				return
			}
		}
	}
}

// strayNote names a line outside the stream's syntax, if any, for the
// message of a stream that ended badly.
func strayNote(stray string) string {
	if stray == "" {
		return ""
	}
	return fmt.Sprintf(" (last unrecognised line %q)", stray)
}

// redact masks secrets in the error: servers and gateways echo the
// credentials they rejected (in a 4xx body or a stream's error event), Go
// errors quote the URL, and messages end up in the run's result files and
// on the terminal. The API key, every header value not on the harmless
// allow-list and the target URL's credentials are masked wherever they
// appear, and so is anything shaped like a credential.
func (c *Client) redact(resp *Response) {
	if resp.Err == nil {
		return
	}
	resp.Err.Message = c.redactor.String(resp.Err.Message)
	resp.Err.RetryAfter = c.redactor.String(resp.Err.RetryAfter)
}

// checkStreaming returns an error when the response is plainly not a stream:
// a stream_error with the server's message when the body is an error object
// (a server that reports an error with status 200), else a protocol error.
func (c *Client) checkStreaming(hr *http.Response) *results.Error {
	ct := hr.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if c.proto.Framing() == SSE && mt != "" && mt != "text/event-stream" {
		body, _ := io.ReadAll(io.LimitReader(hr.Body, notStreamMax))
		if IsErrorObject(body) {
			return &results.Error{Kind: results.KindStream, Message: "HTTP 200 with an error instead of a stream: " + ErrorMessage(body)}
		}
		hint := "check --api (" + c.proto.Name() + ") and --endpoint"
		if api := guessAPI(body); api != "" && api != c.proto.Name() {
			hint = "the reply looks like --api " + api + "; check --api (" + c.proto.Name() + ") and --endpoint"
		}
		return &results.Error{Kind: results.KindProtocol, Message: fmt.Sprintf("endpoint did not stream (Content-Type %q, want text/event-stream): %s", ct, hint)}
	}
	return nil
}

// guessAPI names the API whose non-streamed reply body looks like b, or "".
func guessAPI(b []byte) string {
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return ""
	}
	switch {
	case string(v.GetStringBytes("object")) == "chat.completion":
		return "openai-chat"
	case string(v.GetStringBytes("object")) == "text_completion":
		return "openai-completions"
	case string(v.GetStringBytes("object")) == "response":
		return "openai-responses"
	case string(v.GetStringBytes("type")) == "message":
		return "anthropic"
	case v.Exists("generated_text") || v.Exists("0", "generated_text"):
		return "tgi"
	case v.Exists("done") && (v.Exists("response") || v.Exists("message")):
		return "ollama"
	case v.Exists("text_output"):
		return "triton"
	case v.Exists("content") && v.Exists("stop"):
		return "llamacpp"
	}
	return ""
}

func statusError(hr *http.Response) *results.Error {
	b, _ := io.ReadAll(io.LimitReader(hr.Body, errBodyMax))
	msg := strings.TrimSpace(string(b))
	if msg == "" {
		msg = http.StatusText(hr.StatusCode)
	}
	e := &results.Error{Message: fmt.Sprintf("HTTP %d: %s", hr.StatusCode, clipString(msg, errBodyMax))}
	switch {
	case hr.StatusCode == http.StatusTooManyRequests:
		e.Kind = results.KindHTTP429
		e.RetryAfter = hr.Header.Get("Retry-After")
	case hr.StatusCode >= 500:
		e.Kind = results.KindHTTP5xx
	default:
		e.Kind = results.KindHTTP4xx
	}
	return e
}

// classify maps a transport error onto the design's error kinds, naming the
// timeout that fired when one did.
func (c *Client) classify(ctx context.Context, err error) *results.Error {
	var tc *timeoutCause
	if errors.As(context.Cause(ctx), &tc) {
		return &results.Error{Kind: results.KindTimeout, Message: tc.msg}
	}
	if strings.Contains(err.Error(), "timeout awaiting response headers") {
		return &results.Error{Kind: results.KindTimeout, Message: fmt.Sprintf("no response headers within --ttfb-timeout %s", c.timeouts.FirstByte)}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" && op.Timeout() {
		return &results.Error{Kind: results.KindConnect, Message: fmt.Sprintf("connect timed out after --connect-timeout %s: %s", c.timeouts.Connect, clipString(err.Error(), errBodyMax))}
	}
	if e := c.schemeError(err); e != nil {
		return e
	}
	return classify(ctx, err)
}

// schemeError classifies the failures of a connection whose two ends do not
// agree on TLS, and of a certificate the client does not trust, as connect
// errors that say what to change. Every request to such a target fails the
// same way, before any stream.
func (c *Client) schemeError(err error) *results.Error {
	msg := ""
	var rh tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	switch {
	case errors.Is(err, http.ErrSchemeMismatch):
		msg = fmt.Sprintf("the server at %s speaks plain HTTP, not HTTPS: use http:// in --target", c.where)
	case errors.As(err, &rh):
		msg = fmt.Sprintf("the server at %s did not answer the TLS handshake with TLS (%s): is --target's port an HTTPS port?", c.where, rh.Msg)
	case looksLikeTLSReply(err):
		msg = fmt.Sprintf("the server at %s answered with TLS: use https:// in --target", c.where)
	case errors.As(err, &cv):
		msg = fmt.Sprintf("the TLS certificate of %s is not trusted (%v): pass its CA with --ca-cert FILE, or --insecure to skip the check", c.where, cv.Err)
	default:
		return nil
	}
	return &results.Error{Kind: results.KindConnect, Message: clipString(msg, errBodyMax)}
}

// looksLikeTLSReply reports whether err is net/http failing to read a
// response that starts like a TLS record (handshake 0x16 or alert 0x15, then
// version 3): a TLS server answering a plain HTTP request.
func looksLikeTLSReply(err error) bool {
	s := err.Error()
	i := strings.Index(s, "malformed HTTP response ")
	if i < 0 {
		return false
	}
	rest := s[i+len("malformed HTTP response "):]
	return strings.HasPrefix(rest, `"\x16\x03`) || strings.HasPrefix(rest, `"\x15\x03`)
}

// tlsRejections are what TLS servers answer (with status 400) to a plain HTTP
// request on their port: Go's net/http, nginx.
var tlsRejections = [...]string{
	"client sent an http request to an https server",
	"the plain http request was sent to https port",
}

// plainToTLS reports whether a 400 reply on an http:// target is a TLS
// server refusing plain HTTP, and returns the connect error that says so.
func (c *Client) plainToTLS(e *results.Error) *results.Error {
	if !strings.HasPrefix(c.where, "http://") {
		return nil
	}
	low := strings.ToLower(e.Message)
	for _, r := range tlsRejections {
		if strings.Contains(low, r) {
			return &results.Error{Kind: results.KindConnect, Message: fmt.Sprintf("the server at %s speaks HTTPS, not plain HTTP: use https:// in --target (it answered %s)", c.where, clipString(e.Message, 200))}
		}
	}
	return nil
}

// classify maps a transport error onto the design's error kinds.
func classify(ctx context.Context, err error) *results.Error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return &results.Error{Kind: results.KindTimeout, Message: "request timed out (raise --timeout)"}
	case errors.Is(ctx.Err(), context.Canceled), errors.Is(err, context.Canceled):
		return &results.Error{Kind: results.KindCanceled, Message: "run stopped before the request finished"}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &results.Error{Kind: results.KindConnect, Message: clipString(err.Error(), errBodyMax)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &results.Error{Kind: results.KindTimeout, Message: clipString(err.Error(), errBodyMax)}
	}
	var ue *url.Error
	if errors.As(err, &ue) && (strings.Contains(ue.Err.Error(), "connection refused") || strings.Contains(ue.Err.Error(), "no such host")) {
		return &results.Error{Kind: results.KindConnect, Message: clipString(err.Error(), errBodyMax)}
	}
	return &results.Error{Kind: results.KindStream, Message: clipString(err.Error(), errBodyMax)}
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
