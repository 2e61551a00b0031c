package anthropic

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// Version is the anthropic-version header sent with every request unless the
// user sets one (--header 'anthropic-version: ...').
const Version = "2023-06-01"

// DefaultMaxTokens is sent as max_tokens for a request without a cap: the API
// requires the field.
const DefaultMaxTokens = 4096

// Messages is the /v1/messages protocol.
type Messages struct{}

var (
	_ targets.Protocol       = Messages{}
	_ targets.ServerProtocol = Messages{}
)

// Name implements targets.Protocol.
func (Messages) Name() string { return "anthropic" }

// Path implements targets.Protocol.
func (Messages) Path(*targets.Request) string { return "/v1/messages" }

// Framing implements targets.Protocol.
func (Messages) Framing() targets.Framing { return targets.SSE }

// Authorize implements targets.Protocol: the anthropic-version header on every
// request and, when there is a key, the x-api-key header.
func (Messages) Authorize(h http.Header, key string) {
	if h.Get("anthropic-version") == "" {
		h.Set("anthropic-version", Version)
	}
	if key != "" {
		h.Set("x-api-key", key)
	}
}

type body struct {
	Model     string            `json:"model"`
	MaxTokens int               `json:"max_tokens"`
	System    string            `json:"system,omitempty"`
	Messages  []targets.Message `json:"messages"`
	Stream    bool              `json:"stream"`
}

// Body implements targets.Protocol. System messages move to the top-level
// "system" field (the API accepts only user and assistant turns); ignore_eos
// has no equivalent and is not sent.
func (Messages) Body(r *targets.Request) ([]byte, error) {
	b := body{Model: r.Model, MaxTokens: r.MaxTokens, Messages: r.ChatMessages(), Stream: true}
	if b.MaxTokens <= 0 {
		b.MaxTokens = DefaultMaxTokens
	}
	b.System, b.Messages = splitSystem(b.Messages)
	return json.Marshal(b)
}

// splitSystem returns the system messages' contents joined by a blank line,
// and the other messages. It copies only when there is a system message.
func splitSystem(msgs []targets.Message) (string, []targets.Message) {
	n := 0
	for _, m := range msgs {
		if m.Role == "system" {
			n++
		}
	}
	if n == 0 {
		return "", msgs
	}
	sys := make([]string, 0, n)
	rest := make([]targets.Message, 0, len(msgs)-n)
	for _, m := range msgs {
		if m.Role == "system" {
			sys = append(sys, m.Content)
		} else {
			rest = append(rest, m)
		}
	}
	return strings.Join(sys, "\n\n"), rest
}

// NewDecoder implements targets.Protocol.
func (Messages) NewDecoder() targets.Decoder { return &decoder{} }

// frame is the envelope shared by every event. The parts that differ by event
// type stay raw and are decoded only for the types that use them, so an event
// type this package does not know never fails on its shape.
type frame struct {
	Type         string          `json:"type"`
	Message      json.RawMessage `json:"message"`
	ContentBlock json.RawMessage `json:"content_block"`
	Delta        json.RawMessage `json:"delta"`
	Usage        json.RawMessage `json:"usage"`
	Error        json.RawMessage `json:"error"`
}

// delta is a content_block_delta's delta. signature_delta (the integrity
// signature of a thinking block) and citations_delta carry no tokens.
type delta struct {
	Type        string `json:"type"`
	Text        string `json:"text"`         // text_delta
	Thinking    string `json:"thinking"`     // thinking_delta
	PartialJSON string `json:"partial_json"` // input_json_delta
}

// block is a content_block_start's block; text and thinking blocks start
// empty on Anthropic's API, but a compatible server may put text in them.
type block struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Thinking string `json:"thinking"`
}

// usage holds the counts of message_start's message.usage and of
// message_delta's usage. In message_delta every field present is cumulative;
// an absent (or null) field keeps its last value.
type usage struct {
	InputTokens              *int `json:"input_tokens"`
	CacheCreationInputTokens *int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int `json:"cache_read_input_tokens"`
	OutputTokens             *int `json:"output_tokens"`
}

// decoder decodes one Messages stream. It keeps the usage counts, which arrive
// in two events.
type decoder struct {
	input, cacheWrite, cacheRead, output int
	// cacheReported is set once a usage carried cache_read_input_tokens.
	cacheReported bool
}

