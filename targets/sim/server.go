package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/streamgauge/streamgauge/targets"
)

// words are common English words that are one token each in the cl100k and
// o200k vocabularies, so a client's tokenizer counts one token per frame.
var words = []string{" the", " of", " and", " to", " a", " in", " is", " it", " that", " for",
	" on", " with", " as", " was", " at", " by", " this", " be", " from", " or"}

// maxBody bounds a request body the simulator reads.
const maxBody = 64 << 20

// Server is the simulated inference server's HTTP side: routing, request
// parsing, streaming through each protocol's StreamWriter, chaos, the truth
// log and /metrics. When each token is ready is the Engine's business.
type Server struct {
	engine    Engine
	protocols []targets.ServerProtocol
	defMax    int
	model     string
	chaos     *chaos
	truth     *truthSink
	mux       *http.ServeMux
	seq       atomic.Uint64
	inflight  atomic.Int64
	served    atomic.Uint64
	count     counters
}

// Option configures a Server.
type Option func(*Server) error

// WithEngine sets the engine (default: Fixed{TTFT: 50ms, ITL: 10ms}).
func WithEngine(e Engine) Option {
	return func(s *Server) error {
		if e == nil {
			return errors.New("sim: nil engine")
		}
		s.engine = e
		return nil
	}
}

// WithProtocols sets the APIs served (each on its own routes).
func WithProtocols(ps ...targets.ServerProtocol) Option {
	return func(s *Server) error { s.protocols = append(s.protocols, ps...); return nil }
}

// WithDefaultMaxTokens sets the output length of requests without max_tokens.
func WithDefaultMaxTokens(n int) Option {
	return func(s *Server) error {
		if n < 1 {
			return fmt.Errorf("sim: default max tokens %d must be at least 1", n)
		}
		s.defMax = n
		return nil
	}
}

