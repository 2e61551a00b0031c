package llamacpp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// Completion is llama-server's POST /completion protocol.
type Completion struct{}

var (
	_ targets.Protocol       = Completion{}
	_ targets.ServerProtocol = Completion{}
)

// Name implements targets.Protocol.
func (Completion) Name() string { return "llamacpp" }

// Path implements targets.Protocol.
func (Completion) Path(*targets.Request) string { return "/completion" }

// Framing implements targets.Protocol.
func (Completion) Framing() targets.Framing { return targets.SSE }

// Authorize implements targets.Protocol with a bearer token (llama-server's
// --api-key).
func (Completion) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

type requestBody struct {
	Model     string `json:"model,omitempty"`
	Prompt    string `json:"prompt"`
	NPredict  int    `json:"n_predict,omitempty"`
	Stream    bool   `json:"stream"`
	IgnoreEOS bool   `json:"ignore_eos,omitempty"`
}

// Body implements targets.Protocol. n_predict is left out when MaxTokens is 0:
// for llama.cpp 0 means "generate nothing". Chat messages, when the request
// has no prompt, are sent as their contents joined by newlines.
func (Completion) Body(r *targets.Request) ([]byte, error) {
	return json.Marshal(requestBody{Model: r.Model, Prompt: prompt(r), NPredict: r.MaxTokens, Stream: true, IgnoreEOS: r.IgnoreEOS})
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
func (Completion) NewDecoder() targets.Decoder { return &decoder{} }

// event is one partial or final completion result, or an error.
type event struct {
	Content         *string         `json:"content"`
	Stop            *bool           `json:"stop"`
	TokensPredicted *int            `json:"tokens_predicted"`
	TokensEvaluated int             `json:"tokens_evaluated"`
	Timings         json.RawMessage `json:"timings"`
	Error           json.RawMessage `json:"error"`
}

// reportedTimings is the final event's "timings" object. Its fields are read
// leniently: one a server gets wrong is left out, it does not fail the
// stream.
type reportedTimings struct {
	CacheN      *float64 `json:"cache_n"`
	PromptN     *float64 `json:"prompt_n"`
	PromptMS    *float64 `json:"prompt_ms"`
	PredictedMS *float64 `json:"predicted_ms"`
}

// decoder keeps the last cumulative tokens_predicted.
type decoder struct {
	predicted int
}

var (
	errNotObject = errors.New("want a JSON object")
	errShape     = errors.New(`not a llama.cpp completion event (no "content", "stop" or "error"); check --api`)
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
		ev.Err = errorText(e.Error)
		return nil
	}
	if e.Content == nil && e.Stop == nil {
		return errShape
	}
	if e.Content != nil {
		ev.Content = *e.Content
	}
	// A frame without text (prompt progress, probabilities only) does not
	// move the mark: its tokens are counted on the next frame with text,
	// whose gap covered them.
	if p := e.TokensPredicted; p != nil && ev.Content != "" && *p > d.predicted {
		ev.Tokens = *p - d.predicted
		d.predicted = *p
	}
	if e.Stop != nil && *e.Stop {
		ev.Done = true
		var tm reportedTimings
		if targets.JSONPresent(e.Timings) && json.Unmarshal(e.Timings, &tm) != nil {
			tm = reportedTimings{}
		}
		if e.TokensPredicted != nil {
			u := &targets.Usage{PromptTokens: e.TokensEvaluated, CompletionTokens: *e.TokensPredicted}
			// cache_n counts the prompt tokens taken from the slot's
			// cache, prompt_n those computed. tokens_cached (older
			// servers, and beside timings in newer ones) counts the
			// slot's whole cache after the request, output included, so
			// it is not a cache hit and is not used.
			if n, ok := whole(tm.CacheN); ok {
				u.CachedTokens, u.Cached = n, true
				if p, ok := whole(tm.PromptN); ok && u.PromptTokens == 0 {
					u.PromptTokens = n + p
				}
			}
			ev.Usage = u
		}
		var t targets.Timing
		if tm.PromptMS != nil {
			t.Set(targets.TimePrefill, *tm.PromptMS)
		}
		if tm.PredictedMS != nil {
			t.Set(targets.TimeDecode, *tm.PredictedMS)
		}
		if t.Has != 0 {
			ev.Timing = &t
		}
	}
	return nil
}

// whole returns *v as a count when it is a whole number >= 0.
func whole(v *float64) (int, bool) {
	if v == nil || *v < 0 || *v != float64(int(*v)) || *v > 1<<40 {
		return 0, false
	}
	return int(*v), true
}

// errorText renders llama-server's error object ({"code","message","type"})
// as "type: message", or a bare string.
func errorText(raw json.RawMessage) string {
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
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "error in stream"
		}
		return s
	}
	return string(raw)
}
