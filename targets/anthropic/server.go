package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// Routes implements targets.ServerProtocol.
func (Messages) Routes() []string { return []string{"/v1/messages"} }

// ContentType implements targets.ServerProtocol.
func (Messages) ContentType() string { return "text/event-stream" }

type serverBody struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

// errNoMessages is returned for a request without messages.
var errNoMessages = errors.New("at least one message is required")

// ParseRequest implements targets.ServerProtocol. As on Anthropic's API,
// max_tokens is required; content (and system) may be a string or a list of
// content blocks, whose text blocks make up the prompt.
func (Messages) ParseRequest(data []byte) (*targets.ServerRequest, error) {
	var b serverBody
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	if b.MaxTokens == nil {
		return nil, errors.New("max_tokens: field required")
	}
	if *b.MaxTokens < 0 {
		return nil, fmt.Errorf("max_tokens %d: must not be negative", *b.MaxTokens)
	}
	if len(b.Messages) == 0 {
		return nil, fmt.Errorf("messages: %w", errNoMessages)
	}
	parts := make([]string, 0, len(b.Messages)+1)
	if targets.JSONPresent(b.System) {
		s, err := contentText(b.System)
		if err != nil {
			return nil, fmt.Errorf("system: %w", err)
		}
		parts = append(parts, s)
	}
	for i, m := range b.Messages {
		s, err := contentText(m.Content)
		if err != nil {
			return nil, fmt.Errorf("messages[%d].content: %w", i, err)
		}
		parts = append(parts, s)
	}
	return &targets.ServerRequest{
		Model:     b.Model,
		Prompt:    strings.Join(parts, "\n"),
		MaxTokens: *b.MaxTokens,
		Stream:    b.Stream,
	}, nil
}

// contentText returns the text of a content value: a string, or the text
// blocks of a list of content blocks, concatenated.
func contentText(raw json.RawMessage) (string, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", errors.New("want a string or a list of content blocks")
	}
	var sb strings.Builder
	for _, bl := range blocks {
		if bl.Type == "text" {
			sb.WriteString(bl.Text)
		}
	}
	return sb.String(), nil
}

// NewStreamWriter implements targets.ServerProtocol.
func (Messages) NewStreamWriter(w io.Writer, req *targets.ServerRequest, id string) targets.StreamWriter {
	if id == "" {
		id = "msg_sim"
	}
	qid, _ := json.Marshal(id)
	qmodel, _ := json.Marshal(req.Model)
	return &writer{w: w, id: qid, model: qmodel, maxTokens: req.MaxTokens, prompt: len(strings.Fields(req.Prompt))}
}

// ReportPrompt implements targets.PromptReporter: usage's input_tokens is
// the prompt's uncached part and cache_read_input_tokens the part read from
// the prefix cache, as the API reports them (their sum is the prompt).
func (s *writer) ReportPrompt(p targets.PromptStats) {
	s.prompt, s.cached = p.Tokens, p.Cached
}

// writer encodes one Messages stream with a single text content block.
type writer struct {
	w         io.Writer
	id, model []byte // JSON strings
	maxTokens int
	prompt    int // prompt tokens (a word count until ReportPrompt says)
	cached    int // of prompt, read from the prefix cache
	buf       []byte
}

func (s *writer) event(name string, data ...string) {
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, "\ndata: "...)
	for _, d := range data {
		s.buf = append(s.buf, d...)
	}
	s.buf = append(s.buf, "\n\n"...)
}

func (s *writer) flush() error {
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

// usageJSON renders a usage object with the cache fields the API always
// sends: prompt is the whole prompt, of which cached tokens were read from
// the cache (input_tokens is the rest).
func usageJSON(prompt, cached, out int) string {
	return `{"input_tokens":` + strconv.Itoa(prompt-cached) +
		`,"cache_creation_input_tokens":0,"cache_read_input_tokens":` + strconv.Itoa(cached) +
		`,"output_tokens":` + strconv.Itoa(out) + `}`
}

// Start writes message_start, the text block's content_block_start and a
// ping, as the API does before the first token. The simulator starts the
// stream once the prompt is processed (ReportPrompt), so message_start
// carries the prompt's usage as the API's does.
func (s *writer) Start() error {
	s.event("message_start", `{"type":"message_start","message":{"id":`, string(s.id),
		`,"type":"message","role":"assistant","model":`, string(s.model),
		`,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`, usageJSON(s.prompt, s.cached, 1), `}}`)
	s.event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	s.event("ping", `{"type": "ping"}`)
	return s.flush()
}

// Token writes one text_delta.
func (s *writer) Token(text string) error {
	q, _ := json.Marshal(text)
	s.event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`, string(q), `}}`)
	return s.flush()
}

// Finish closes the block and writes message_delta with the stop reason and
// the cumulative usage, then message_stop.
func (s *writer) Finish(u targets.Usage) error {
	stop := "end_turn"
	if s.maxTokens > 0 && u.CompletionTokens >= s.maxTokens {
		stop = "max_tokens"
	}
	s.event("content_block_stop", `{"type":"content_block_stop","index":0}`)
	s.event("message_delta", `{"type":"message_delta","delta":{"stop_reason":"`, stop,
		`","stop_sequence":null},"usage":`, usageJSON(u.PromptTokens, min(s.cached, u.PromptTokens), u.CompletionTokens), `}`)
	s.event("message_stop", `{"type":"message_stop"}`)
	return s.flush()
}

// Fail writes an error event, as the API does when a stream breaks.
func (s *writer) Fail(message string) error {
	q, _ := json.Marshal(message)
	s.event("error", `{"type":"error","error":{"type":"api_error","message":`, string(q), `}}`)
	return s.flush()
}