// New returns a server. At least one protocol must be given.
func New(opts ...Option) (*Server, error) {
	d := DefaultConfig()
	s := &Server{engine: Fixed{TTFT: d.TTFT, ITL: d.ITL}, defMax: d.DefaultMaxTokens, model: d.Model, mux: http.NewServeMux()}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if len(s.protocols) == 0 {
		return nil, errors.New("sim: no protocol to serve")
	}
	for _, p := range s.protocols {
		for _, route := range p.Routes() {
			s.mux.Handle("POST "+route, s.handle(p))
		}
	}
	s.mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	s.mux.HandleFunc("GET /metrics", s.handleMetrics)
	s.mux.HandleFunc("POST /tokenize", s.handleTokenize)
	s.mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"object":"list","data":[{"id":%s,"object":"model","owned_by":"streamgauge"}]}`, strconv.Quote(s.model))
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// InFlight returns the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// Served returns the number of requests served to the end.
func (s *Server) Served() uint64 { return s.served.Load() }

// Engine returns the server's engine.
func (s *Server) Engine() Engine { return s.engine }

// WriteMetrics writes what GET /metrics serves.
func (s *Server) WriteMetrics(w io.Writer) { s.writeMetrics(w) }

func httpError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{\"error\":{\"message\":%s,\"type\":%q,\"code\":%d}}\n", strconv.Quote(msg), typ, code)
}

// errChaos stops the engine where chaos strikes mid-stream.
var errChaos = errors.New("sim: injected failure")

// request is one request's state in its handler.
type request struct {
	s     *Server
	w     http.ResponseWriter
	fl    http.Flusher
	sw    targets.StreamWriter
	ctx   context.Context
	act   action
	tr    *Truth // nil without a truth log
	stall *time.Timer
	job   *Job
	sent  int
	// reported is set once the prompt's stats went to the writer.
	reported bool
}

// start hands the writer the prompt's stats and starts the stream, once,
// before the first token or the end: the stream's opening frames (a role
// frame, Anthropic's message_start) carry what the prompt's processing
// found, as a real server's do.
func (q *request) start() error {
	if q.reported {
		return nil
	}
	q.reported = true
	if pr, ok := q.sw.(targets.PromptReporter); ok {
		pr.ReportPrompt(targets.PromptStats{Tokens: q.job.PromptTokens, Cached: q.job.CachedTokens, Prefill: q.job.Prefill})
	}
	return q.sw.Start()
}

// emit writes token i. It is the engine's emit callback.
func (q *request) emit(i int, due int64) error {
	ch := q.s.chaos
	if q.act.kind >= chaosStream && i == q.act.at {
		return errChaos
	}
	if ch != nil && ch.stallEvery > 0 && i > 0 && i%ch.stallEvery == 0 {
		if q.stall == nil {
			q.stall = time.NewTimer(ch.stallFor)
		} else {
			q.stall.Reset(ch.stallFor)
		}
		select {
		case <-q.ctx.Done():
			return q.ctx.Err()
		case <-q.stall.C:
		}
	}
	if err := q.start(); err != nil {
		return err
	}
	if err := q.sw.Token(words[i%len(words)]); err != nil {
		return err
	}
	q.fl.Flush()
	now := time.Now().UnixNano()
	if due > 0 {
		q.s.count.lateness.record(now - due)
	}
	if i == 0 {
		q.s.count.promptTokens.Add(uint64(q.job.PromptTokens))
	}
	q.s.count.genTokens.Add(1)
	q.sent++
	if q.tr != nil {
		q.tr.TokenNS = append(q.tr.TokenNS, now)
		if due > 0 {
			q.tr.DueNS = append(q.tr.DueNS, due)
		}
	}
	return nil
}

func (s *Server) handle(p targets.ServerProtocol) http.HandlerFunc {
	api := p.Name()
	return func(w http.ResponseWriter, r *http.Request) {
		arrival := time.Now().UnixNano()
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		id := r.Header.Get("X-Request-Id")
		if id == "" {
			id = "sim-" + strconv.FormatUint(s.seq.Add(1), 10)
		}
		w.Header().Set("X-Request-Id", id)
		tr := &Truth{ID: id, API: api, ArrivalNS: arrival, Outcome: "ok"}
		if s.truth != nil {
			defer func() {
				if tr.EndNS == 0 {
					tr.EndNS = time.Now().UnixNano()
				}
				s.truth.put(tr)
			}()
		}
		fail := func(code int, typ, msg string) {
			tr.Status = code
			switch {
			case code == http.StatusTooManyRequests:
				tr.Outcome = "http_429"
			case code >= 500:
				tr.Outcome = "http_5xx"
			default:
				tr.Outcome = "http_4xx"
			}
			httpError(w, code, typ, msg)
		}

		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			fail(http.StatusBadRequest, "invalid_request_error", "read body: "+err.Error())
			return
		}
		req, err := p.ParseRequest(body)
		if err != nil {
			fail(http.StatusBadRequest, "invalid_request_error", err.Error())
			return
		}
		tr.Model = req.Model
		if !req.Stream {
			fail(http.StatusBadRequest, "invalid_request_error", "the simulator only streams: set \"stream\": true")
			return
		}
		out := req.MaxTokens
		if out == 0 {
			out = max(s.defMax, req.MinTokens)
		}
		if req.MinTokens > out {
			fail(http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("min_tokens %d must not exceed max_tokens %d", req.MinTokens, out))
			return
		}
		job := &Job{ID: id, PromptTokens: CountTokens(req.Prompt), OutputTokens: out, Prompt: req.Prompt}
		tr.PromptTokens = job.PromptTokens
		if a, ok := s.engine.(Admitter); ok {
			if err := a.Admit(job); err != nil {
				fail(http.StatusBadRequest, "invalid_request_error", err.Error())
				return
			}
		}
		act := s.chaos.decide(id, out)
		switch act.kind {
		case chaos429:
			s.count.chaos[chaos429].Add(1)
			secs := int64((s.chaos.retryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
			fail(http.StatusTooManyRequests, "rate_limit_error", "simulated rate limit (--fail-rate)")
			return
		case chaos500:
			s.count.chaos[chaos500].Add(1)
			fail(http.StatusInternalServerError, "InternalServerError", "simulated server error (--fail-rate)")
			return
		}
		fl, ok := w.(http.Flusher)
		if !ok {
			fail(http.StatusInternalServerError, "InternalServerError", "streaming unsupported")
			return
		}
		w.Header().Set("Content-Type", p.ContentType())
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		tr.Status = http.StatusOK
		sw := p.NewStreamWriter(w, req, id)
		// The headers go now; the stream's opening frames with the first
		// token, when the prompt's usage is known (request.start).
		fl.Flush()
		tr.StartNS = time.Now().UnixNano()
		q := &request{s: s, w: w, fl: fl, sw: sw, ctx: r.Context(), act: act, job: job}
		if s.truth != nil {
			q.tr = tr
			tr.TokenNS = make([]int64, 0, out)
		}
		err = s.engine.Generate(r.Context(), job, func(i int) error { return q.emit(i, job.Due) })
		if q.stall != nil {
			q.stall.Stop()
		}
		tr.OutputTokens = q.sent
		switch {
		case errors.Is(err, errChaos) && act.kind == chaosStream:
			s.count.chaos[chaosStream].Add(1)
			tr.Outcome = "stream_error"
			sw.Fail("simulated mid-stream failure (--fail-rate)")
			fl.Flush()
			tr.EndNS = time.Now().UnixNano()
			return
		case errors.Is(err, errChaos):
			s.count.chaos[chaosDrop].Add(1)
			tr.Outcome = "dropped"
			tr.EndNS = time.Now().UnixNano()
			// Abort the connection without ending the body: the client sees
			// its stream cut short. net/http recovers this panic silently.
			panic(http.ErrAbortHandler)
		case err != nil:
			if r.Context().Err() != nil || errors.Is(err, context.Canceled) {
				tr.Outcome = "canceled"
				return
			}
			tr.Outcome = "stream_error"
			sw.Fail(err.Error())
			fl.Flush()
			tr.EndNS = time.Now().UnixNano()
			return
		}
		if err := q.start(); err != nil {
			tr.Outcome = "canceled"
			return
		}
		if err := sw.Finish(targets.Usage{PromptTokens: job.PromptTokens, CompletionTokens: job.OutputTokens}); err != nil {
			tr.Outcome = "canceled"
			return
		}
		fl.Flush()
		tr.EndNS = time.Now().UnixNano()
		s.served.Add(1)
		s.count.success.Add(1)
	}
}

// Listener is a running simulator.
type Listener struct {
	// URL is the base URL to give --target.
	URL  string
	srv  *http.Server
	done chan error
}

// Listen starts s on addr (e.g. 127.0.0.1:0 for a free port).
func (s *Server) Listen(addr string) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen %s: %w", addr, err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	l := &Listener{URL: "http://" + ln.Addr().String(), srv: hs, done: make(chan error, 1)}
	go func() { l.done <- hs.Serve(ln) }()
	return l, nil
}

// Close stops the listener, ending open streams once ctx expires.
func (l *Listener) Close(ctx context.Context) error {
	err := l.srv.Shutdown(ctx)
	if err != nil {
		l.srv.Close()
	}
	<-l.done
	return err
}
