package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// Chat is the /v1/chat/completions protocol.
type Chat struct{}

// Completions is the /v1/completions protocol.
type Completions struct{}

var (
	_ targets.Protocol       = Chat{}
	_ targets.Protocol       = Completions{}
	_ targets.ServerProtocol = Chat{}
	_ targets.ServerProtocol = Completions{}
)

// Name implements targets.Protocol.
func (Chat) Name() string { return "openai-chat" }

// Name implements targets.Protocol.
func (Completions) Name() string { return "openai-completions" }

// Path implements targets.Protocol.
func (Chat) Path(*targets.Request) string { return "/v1/chat/completions" }

// Path implements targets.Protocol.
func (Completions) Path(*targets.Request) string { return "/v1/completions" }

// Framing implements targets.Protocol.
func (Chat) Framing() targets.Framing { return targets.SSE }

// Framing implements targets.Protocol.
func (Completions) Framing() targets.Framing { return targets.SSE }

// Authorize implements targets.Protocol with a bearer token.
func (Chat) Authorize(h http.Header, key string) { bearer(h, key) }

// Authorize implements targets.Protocol with a bearer token.
func (Completions) Authorize(h http.Header, key string) { bearer(h, key) }

// bearer sets the OpenAI-style credential header, when there is a key.
func bearer(h http.Header, key string) {
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

type chatBody struct {
	Model         string            `json:"model"`
	Messages      []targets.Message `json:"messages"`
	Stream        bool              `json:"stream"`
	StreamOptions *streamOptions    `json:"stream_options,omitempty"`
	MaxTokens     int               `json:"max_tokens,omitempty"`
	MinTokens     int               `json:"min_tokens,omitempty"`
	IgnoreEOS     bool              `json:"ignore_eos,omitempty"`
}

type completionsBody struct {
	Model         string         `json:"model"`
	Prompt        string         `json:"prompt"`
	Stream        bool           `json:"stream"`
	StreamOptions *streamOptions `json:"stream_options,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	MinTokens     int            `json:"min_tokens,omitempty"`
	IgnoreEOS     bool           `json:"ignore_eos,omitempty"`
}

// Body implements targets.Protocol: a streaming request that asks for usage.
func (Chat) Body(r *targets.Request) ([]byte, error) {
	return json.Marshal(chatBody{
		Model: r.Model, Messages: r.ChatMessages(), Stream: true,
		StreamOptions: &streamOptions{IncludeUsage: true},
		MaxTokens:     r.MaxTokens, IgnoreEOS: r.IgnoreEOS,
	})
}

// Body implements targets.Protocol: a streaming request that asks for usage.
func (Completions) Body(r *targets.Request) ([]byte, error) {
	return json.Marshal(completionsBody{
		Model: r.Model, Prompt: r.Prompt, Stream: true,
		StreamOptions: &streamOptions{IncludeUsage: true},
		MaxTokens:     r.MaxTokens, IgnoreEOS: r.IgnoreEOS,
	})
}

// NewDecoder implements targets.Protocol.
func (Chat) NewDecoder() targets.Decoder { return &decoder{} }

// NewDecoder implements targets.Protocol.
func (Completions) NewDecoder() targets.Decoder { return &decoder{} }

// chunk is the union of chat and completion stream chunks.
type chunk struct {
	Choices []struct {
		Text  string `json:"text"`
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			Reasoning        string `json:"reasoning"`
			ToolCalls        []struct {
				Function struct {
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens            int `json:"prompt_tokens"`
		CompletionTokens        int `json:"completion_tokens"`
		CompletionTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"completion_tokens_details"`
	} `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Object  string          `json:"object"`
	Message string          `json:"message"`
}

// decoder decodes chat and completion chunks; both share one shape.
type decoder struct {
	lastCompletion int
}

var doneMarker = []byte("[DONE]")

// Decode implements targets.Decoder.
func (d *decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	data := f.Data
	if string(data) == string(doneMarker) {
		ev.Done = true
		return nil
	}
	var c chunk
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if len(c.Error) > 0 && string(c.Error) != "null" {
		ev.Err = errorMessage(c.Error)
		return nil
	}
	if c.Object == "error" {
		ev.Err = c.Message
		if ev.Err == "" {
			ev.Err = "error object in stream"
		}
		return nil
	}
	var b strings.Builder
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Text != "" {
			ev.Content += ch.Text
		}
		ev.Content += ch.Delta.Content
		// reasoning_content (DeepSeek, SGLang, older vLLM) and reasoning
		// (newer vLLM, OpenRouter) are two names for the same text; servers
		// in the renaming window send both with the same value, so take one.
		if ch.Delta.ReasoningContent != "" {
			ev.Reasoning += ch.Delta.ReasoningContent
		} else {
			ev.Reasoning += ch.Delta.Reasoning
		}
		for _, tc := range ch.Delta.ToolCalls {
			b.WriteString(tc.Function.Arguments)
		}
	}
	ev.ToolArgs = b.String()
	if u := c.Usage; u != nil {
		ev.Usage = &targets.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens}
		if u.CompletionTokensDetails != nil {
			ev.Usage.ReasoningTokens = u.CompletionTokensDetails.ReasoningTokens
		}
		// Servers with per-chunk usage (vLLM's continuous_usage_stats) send a
		// cumulative count on every chunk: its increase is this frame's tokens.
		if ev.TokenBearing() && u.CompletionTokens > d.lastCompletion {
			ev.Tokens = u.CompletionTokens - d.lastCompletion
		}
		d.lastCompletion = u.CompletionTokens
	}
	return nil
}

// errorMessage extracts a readable message from an OpenAI-style error value,
// either an object with "message" or a bare string.
func errorMessage(raw json.RawMessage) string {
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
	var s string
	if err := json.Unmarshal(raw, &s); err == nil && s != "" {
		return s
	}
	return string(raw)
}

// errNoPrompt is returned for a request without prompt or messages.
var errNoPrompt = errors.New("request has no prompt")
