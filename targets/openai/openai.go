package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/valyala/fastjson"

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
func (Chat) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

// Authorize implements targets.Protocol with a bearer token.
func (Completions) Authorize(h http.Header, key string) { targets.Bearer(h, key) }

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

// decoder decodes chat and completion chunks; both share one shape. It keeps
// a fastjson parser across frames so decoding a typical one-token chunk
// allocates only the token's text.
type decoder struct {
	p              fastjson.Parser
	lastCompletion int
	usage          targets.Usage  // reused: the client copies what it keeps
	timing         targets.Timing // reused, as usage
	haveID         bool           // the stream's id was given to an event
}

var doneMarker = []byte("[DONE]")

// str returns the string at key, nil when absent or null, and an error for
// any other type.
func str(v *fastjson.Value, key string) ([]byte, error) {
	x := v.Get(key)
	if x == nil || x.Type() == fastjson.TypeNull {
		return nil, nil
	}
	b, err := x.StringBytes()
	if err != nil {
		return nil, fmt.Errorf("%s: want a string", key)
	}
	return b, nil
}

// integer returns the whole number at key, 0 when absent or null.
func integer(v *fastjson.Value, key string) (int, error) {
	x := v.Get(key)
	if x == nil || x.Type() == fastjson.TypeNull {
		return 0, nil
	}
	n, err := x.Int()
	if err != nil {
		return 0, fmt.Errorf("%s: want a whole number", key)
	}
	return n, nil
}

// object returns the object at key, nil when absent or null, and an error for
// any other type.
func object(v *fastjson.Value, key string) (*fastjson.Value, error) {
	x := v.Get(key)
	if x == nil || x.Type() == fastjson.TypeNull {
		return nil, nil
	}
	if x.Type() != fastjson.TypeObject {
		return nil, fmt.Errorf("%s: want an object", key)
	}
	return x, nil
}

// array returns the array at key, nil when absent or null.
func array(v *fastjson.Value, key string) ([]*fastjson.Value, error) {
	x := v.Get(key)
	if x == nil || x.Type() == fastjson.TypeNull {
		return nil, nil
	}
	a, err := x.Array()
	if err != nil {
		return nil, fmt.Errorf("%s: want an array", key)
	}
	return a, nil
}

// appendText sets *dst to *dst+b, allocating only when there is text.
func appendText(dst *string, b []byte) {
	if len(b) == 0 {
		return
	}
	if *dst == "" {
		*dst = string(b)
		return
	}
	*dst += string(b)
}

// Decode implements targets.Decoder.
func (d *decoder) Decode(f *targets.Frame, ev *targets.Event) error {
	data := f.Data
	if bytes.Equal(data, doneMarker) {
		ev.Done = true
		return nil
	}
	if d.fastDecode(data, ev) {
		return nil
	}
	return d.decodeFull(data, ev)
}

// decodeFull decodes any chunk with fastjson: the frames the fast path
// leaves (escapes, tool calls, errors, anything unusual).
func (d *decoder) decodeFull(data []byte, ev *targets.Event) error {
	v, err := d.p.ParseBytes(data)
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return nil
	case fastjson.TypeObject:
	default:
		return fmt.Errorf("want a JSON object, got %s", v.Type())
	}
	if e := v.Get("error"); e != nil && e.Type() != fastjson.TypeNull {
		ev.Err = errorText(e)
		return nil
	}
	if obj, _ := str(v, "object"); string(obj) == "error" {
		msg, _ := str(v, "message")
		ev.Err = string(msg)
		if ev.Err == "" {
			ev.Err = "error object in stream"
		}
		return nil
	}
	choices, err := array(v, "choices")
	if err != nil {
		return err
	}
	for _, ch := range choices {
		if ch.Type() != fastjson.TypeObject {
			return errors.New("choices: want objects")
		}
		if reason := failedFinish(ch); reason != "" {
			// The generation did not finish: whatever the chunk also
			// carries, the request failed.
			*ev = targets.Event{Err: fmt.Sprintf("the server ended the generation with finish_reason %q", reason)}
			return nil
		}
		if err := decodeChoice(ch, ev); err != nil {
			return err
		}
	}
	u, err := object(v, "usage")
	if err != nil {
		return err
	}
	if !d.haveID && (len(choices) > 0 || u != nil) {
		d.takeID(v.Get("id"), ev)
	}
	cacheN, hasCacheN := d.timings(v, u, ev)
	if u == nil {
		return nil
	}
	var usage targets.Usage
	if usage.PromptTokens, err = integer(u, "prompt_tokens"); err != nil {
		return d.fail(ev, fmt.Errorf("usage: %w", err))
	}
	if usage.CompletionTokens, err = integer(u, "completion_tokens"); err != nil {
		return d.fail(ev, fmt.Errorf("usage: %w", err))
	}
	if det, err := object(u, "completion_tokens_details"); err != nil {
		return d.fail(ev, fmt.Errorf("usage: %w", err))
	} else if det != nil {
		if usage.ReasoningTokens, err = integer(det, "reasoning_tokens"); err != nil {
			return d.fail(ev, fmt.Errorf("usage: %w", err))
		}
	}
	if n, ok := count(u.Get("prompt_tokens_details", "cached_tokens")); ok {
		usage.CachedTokens, usage.Cached = n, true
	} else if n, ok := count(u.Get("prompt_cache_hit_tokens")); ok {
		// DeepSeek's name for the same count.
		usage.CachedTokens, usage.Cached = n, true
	} else if hasCacheN {
		usage.CachedTokens, usage.Cached = cacheN, true
	}
	d.usage = usage
	d.useUsage(ev)
	return nil
}

