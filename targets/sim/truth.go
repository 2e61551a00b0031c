package sim

import (
	"encoding/json"
	"io"
	"sync"
)

// Truth is what the server did for one request, to check a client's
// measurements against, request by request. Times are wall-clock Unix
// nanoseconds, taken right after each frame was flushed to the socket.
type Truth struct {
	// ID is the client's X-Request-Id (or the id the server made up).
	ID    string `json:"id"`
	API   string `json:"api"`
	Model string `json:"model,omitempty"`
	// Status is the HTTP status sent (0 when the request was dropped before
	// any header).
	Status int `json:"status"`
	// Outcome is ok, or how the request ended: canceled (the client went
	// away), http_4xx, http_429, http_5xx, stream_error, dropped.
	Outcome      string `json:"outcome"`
	PromptTokens int    `json:"prompt_tokens"`
	// OutputTokens is the number of token frames sent.
	OutputTokens int `json:"output_tokens"`
	// ArrivalNS is when the request's headers were read.
	ArrivalNS int64 `json:"arrival_ns"`
	// StartNS is when the response headers were flushed (the stream's
	// opening frame, a role frame say, goes with the first token); 0 for an
	// error response.
	StartNS int64 `json:"start_ns,omitempty"`
	// TokenNS is the send time of each token frame, DueNS when the engine
	// meant it to leave (the end of its step).
	TokenNS []int64 `json:"token_ns"`
	DueNS   []int64 `json:"due_ns,omitempty"`
	// EndNS is when the last frame (finish, usage, terminator, or the error
	// event) was flushed, or when the request ended otherwise.
	EndNS int64 `json:"end_ns"`
}

// truthSink delivers finished requests' truth.
type truthSink struct {
	mu  sync.Mutex
	w   io.Writer
	fns []func(*Truth)
	err error
}

func (t *truthSink) put(tr *Truth) {
	for _, fn := range t.fns {
		fn(tr)
	}
	if t.w == nil {
		return
	}
	b, err := json.Marshal(tr)
	if err != nil {
		return
	}
	b = append(b, '\n')
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		_, t.err = t.w.Write(b)
	}
}

// WithTruthLog writes each request's Truth to w as a JSON line when the
// request ends (one Write per line, serialised).
func WithTruthLog(w io.Writer) Option {
	return func(s *Server) error {
		if s.truth == nil {
			s.truth = &truthSink{}
		}
		s.truth.w = w
		return nil
	}
}

// WithTruth calls fn with each request's Truth when the request ends, from
// the request's goroutine: fn must be safe for concurrent use. Each Truth is
// new, so fn may keep it.
func WithTruth(fn func(tr *Truth)) Option {
	return func(s *Server) error {
		if s.truth == nil {
			s.truth = &truthSink{}
		}
		s.truth.fns = append(s.truth.fns, fn)
		return nil
	}
}

// TruthErr returns the first error writing the truth log.
func (s *Server) TruthErr() error {
	if s.truth == nil {
		return nil
	}
	s.truth.mu.Lock()
	defer s.truth.mu.Unlock()
	return s.truth.err
}
