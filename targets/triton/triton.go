package triton

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// Generate is Triton's generate_stream protocol.
type Generate struct{}

var (
	_ targets.Protocol       = Generate{}
	_ targets.ServerProtocol = Generate{}
	_ targets.EOFTerminated  = Generate{}
)

// DefaultModel is the model requested when the request names none: the
// TensorRT-LLM backend's ensemble.
const DefaultModel = "ensemble"

// Name implements targets.Protocol.
func (Generate) Name() string { return "triton" }

// Path implements targets.Protocol: the model (path-escaped) is part of the
// path.
func (Generate) Path(r *targets.Request) string {
	model := r.Model
	if model == "" {
		model = DefaultModel
	}
	return "/v2/models/" + url.PathEscape(model) + "/generate_stream"
}

// Framing implements targets.Protocol.
func (Generate) Framing() targets.Framing { return targets.SSE }

// EndsAtEOF implements targets.EOFTerminated: generate_stream has no
// terminator event.
func (Generate) EndsAtEOF() bool { return true }

// Authorize implements targets.Protocol with a bearer token (for gateways in
// front of Triton, which has no credential of its own).
func (Generate) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

type requestBody struct {
	TextInput string `json:"text_input"`
	MaxTokens int    `json:"max_tokens,omitempty"`
	MinLength int    `json:"min_length,omitempty"`
	Stream    bool   `json:"stream"`
}

// Body implements targets.Protocol. Chat messages, when the request has no
// prompt, are sent as their contents joined by newlines.
func (Generate) Body(r *targets.Request) ([]byte, error) {
	b := requestBody{TextInput: prompt(r), MaxTokens: r.MaxTokens, Stream: true}
	if r.IgnoreEOS {
		b.MinLength = r.MaxTokens
	}
	return json.Marshal(b)
}

// prompt returns r.Prompt, or the contents of r.Messages when it is empty.
func prompt(r *targets.Request) string {
	if r.Prompt != "" || len(r.Messages) == 0 {
		return r.Prompt
	}
	parts := make([]string, len(r.Messages))
	for i, m := range r.Messages {
		parts[i] = m.Content
	}
	return strings.Join(parts, "\n")
}

// NewDecoder implements targets.Protocol.
func (Generate) NewDecoder() targets.Decoder { return decoder{} }

// response is one generate response or error object.
type response struct {
	ModelName  json.RawMessage `json:"model_name"`
	TextOutput json.RawMessage `json:"text_output"`
	Error      json.RawMessage `json:"error"`
}

// decoder is stateless: each response stands on its own.
type decoder struct{}

var (
	errNotObject = errors.New("want a JSON object")
	errShape     = errors.New("not a Triton generate response (no text_output, model_name or error); check --api")
)

// Decode implements targets.Decoder. A response without text_output (a
// model whose output has another name, or a final empty response) carries no
// token.
func (decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	if !targets.IsJSONObject(f.Data) {
		return errNotObject
	}
	var r response
	if err := json.Unmarshal(f.Data, &r); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if targets.JSONPresent(r.Error) {
		ev.Err = errorText(r.Error)
		return nil
	}
	if !targets.JSONPresent(r.TextOutput) {
		if len(r.ModelName) == 0 && len(r.TextOutput) == 0 {
			return errShape
		}
		return nil
	}
	text, err := textOutput(r.TextOutput)
	if err != nil {
		return err
	}
	ev.Content = text
	return nil
}

// textOutput decodes text_output: a string, or an array of strings for a
// tensor of more than one element.
func textOutput(raw json.RawMessage) (string, error) {
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("text_output: %w", err)
		}
		return s, nil
	}
	var parts []string
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("text_output: want a string or an array of strings: %w", err)
	}
	return strings.Join(parts, ""), nil
}

// errorText renders an error value: a string (Triton) or an object with a
// message (gateways in front of it).
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
	}
	if err := json.Unmarshal(raw, &obj); err == nil && obj.Message != "" {
		return obj.Message
	}
	return string(raw)
}
