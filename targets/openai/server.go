package openai

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/targets"
)

// Routes implements targets.ServerProtocol.
func (Chat) Routes() []string { return []string{"/v1/chat/completions"} }

// Routes implements targets.ServerProtocol.
func (Completions) Routes() []string { return []string{"/v1/completions"} }

// ContentType implements targets.ServerProtocol.
func (Chat) ContentType() string { return "text/event-stream" }

// ContentType implements targets.ServerProtocol.
func (Completions) ContentType() string { return "text/event-stream" }

type serverBody struct {
	Model               string            `json:"model"`
	Messages            []targets.Message `json:"messages"`
	Prompt              json.RawMessage   `json:"prompt"`
	Stream              bool              `json:"stream"`
	StreamOptions       *streamOptions    `json:"stream_options"`
	MaxTokens           *int              `json:"max_tokens"`
	MaxCompletionTokens *int              `json:"max_completion_tokens"`
	MinTokens           int               `json:"min_tokens"`
	IgnoreEOS           bool              `json:"ignore_eos"`
}

func parse(body []byte, chat bool) (*targets.ServerRequest, error) {
	var b serverBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	r := &targets.ServerRequest{Model: b.Model, Stream: b.Stream, MinTokens: b.MinTokens, IgnoreEOS: b.IgnoreEOS}
	if b.StreamOptions != nil {
		r.IncludeUsage = b.StreamOptions.IncludeUsage
	}
	switch {
	case b.MaxCompletionTokens != nil:
		r.MaxTokens = *b.MaxCompletionTokens
	case b.MaxTokens != nil:
		r.MaxTokens = *b.MaxTokens
	}
	if r.MaxTokens < 0 {
		return nil, fmt.Errorf("max_tokens %d must not be negative", r.MaxTokens)
	}
	if chat {
		if len(b.Messages) == 0 {
			return nil, fmt.Errorf("messages: %w", errNoPrompt)
		}
		parts := make([]string, len(b.Messages))
		for i, m := range b.Messages {
			parts[i] = m.Content
		}
		r.Prompt = strings.Join(parts, "\n")
		return r, nil
	}
	if len(b.Prompt) == 0 {
		return nil, fmt.Errorf("prompt: %w", errNoPrompt)
	}
	if err := json.Unmarshal(b.Prompt, &r.Prompt); err != nil {
		return nil, fmt.Errorf("prompt must be a string: %w", err)
	}
	return r, nil
}

// ParseRequest implements targets.ServerProtocol.
func (Chat) ParseRequest(body []byte) (*targets.ServerRequest, error) { return parse(body, true) }

// ParseRequest implements targets.ServerProtocol.
func (Completions) ParseRequest(body []byte) (*targets.ServerRequest, error) {
	return parse(body, false)
}

// NewStreamWriter implements targets.ServerProtocol.
func (Chat) NewStreamWriter(w io.Writer, req *targets.ServerRequest, id string) targets.StreamWriter {
	return newWriter(w, req, id, true)
}

// NewStreamWriter implements targets.ServerProtocol.
func (Completions) NewStreamWriter(w io.Writer, req *targets.ServerRequest, id string) targets.StreamWriter {
	return newWriter(w, req, id, false)
}

// writer encodes chat.completion.chunk or text_completion SSE frames.
type writer struct {
	w       io.Writer
	chat    bool
	head    []byte // the constant prefix of every chunk
	usage   bool
	buf     []byte
	created int64
	cached  int // prompt tokens found in the prefix cache
}

// ReportPrompt implements targets.PromptReporter: the usage frame reports
// the cached prompt tokens in prompt_tokens_details, as OpenAI and vLLM
// (--enable-prompt-tokens-details) do.
func (s *writer) ReportPrompt(p targets.PromptStats) { s.cached = p.Cached }

func newWriter(w io.Writer, req *targets.ServerRequest, id string, chat bool) *writer {
	obj := "text_completion"
	if chat {
		obj = "chat.completion.chunk"
	}
	if id == "" {
		id = "cmpl-sim"
	}
	created := time.Now().Unix()
	// JSON strings, not Go-quoted ones: strconv.Quote writes \x01 and \a,
	// which are not JSON.
	qid, _ := json.Marshal(id)
	qmodel, _ := json.Marshal(req.Model)
	head := fmt.Appendf(nil, `data: {"id":%s,"object":%q,"created":%d,"model":%s,"choices":[`,
		qid, obj, created, qmodel)
	return &writer{w: w, chat: chat, head: head, usage: req.IncludeUsage, created: created}
}

func (s *writer) frame(choice string, tail string) error {
	s.buf = append(s.buf[:0], s.head...)
	s.buf = append(s.buf, choice...)
	s.buf = append(s.buf, ']')
	s.buf = append(s.buf, tail...)
	s.buf = append(s.buf, "}\n\n"...)
	_, err := s.w.Write(s.buf)
	return err
}

// Start writes the role-only first chunk of a chat stream.
func (s *writer) Start() error {
	if !s.chat {
		return nil
	}
	return s.frame(`{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}`, "")
}

// Token writes one content chunk.
func (s *writer) Token(text string) error {
	q, _ := json.Marshal(text)
	if s.chat {
		return s.frame(`{"index":0,"delta":{"content":`+string(q)+`},"finish_reason":null}`, "")
	}
	return s.frame(`{"index":0,"text":`+string(q)+`,"finish_reason":null}`, "")
}

// Finish writes the finish chunk, the usage chunk when asked for, and [DONE].
func (s *writer) Finish(u targets.Usage) error {
	fin := `{"index":0,"delta":{},"finish_reason":"length"}`
	if !s.chat {
		fin = `{"index":0,"text":"","finish_reason":"length"}`
	}
	if err := s.frame(fin, ""); err != nil {
		return err
	}
	if s.usage {
		tail := fmt.Sprintf(`,"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,"prompt_tokens_details":{"cached_tokens":%d}}`,
			u.PromptTokens, u.CompletionTokens, u.PromptTokens+u.CompletionTokens, s.cached)
		if err := s.frame("", tail); err != nil {
			return err
		}
	}
	_, err := io.WriteString(s.w, "data: [DONE]\n\n")
	return err
}

// Fail writes an error object as vLLM does mid-stream.
func (s *writer) Fail(message string) error {
	q, _ := json.Marshal(message)
	_, err := fmt.Fprintf(s.w, "data: {\"error\":{\"object\":\"error\",\"message\":%s,\"type\":\"InternalServerError\",\"code\":500}}\n\n", q)
	return err
}
