package ollama

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// API is Ollama's /api/generate and /api/chat protocol: chat when the request
// has messages, generate otherwise.
type API struct{}

var (
	_ targets.Protocol       = API{}
	_ targets.ServerProtocol = API{}
)

// The API's two routes.
const (
	generatePath = "/api/generate"
	chatPath     = "/api/chat"
)

// Name implements targets.Protocol.
func (API) Name() string { return "ollama" }

// Path implements targets.Protocol.
func (API) Path(r *targets.Request) string {
	if len(r.Messages) > 0 {
		return chatPath
	}
	return generatePath
}

// Framing implements targets.Protocol.
func (API) Framing() targets.Framing { return targets.NDJSON }

// Authorize implements targets.Protocol with a bearer token (ollama.com and
// authenticating proxies; a local Ollama ignores it).
func (API) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

type options struct {
	NumPredict int `json:"num_predict"`
}

type generateBody struct {
	Model   string   `json:"model"`
	Prompt  string   `json:"prompt"`
	Stream  bool     `json:"stream"`
	Options *options `json:"options,omitempty"`
}

type chatBody struct {
	Model    string            `json:"model"`
	Messages []targets.Message `json:"messages"`
	Stream   bool              `json:"stream"`
	Options  *options          `json:"options,omitempty"`
}

// Body implements targets.Protocol.
func (API) Body(r *targets.Request) ([]byte, error) {
	var opts *options
	if r.MaxTokens > 0 {
		opts = &options{NumPredict: r.MaxTokens}
	}
	if len(r.Messages) > 0 {
		return json.Marshal(chatBody{Model: r.Model, Messages: r.Messages, Stream: true, Options: opts})
	}
	return json.Marshal(generateBody{Model: r.Model, Prompt: r.Prompt, Stream: true, Options: opts})
}

// NewDecoder implements targets.Protocol.
func (API) NewDecoder() targets.Decoder { return decoder{} }

type toolCall struct {
	Function struct {
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

type message struct {
	Content   string     `json:"content"`
	Thinking  string     `json:"thinking"`
	ToolCalls []toolCall `json:"tool_calls"`
}

// chunk is the union of a generate and a chat stream line.
type chunk struct {
	Response        string   `json:"response"`
	Thinking        string   `json:"thinking"`
	Message         *message `json:"message"`
	Done            *bool    `json:"done"`
	PromptEvalCount int      `json:"prompt_eval_count"`
	EvalCount       *int     `json:"eval_count"`
	// The final line's timings, in nanoseconds.
	LoadDuration       json.RawMessage `json:"load_duration"`
	PromptEvalDuration json.RawMessage `json:"prompt_eval_duration"`
	EvalDuration       json.RawMessage `json:"eval_duration"`
	Error              json.RawMessage `json:"error"`
}

// decoder is stateless: every Ollama line stands on its own.
type decoder struct{}

var (
	errNotObject = errors.New("want a JSON object")
	errShape     = errors.New(`not an Ollama stream line (no "done" or "error"); check --api`)
)

// Decode implements targets.Decoder.
func (decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	if !targets.IsJSONObject(f.Data) {
		return errNotObject
	}
	var c chunk
	if err := json.Unmarshal(f.Data, &c); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if targets.JSONPresent(c.Error) {
		ev.Err = errorText(c.Error)
		return nil
	}
	if c.Done == nil {
		return errShape
	}
	if m := c.Message; m != nil {
		ev.Content, ev.Reasoning = m.Content, m.Thinking
		if len(m.ToolCalls) > 0 {
			var b strings.Builder
			for _, tc := range m.ToolCalls {
				b.WriteString(arguments(tc.Function.Arguments))
			}
			ev.ToolArgs = b.String()
		}
	} else {
		ev.Content, ev.Reasoning = c.Response, c.Thinking
	}
	if *c.Done {
		ev.Done = true
		// eval_count is omitted when zero, and absent from a load-only
		// reply: without it the stream has no usage to report.
		if c.EvalCount != nil {
			ev.Usage = &targets.Usage{PromptTokens: c.PromptEvalCount, CompletionTokens: *c.EvalCount}
		}
		ev.Timing = timing(&c)
	}
	return nil
}

// timing is the final line's durations (nanoseconds) as milliseconds:
// prompt_eval_duration is the prefill, eval_duration the decode,
// load_duration the model load. A duration that is not a number is left
// out, not an error: it is the server's account, not the stream. nil when
// there is none.
func timing(c *chunk) *targets.Timing {
	var t targets.Timing
	for _, d := range [...]struct {
		raw   json.RawMessage
		field targets.TimingField
	}{{c.PromptEvalDuration, targets.TimePrefill}, {c.EvalDuration, targets.TimeDecode}, {c.LoadDuration, targets.TimeLoad}} {
		var ns float64
		if targets.JSONPresent(d.raw) && json.Unmarshal(d.raw, &ns) == nil {
			t.Set(d.field, ns/1e6)
		}
	}
	if t.Has == 0 {
		return nil
	}
	return &t
}

// arguments renders tool-call arguments: Ollama sends an object; a string
// (OpenAI style) is unquoted.
func arguments(raw json.RawMessage) string {
	if !targets.JSONPresent(raw) {
		return ""
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// errorText renders an error value: a string (Ollama) or an object with a
// message (proxies in front of it).
func errorText(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "error in stream"
		}
		return s
	}
	var obj struct {
		Message string `json:"message"`
		Type    string `json:"type"`
	}
	if err := json.Unmarshal(raw, &obj); err == nil && obj.Message != "" {
		if obj.Type != "" {
			return obj.Type + ": " + obj.Message
		}
		return obj.Message
	}
	return string(raw)
}
