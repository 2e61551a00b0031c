package openai

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/streamgauge/streamgauge/targets"
)

// Responses is the /v1/responses protocol (OpenAI's Responses API, also served
// by vLLM and others). Its stream is SSE with typed events and no [DONE]
// marker: it ends with response.completed, response.incomplete or
// response.failed.
type Responses struct{}

var (
	_ targets.Protocol       = Responses{}
	_ targets.ServerProtocol = Responses{}
)

// Name implements targets.Protocol.
func (Responses) Name() string { return "openai-responses" }

// Path implements targets.Protocol.
func (Responses) Path(*targets.Request) string { return "/v1/responses" }

// Framing implements targets.Protocol.
func (Responses) Framing() targets.Framing { return targets.SSE }

// Authorize implements targets.Protocol with a bearer token.
func (Responses) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

type responsesBody struct {
	Model string `json:"model"`
	// Input is the prompt string, or the chat messages as input items.
	Input           any  `json:"input"`
	Stream          bool `json:"stream"`
	MaxOutputTokens int  `json:"max_output_tokens,omitempty"`
}

// Body implements targets.Protocol. Chat messages become input messages
// (system and developer roles included); a bare prompt is sent as the input
// string. The API has no ignore_eos; hosted OpenAI rejects a
// max_output_tokens below 16, which is sent as asked all the same.
func (Responses) Body(r *targets.Request) ([]byte, error) {
	b := responsesBody{Model: r.Model, Input: r.Prompt, Stream: true, MaxOutputTokens: r.MaxTokens}
	if len(r.Messages) > 0 {
		b.Input = r.Messages
	}
	return json.Marshal(b)
}

// NewDecoder implements targets.Protocol.
func (Responses) NewDecoder() targets.Decoder { return responsesDecoder{} }

// responsesFrame is the envelope of every Responses stream event. The parts
// that differ by type stay raw and are decoded only for the types that use
// them, so an event type added after this package never fails on its shape.
type responsesFrame struct {
	Type     string          `json:"type"`
	Delta    json.RawMessage `json:"delta"`
	Response json.RawMessage `json:"response"`
	Error    json.RawMessage `json:"error"`
}

// responsesObject is the part of the response object that terminal events
// carry and the decoder needs.
type responsesObject struct {
	ID     json.RawMessage `json:"id"`
	Status string          `json:"status"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	IncompleteDetails *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Usage *struct {
		InputTokens         int `json:"input_tokens"`
		OutputTokens        int `json:"output_tokens"`
		OutputTokensDetails *struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
		// Read leniently (raw): a count the server gets wrong is left
		// out, it does not fail the stream.
		InputTokensDetails *struct {
			CachedTokens json.RawMessage `json:"cached_tokens"`
		} `json:"input_tokens_details"`
	} `json:"usage"`
}

// responsesDecoder decodes one Responses stream. It needs no state: usage
// comes whole in the terminal event.
type responsesDecoder struct{}

// Decode implements targets.Decoder. The event type is the SSE event field,
// or the data's "type" when the server sends no event lines.
//
//   - response.output_text.delta and response.refusal.delta are Content (a
//     refusal is answer text the user sees);
//   - response.reasoning_summary_text.delta and response.reasoning_text.delta
//     are Reasoning;
//   - response.function_call_arguments.delta, response.custom_tool_call_input.delta
//     and response.mcp_call_arguments.delta are ToolArgs;
//   - response.completed sets Usage (input_tokens, output_tokens, which
//     include the reasoning tokens, and output_tokens_details.reasoning_tokens)
//     and Done;
//   - response.incomplete sets Usage too; when the reason is
//     max_output_tokens the response simply hit the requested cap, as a
//     length-capped load test asks, so it is Done like response.completed;
//     any other reason (content_filter) is Err;
//   - response.failed and error events are Err.
//
// The *.done events repeat the text already streamed and are not read, nor
// is anything else.
func (responsesDecoder) Decode(f *targets.Frame, ev *targets.Event) error {
	var fr responsesFrame
	if err := json.Unmarshal(f.Data, &fr); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	kind := string(f.Event)
	if kind == "" {
		kind = fr.Type
	}
	switch kind {
	case "response.output_text.delta", "response.refusal.delta":
		return responsesDelta(fr.Delta, &ev.Content)
	case "response.reasoning_summary_text.delta", "response.reasoning_text.delta":
		return responsesDelta(fr.Delta, &ev.Reasoning)
	case "response.function_call_arguments.delta", "response.custom_tool_call_input.delta", "response.mcp_call_arguments.delta":
		return responsesDelta(fr.Delta, &ev.ToolArgs)
	case "response.completed", "response.incomplete", "response.failed":
		return responsesEnd(kind, fr.Response, ev)
	case "error":
		ev.Err = targets.ErrorMessage(f.Data)
	case "":
		if targets.JSONPresent(fr.Error) {
			ev.Err = targets.ErrorMessage(f.Data)
		}
	}
	return nil
}

// responsesDelta decodes a delta string into dst.
func responsesDelta(raw json.RawMessage, dst *string) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("delta: %w", err)
	}
	return nil
}

// responsesEnd decodes a terminal event's response object.
func responsesEnd(kind string, raw json.RawMessage, ev *targets.Event) error {
	var r responsesObject
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("response: %w", err)
		}
	}
	var u *targets.Usage
	if r.Usage != nil {
		u = &targets.Usage{PromptTokens: r.Usage.InputTokens, CompletionTokens: r.Usage.OutputTokens}
		if d := r.Usage.OutputTokensDetails; d != nil {
			u.ReasoningTokens = d.ReasoningTokens
		}
		if u.PromptTokens < 0 || u.CompletionTokens < 0 || u.ReasoningTokens < 0 {
			return fmt.Errorf("response.usage: negative token count (input %d, output %d, reasoning %d)",
				u.PromptTokens, u.CompletionTokens, u.ReasoningTokens)
		}
		if d := r.Usage.InputTokensDetails; d != nil {
			var n int
			if json.Unmarshal(d.CachedTokens, &n) == nil && n >= 0 && targets.JSONPresent(d.CachedTokens) {
				u.CachedTokens, u.Cached = n, true
			}
		}
	}
	ev.Usage = u
	switch kind {
	case "response.completed":
		ev.Done = true
	case "response.incomplete":
		reason := ""
		if r.IncompleteDetails != nil {
			reason = r.IncompleteDetails.Reason
		}
		switch reason {
		case "max_output_tokens":
			ev.Done = true
		case "":
			ev.Err = "response incomplete"
		default:
			ev.Err = "response incomplete: " + reason
		}
	case "response.failed":
		ev.Err = "response failed"
		if e := r.Error; e != nil {
			switch {
			case e.Code != "" && e.Message != "":
				ev.Err = e.Code + ": " + e.Message
			case e.Message != "":
				ev.Err = e.Message
			case e.Code != "":
				ev.Err = e.Code
			}
		}
	}
	// The response id (resp_...) names the response in the server's logs.
	var id string
	if ev.Err == "" && json.Unmarshal(r.ID, &id) == nil {
		ev.ID = id
	}
	return nil
}
