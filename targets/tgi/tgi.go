package tgi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// GenerateStream is TGI's POST /generate_stream protocol.
type GenerateStream struct{}

var (
	_ targets.Protocol       = GenerateStream{}
	_ targets.ServerProtocol = GenerateStream{}
)

// Name implements targets.Protocol.
func (GenerateStream) Name() string { return "tgi" }

// Path implements targets.Protocol.
func (GenerateStream) Path(*targets.Request) string { return "/generate_stream" }

// Framing implements targets.Protocol.
func (GenerateStream) Framing() targets.Framing { return targets.SSE }

// Authorize implements targets.Protocol with a bearer token (Inference
// Endpoints and TGI's --api-key).
func (GenerateStream) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

type parameters struct {
	MaxNewTokens int  `json:"max_new_tokens,omitempty"`
	Details      bool `json:"details"`
}

type requestBody struct {
	Inputs     string     `json:"inputs"`
	Parameters parameters `json:"parameters"`
}

// Body implements targets.Protocol. It asks for details so the last event
// carries the server's token count. Chat messages, when the request has no
// prompt, are sent as their contents joined by newlines.
func (GenerateStream) Body(r *targets.Request) ([]byte, error) {
	return json.Marshal(requestBody{
		Inputs:     prompt(r),
		Parameters: parameters{MaxNewTokens: r.MaxTokens, Details: true},
	})
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
func (GenerateStream) NewDecoder() targets.Decoder { return &decoder{} }

type token struct {
	Text    string `json:"text"`
	Special bool   `json:"special"`
}

type details struct {
	GeneratedTokens int  `json:"generated_tokens"`
	InputLength     *int `json:"input_length"`
	PromptTokens    *int `json:"prompt_tokens"`
}

// event is one StreamResponse or ErrorResponse.
type event struct {
	Token         *token          `json:"token"`
	GeneratedText *string         `json:"generated_text"`
	Details       *details        `json:"details"`
	Error         json.RawMessage `json:"error"`
	ErrorType     string          `json:"error_type"`
}

// decoder keeps the count of tokens generated since the last content frame.
type decoder struct {
	hidden int
}

var (
	errNotObject = errors.New("want a JSON object")
	errShape     = errors.New("not a TGI generate_stream event (no token, generated_text, details or error); check --api")
)

// Decode implements targets.Decoder.
func (d *decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	if !targets.IsJSONObject(f.Data) {
		return errNotObject
	}
	var e event
	if err := json.Unmarshal(f.Data, &e); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if targets.JSONPresent(e.Error) {
		ev.Err = errorText(e.Error, e.ErrorType)
		return nil
	}
	if e.Token == nil && e.GeneratedText == nil && e.Details == nil {
		return errShape
	}
	if t := e.Token; t != nil {
		if t.Special || t.Text == "" {
			d.hidden++
		} else {
			ev.Content = t.Text
			ev.Tokens = 1 + d.hidden
			d.hidden = 0
		}
	}
	if dt := e.Details; dt != nil {
		u := &targets.Usage{CompletionTokens: dt.GeneratedTokens}
		switch {
		case dt.InputLength != nil:
			u.PromptTokens = *dt.InputLength
		case dt.PromptTokens != nil:
			u.PromptTokens = *dt.PromptTokens
		}
		ev.Usage = u
	}
	ev.Done = e.GeneratedText != nil || e.Details != nil
	return nil
}

// errorText renders an error value, a string (TGI) or an object with a
// message (proxies in front of TGI), prefixed with its type when known.
func errorText(raw json.RawMessage, typ string) string {
	msg := ""
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		msg = s
	} else {
		var obj struct {
			Message string `json:"message"`
			Type    string `json:"type"`
		}
		if err := json.Unmarshal(raw, &obj); err == nil && obj.Message != "" {
			msg = obj.Message
			if typ == "" {
				typ = obj.Type
			}
		} else {
			msg = string(raw)
		}
	}
	if msg == "" {
		msg = "error event in stream"
	}
	if typ != "" {
		return typ + ": " + msg
	}
	return msg
}