// fail undoes what a frame that turned out invalid set in ev (the stream's
// id, timings) and returns err: a frame that fails to decode leaves the
// event empty.
func (d *decoder) fail(ev *targets.Event, err error) error {
	if ev.ID != "" {
		d.haveID = false
	}
	*ev = targets.Event{}
	return err
}

// takeID gives ev the stream's id (a chunk's "id": vLLM's and SGLang's
// request id, OpenAI's completion id) the first time a chunk carries one.
// An id that is not a string is ignored, not an error: it is a courtesy.
func (d *decoder) takeID(x *fastjson.Value, ev *targets.Event) {
	if d.haveID || x == nil || x.Type() != fastjson.TypeString {
		return
	}
	if id := x.GetStringBytes(); len(id) > 0 {
		ev.ID = string(id)
		d.haveID = true
	}
}

// count returns x as a token count when it is a whole number >= 0. The
// server's account fields beyond the usage counts (cached tokens, timings)
// are read leniently: one a server gets wrong is left out, it does not fail
// the frame.
func count(x *fastjson.Value) (int, bool) {
	if x == nil || x.Type() != fastjson.TypeNumber {
		return 0, false
	}
	n, err := x.Int()
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// millis returns x as a duration in milliseconds when it is a number.
func millis(x *fastjson.Value) (float64, bool) {
	if x == nil || x.Type() != fastjson.TypeNumber {
		return 0, false
	}
	f, err := x.Float64()
	return f, err == nil
}

// timings reads the server's own timings of the request into ev.Timing,
// from whichever of these the chunk carries (each on a stream's last
// chunks):
//   - llama-server's "timings": prompt_ms is the prefill, predicted_ms the
//     decode;
//   - mistral.rs's usage: total_prompt_time_sec and
//     total_completion_time_sec;
//   - Groq's x_groq.usage: queue_time, prompt_time and completion_time, in
//     seconds.
//
// It returns llama-server's timings.cache_n, the prompt tokens taken from
// the cache, for a usage without prompt_tokens_details.
func (d *decoder) timings(v, u *fastjson.Value, ev *targets.Event) (cacheN int, ok bool) {
	d.timing = targets.Timing{}
	set := func(f targets.TimingField, x *fastjson.Value, scale float64) {
		if ms, ok := millis(x); ok {
			d.timing.Set(f, ms*scale)
		}
	}
	t := v.Get("timings")
	if t != nil && t.Type() == fastjson.TypeObject {
		set(targets.TimePrefill, t.Get("prompt_ms"), 1)
		set(targets.TimeDecode, t.Get("predicted_ms"), 1)
		cacheN, ok = count(t.Get("cache_n"))
	}
	if u != nil {
		set(targets.TimePrefill, u.Get("total_prompt_time_sec"), 1000)
		set(targets.TimeDecode, u.Get("total_completion_time_sec"), 1000)
	}
	if g := v.Get("x_groq", "usage"); g != nil && g.Type() == fastjson.TypeObject {
		set(targets.TimeQueue, g.Get("queue_time"), 1000)
		set(targets.TimePrefill, g.Get("prompt_time"), 1000)
		set(targets.TimeDecode, g.Get("completion_time"), 1000)
	}
	if d.timing.Has != 0 {
		ev.Timing = &d.timing
	}
	return cacheN, ok
}

// useUsage gives ev the usage in d.usage. Servers with per-chunk usage
// (vLLM's continuous_usage_stats) send a cumulative count on every chunk:
// its increase is this frame's tokens.
func (d *decoder) useUsage(ev *targets.Event) {
	ev.Usage = &d.usage
	if ev.TokenBearing() && d.usage.CompletionTokens > d.lastCompletion {
		ev.Tokens = d.usage.CompletionTokens - d.lastCompletion
	}
	d.lastCompletion = d.usage.CompletionTokens
}

// failedFinish returns a choice's finish_reason when it says the generation
// failed rather than finished: "abort" (vLLM and SGLang when the engine
// drops a request) or "error" (vLLM's engine error). Any other reason, or a
// finish_reason that is not a string, is "".
func failedFinish(ch *fastjson.Value) string {
	x := ch.Get("finish_reason")
	if x == nil || x.Type() != fastjson.TypeString {
		return ""
	}
	if r := x.GetStringBytes(); isFailedFinish(r) {
		return string(r)
	}
	return ""
}

// isFailedFinish reports whether a finish_reason is one of a failed
// generation.
func isFailedFinish(r []byte) bool {
	return string(r) == "abort" || string(r) == "error"
}

// choiceText is one choice's text fields as a chunk carries them.
type choiceText struct {
	text, content, refusal, reasoningContent, reasoning []byte
}

// addTo adds the choice's text to ev: completions' text and chat deltas'
// content (and refusal, which is answer text too) are answer text.
// reasoning_content (DeepSeek, SGLang, older vLLM) and reasoning (newer
// vLLM, OpenRouter) are two names for the same text; servers in the
// renaming window send both with the same value, so take one.
func (c *choiceText) addTo(ev *targets.Event) {
	appendText(&ev.Content, c.text)
	appendText(&ev.Content, c.content)
	appendText(&ev.Content, c.refusal)
	if len(c.reasoningContent) > 0 {
		appendText(&ev.Reasoning, c.reasoningContent)
	} else {
		appendText(&ev.Reasoning, c.reasoning)
	}
}

// decodeChoice adds one choice's text to ev (choiceText.addTo) and its
// tool-call arguments.
func decodeChoice(ch *fastjson.Value, ev *targets.Event) error {
	var c choiceText
	var err error
	if c.text, err = str(ch, "text"); err != nil {
		return err
	}
	delta, err := object(ch, "delta")
	if err != nil || delta == nil {
		c.addTo(ev)
		return err
	}
	for _, f := range [...]struct {
		key string
		dst *[]byte
	}{{"content", &c.content}, {"refusal", &c.refusal}, {"reasoning_content", &c.reasoningContent}} {
		if *f.dst, err = str(delta, f.key); err != nil {
			return fmt.Errorf("delta.%w", err)
		}
	}
	if len(c.reasoningContent) == 0 {
		if c.reasoning, err = str(delta, "reasoning"); err != nil {
			return fmt.Errorf("delta.%w", err)
		}
	}
	c.addTo(ev)
	calls, err := array(delta, "tool_calls")
	if err != nil {
		return fmt.Errorf("delta.%w", err)
	}
	for _, tc := range calls {
		if tc.Type() != fastjson.TypeObject {
			return errors.New("delta.tool_calls: want objects")
		}
		fn, err := object(tc, "function")
		if err != nil || fn == nil {
			if err != nil {
				return fmt.Errorf("delta.tool_calls.%w", err)
			}
			continue
		}
		args, err := str(fn, "arguments")
		if err != nil {
			return fmt.Errorf("delta.tool_calls.function.%w", err)
		}
		appendText(&ev.ToolArgs, args)
	}
	return nil
}

// errorText extracts a readable message from an OpenAI-style error value,
// either an object with "message" (and "type") or a bare string.
func errorText(e *fastjson.Value) string {
	if e.Type() == fastjson.TypeObject {
		msg, _ := str(e, "message")
		typ, _ := str(e, "type")
		if len(msg) > 0 {
			if len(typ) > 0 {
				return string(typ) + ": " + string(msg)
			}
			return string(msg)
		}
	}
	if b, err := e.StringBytes(); err == nil && len(b) > 0 {
		return string(b)
	}
	return e.String()
}

// errNoPrompt is returned for a request without prompt or messages.
var errNoPrompt = errors.New("request has no prompt")
