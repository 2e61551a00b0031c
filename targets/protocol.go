package targets

import (
	"net/http"
)

// Message is one turn of a chat conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is what the load generator asks a target to send, independent of
// any wire format. Protocols map it onto their own body.
type Request struct {
	// ID identifies the request in results; it is also sent to the server in
	// the X-Request-Id header so a server log can be joined with our records.
	ID    string
	Model string
	// Prompt is the text for completion-style APIs; chat APIs use Messages
	// when set, else a single user message holding Prompt.
	Prompt   string
	Messages []Message
	// InputTokens is how many tokens the prompt holds under our tokenizer.
	InputTokens int
	// MaxTokens caps the output; with IgnoreEOS the server should produce
	// exactly this many tokens.
	MaxTokens int
	IgnoreEOS bool
	// Session marks a turn of a multi-turn session (records then carry the
	// session and turn numbers).
	Session bool
	// DatasetID names the dataset entry the prompt came from (--dataset);
	// records carry it. It is not sent.
	DatasetID string
}

// ChatMessages returns r.Messages, or a single user message with r.Prompt.
func (r *Request) ChatMessages() []Message {
	if len(r.Messages) > 0 {
		return r.Messages
	}
	return []Message{{Role: "user", Content: r.Prompt}}
}

// Framing is how a protocol's response stream is cut into frames.
type Framing int

// The framings a protocol can use.
const (
	SSE    Framing = iota // text/event-stream: events separated by blank lines
	NDJSON                // one JSON document per line
)

// Protocol is one wire API: how to build its request and decode its stream.
type Protocol interface {
	// Name is the --api value.
	Name() string
	// Path is the API's own path, appended to the target's base URL.
	Path(r *Request) string
	// Framing tells the client which frame reader to use.
	Framing() Framing
	// Body encodes r as the request body (JSON).
	Body(r *Request) ([]byte, error)
	// Authorize sets the protocol's own headers (a version header, say) and,
	// when key is not empty, the credential header for key. It is called for
	// every request.
	Authorize(h http.Header, key string)
	// NewDecoder returns a decoder for one response stream.
	NewDecoder() Decoder
}

// Bearer sets the common credential header, "Authorization: Bearer KEY",
// when there is a key: the Authorize of most protocols.
func Bearer(h http.Header, key string) {
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
}

// EOFTerminated is implemented by protocols whose streams have no terminator
// frame and end when the server closes the response (Triton's
// generate_stream). For them the end of the body is a complete stream.
type EOFTerminated interface {
	EndsAtEOF() bool
}

// Decoder turns the frames of one response stream into events. It keeps the
// state a protocol needs across frames (cumulative usage, say).
type Decoder interface {
	// Decode fills ev (already reset) from f. It returns an error only when
	// the frame is not valid for the protocol (bad JSON, say); an error the
	// server reports inside the stream goes in ev.Err.
	Decode(f *Frame, ev *Event) error
}

// Usage is the server's own token accounting.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	ReasoningTokens  int
	// CachedTokens is how many of the prompt's tokens the server took from
	// its prefix cache instead of computing them (OpenAI's and vLLM's
	// prompt_tokens_details.cached_tokens, Anthropic's
	// cache_read_input_tokens, llama.cpp's cache_n). It means something
	// only when Cached is set: 0 cached tokens is a report too.
	CachedTokens int  `json:",omitempty"`
	Cached       bool `json:",omitempty"`
}

// TimingField names one field of a Timing.
type TimingField uint8

// The fields of a Timing, as bits of Timing.Has.
const (
	TimeQueue   TimingField = 1 << iota // QueueMS
	TimePrefill                         // PrefillMS
	TimeDecode                          // DecodeMS
	TimeLoad                            // LoadMS
)

// Timing is the server's own account of where a request's time went, in
// milliseconds, as its API reports it (Ollama's *_duration fields,
// llama.cpp's timings). A field means something only when its bit is in
// Has: a server that reports no queue time has not reported 0.
type Timing struct {
	// QueueMS is the time the request waited before the server started it.
	QueueMS float64
	// PrefillMS is the time the server spent on the prompt (prompt
	// evaluation): Ollama's prompt_eval_duration, llama.cpp's prompt_ms.
	PrefillMS float64
	// DecodeMS is the time the server spent generating the output:
	// Ollama's eval_duration, llama.cpp's predicted_ms.
	DecodeMS float64
	// LoadMS is the time the server spent loading the model for the
	// request (Ollama's load_duration).
	LoadMS float64
	Has    TimingField
}

// Set sets field f to ms and marks it reported. A negative, infinite or NaN
// value (a server's bug) is not a report and is ignored.
func (t *Timing) Set(f TimingField, ms float64) {
	if ms < 0 || ms != ms || ms > 1e12 {
		return
	}
	if p := t.field(f); p != nil {
		*p = ms
		t.Has |= f
	}
}

// Get returns field f and whether the server reported it.
func (t *Timing) Get(f TimingField) (float64, bool) {
	if t == nil || t.Has&f == 0 {
		return 0, false
	}
	if p := t.field(f); p != nil {
		return *p, true
	}
	return 0, false
}

// field returns the field f names, nil when f is not one field.
func (t *Timing) field(f TimingField) *float64 {
	switch f {
	case TimeQueue:
		return &t.QueueMS
	case TimePrefill:
		return &t.PrefillMS
	case TimeDecode:
		return &t.DecodeMS
	case TimeLoad:
		return &t.LoadMS
	}
	return nil
}

// Merge sets in t every field o reports.
func (t *Timing) Merge(o *Timing) {
	for _, f := range [...]TimingField{TimeQueue, TimePrefill, TimeDecode, TimeLoad} {
		if v, ok := o.Get(f); ok {
			t.Set(f, v)
		}
	}
}

// MaxServerID bounds the server's request id kept for a record: an id is
// for finding a request in the server's logs, and a longer one is not an
// id.
const MaxServerID = 128

// Event is what one frame means.
type Event struct {
	Content   string // answer text carried by the frame
	Reasoning string // reasoning ("thinking") text
	ToolArgs  string // tool-call argument text
	// Tokens is the frame's token count as the server reports it (per-chunk
	// usage), or 0 when the server does not say.
	Tokens int
	// Usage is set when the frame carries the request's usage.
	Usage *Usage
	// Timing is set when the frame carries the server's timings.
	Timing *Timing
	// ID is the server's id for the response (a chunk's "id", an
	// Anthropic message id), set on the first frame that carries one; the
	// client keeps the first.
	ID string
	// Done is set by the protocol's terminator ([DONE], message_stop, ...).
	Done bool
	// Err is an error the server reported inside the stream.
	Err string
}

// TokenBearing reports whether the frame carries at least one output token:
// content, reasoning or tool-call arguments. Role-only, empty and
// usage-only frames do not.
func (e *Event) TokenBearing() bool {
	return e.Content != "" || e.Reasoning != "" || e.ToolArgs != ""
}