// Decode implements targets.Decoder. The event type is the SSE event field,
// or the data's "type" when the server sends no event lines.
//
// Usage is set on each message_delta that carries usage: PromptTokens is
// input_tokens plus cache_creation_input_tokens plus cache_read_input_tokens
// (Anthropic's input_tokens counts only the uncached part of the prompt; the
// sum is the prompt the model read, comparable with OpenAI's prompt_tokens),
// from message_start unless message_delta restates them; CompletionTokens is
// the last cumulative output_tokens; CachedTokens is cache_read_input_tokens
// (the prompt read from the cache; cache_creation_input_tokens were
// computed and written to it), Cached once the server sent that field. The
// API does not report thinking tokens on their own (they are inside
// output_tokens), so ReasoningTokens stays 0. message_start's message id is
// the event's ID.
func (d *decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	var fr frame
	if err := json.Unmarshal(f.Data, &fr); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	kind := string(f.Event)
	if kind == "" {
		kind = fr.Type
	}
	switch kind {
	case "content_block_delta":
		var dl delta
		if err := field("delta", fr.Delta, &dl); err != nil {
			return err
		}
		switch dl.Type {
		case "text_delta":
			ev.Content = dl.Text
		case "thinking_delta":
			ev.Reasoning = dl.Thinking
		case "input_json_delta":
			ev.ToolArgs = dl.PartialJSON
		}
	case "content_block_start":
		var b block
		if err := field("content_block", fr.ContentBlock, &b); err != nil {
			return err
		}
		switch b.Type {
		case "text":
			ev.Content = b.Text
		case "thinking":
			ev.Reasoning = b.Thinking
		}
	case "message_start":
		var m struct {
			ID    json.RawMessage `json:"id"`
			Usage *usage          `json:"usage"`
		}
		if err := field("message", fr.Message, &m); err != nil {
			return err
		}
		if m.Usage != nil {
			if err := d.update("message.usage", m.Usage); err != nil {
				return err
			}
		}
		// The message id (msg_...) names the response in Anthropic's
		// console; an id that is not a string is ignored.
		var id string
		if json.Unmarshal(m.ID, &id) == nil {
			ev.ID = id
		}
	case "message_delta":
		if !targets.JSONPresent(fr.Usage) {
			return nil
		}
		var u usage
		if err := field("usage", fr.Usage, &u); err != nil {
			return err
		}
		if err := d.update("usage", &u); err != nil {
			return err
		}
		ev.Usage = &targets.Usage{
			PromptTokens:     d.input + d.cacheWrite + d.cacheRead,
			CompletionTokens: d.output,
			CachedTokens:     d.cacheRead,
			Cached:           d.cacheReported,
		}
	case "message_stop":
		ev.Done = true
	case "error":
		ev.Err = targets.ErrorMessage(f.Data)
	case "":
		// No type at all: an error envelope from a proxy, or nothing.
		if targets.JSONPresent(fr.Error) {
			ev.Err = targets.ErrorMessage(f.Data)
		}
	}
	// ping, content_block_stop and event types added after this package
	// carry nothing we measure.
	return nil
}

// update takes the counts present in u, rejecting negative ones. It checks
// every count before changing any, so a rejected frame leaves d as it was.
func (d *decoder) update(name string, u *usage) error {
	counts := [...]struct {
		field string
		v     *int
		dst   *int
	}{
		{"input_tokens", u.InputTokens, &d.input},
		{"cache_creation_input_tokens", u.CacheCreationInputTokens, &d.cacheWrite},
		{"cache_read_input_tokens", u.CacheReadInputTokens, &d.cacheRead},
		{"output_tokens", u.OutputTokens, &d.output},
	}
	for _, c := range counts {
		if c.v != nil && *c.v < 0 {
			return fmt.Errorf("%s.%s %d: must not be negative", name, c.field, *c.v)
		}
	}
	for _, c := range counts {
		if c.v != nil {
			*c.dst = *c.v
		}
	}
	d.cacheReported = d.cacheReported || u.CacheReadInputTokens != nil
	return nil
}

// field decodes one part of an event. An absent part leaves v as it is.
func field(name string, raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
