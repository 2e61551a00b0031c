package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
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

// Server is the simulated inference server's HTTP side.
type Server struct {
	engine    Engine
	protocols []targets.ServerProtocol
	defMax    int
	mux       *http.ServeMux
	seq       atomic.Uint64
	inflight  atomic.Int64
	served    atomic.Uint64
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
	s := &Server{engine: Fixed{TTFT: 50 * time.Millisecond, ITL: 10 * time.Millisecond}, defMax: 128, mux: http.NewServeMux()}
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
	s.mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"object":"list","data":[{"id":"sim","object":"model","owned_by":"streamgauge"}]}`)
	})
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// InFlight returns the number of requests being served.
func (s *Server) InFlight() int64 { return s.inflight.Load() }

// Served returns the number of requests served to the end.
func (s *Server) Served() uint64 { return s.served.Load() }

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, "{\"error\":{\"message\":%s,\"type\":\"invalid_request_error\",\"code\":%d}}\n", strconv.Quote(msg), code)
}

func (s *Server) handle(p targets.ServerProtocol) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			httpError(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		req, err := p.ParseRequest(body)
		if err != nil {
			httpError(w, http.StatusBadRequest, err.Error())
			return
		}
		if !req.Stream {
			httpError(w, http.StatusBadRequest, "the simulator only streams: set \"stream\": true")
			return
		}
		id := r.Header.Get("X-Request-Id")
		if id == "" {
			id = "sim-" + strconv.FormatUint(s.seq.Add(1), 10)
		}
		job := &Job{ID: id, PromptTokens: len(strings.Fields(req.Prompt)), OutputTokens: req.MaxTokens}
		if job.OutputTokens == 0 {
			job.OutputTokens = s.defMax
		}
		fl, ok := w.(http.Flusher)
		if !ok {
			httpError(w, http.StatusInternalServerError, "streaming unsupported")
			return
		}
		w.Header().Set("Content-Type", p.ContentType())
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Request-Id", id)
		w.WriteHeader(http.StatusOK)
		sw := p.NewStreamWriter(w, req, id)
		if err := sw.Start(); err != nil {
			return
		}
		fl.Flush()
		err = s.engine.Generate(r.Context(), job, func(i int) error {
			if err := sw.Token(words[i%len(words)]); err != nil {
				return err
			}
			fl.Flush()
			return nil
		})
		if err != nil {
			if !errors.Is(err, context.Canceled) && r.Context().Err() == nil {
				sw.Fail(err.Error())
				fl.Flush()
			}
			return
		}
		if err := sw.Finish(targets.Usage{PromptTokens: job.PromptTokens, CompletionTokens: job.OutputTokens}); err == nil {
			fl.Flush()
			s.served.Add(1)
		}
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
