package llamacpp

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"time"

	"github.com/streamgauge/streamgauge/targets"
)

// Routes implements targets.ServerProtocol: llama-server serves the native
// completion API on both paths.
func (Completion) Routes() []string { return []string{"/completion", "/completions"} }

// ContentType implements targets.ServerProtocol.
func (Completion) ContentType() string { return "text/event-stream" }

type serverBody struct {
	Model    string          `json:"model"`
	Prompt   json.RawMessage `json:"prompt"`
	NPredict *int            `json:"n_predict"`
	// MaxTokens is llama-server's alias for n_predict.
	MaxTokens *int `json:"max_tokens"`
	Stream    bool `json:"stream"`
	IgnoreEOS bool `json:"ignore_eos"`
}

var errNoPrompt = errors.New("request has no prompt")

// ParseRequest implements targets.ServerProtocol. Only a string prompt is
// understood (not token arrays). n_predict -1 (unbounded) leaves the length to
// the simulator. llama-server streams only when asked, and always reports
// usage on the last event.
func (Completion) ParseRequest(body []byte) (*targets.ServerRequest, error) {
	var b serverBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	if len(b.Prompt) == 0 {
		return nil, fmt.Errorf("prompt: %w", errNoPrompt)
	}
	r := &targets.ServerRequest{Model: b.Model, Stream: b.Stream, IgnoreEOS: b.IgnoreEOS, IncludeUsage: true}
	if err := json.Unmarshal(b.Prompt, &r.Prompt); err != nil {
		return nil, fmt.Errorf("prompt must be a string: %w", err)
	}
	n := b.NPredict
	if n == nil {
		n = b.MaxTokens
	}
	if n != nil && *n > 0 {
		r.MaxTokens = *n
	}
	return r, nil
}

// NewStreamWriter implements targets.ServerProtocol.
func (Completion) NewStreamWriter(w io.Writer, req *targets.ServerRequest, _ string) targets.StreamWriter {
	return &writer{w: w, req: req, start: time.Now()}
}

// writer encodes llama-server completion events.
type writer struct {
	w     io.Writer
	req   *targets.ServerRequest
	n     int // tokens written
	start time.Time
	first time.Time
	buf   []byte
	// stats is the prompt's processing, once the server reports it.
	stats    targets.PromptStats
	reported bool
}

// ReportPrompt implements targets.PromptReporter. llama-server counts in
// timings.prompt_n the prompt tokens it evaluated, in timings.cache_n those
// its slot's cache held, and times the evaluation in prompt_ms.
func (s *writer) ReportPrompt(p targets.PromptStats) { s.stats, s.reported = p, true }

// tokenID derives a stable, plausible vocabulary id from a token's text.
func tokenID(text string) uint32 {
	h := fnv.New32a()
	io.WriteString(h, text)
	return 3 + h.Sum32()%32000
}

// Start implements targets.StreamWriter: llama-server sends nothing before
// the first token.
func (s *writer) Start() error { return nil }

// Token writes one partial result.
func (s *writer) Token(text string) error {
	if s.first.IsZero() {
		s.first = time.Now()
	}
	s.n++
	q, _ := json.Marshal(text)
	b := append(s.buf[:0], `data: {"index":0,"content":`...)
	b = append(b, q...)
	b = append(b, `,"tokens":[`...)
	b = strconv.AppendUint(b, uint64(tokenID(text)), 10)
	b = append(b, `],"stop":false,"id_slot":0,"tokens_predicted":`...)
	b = strconv.AppendInt(b, int64(s.n), 10)
	b = append(b, "}\n\n"...)
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// timings is llama-server's timing block, in milliseconds.
type timings struct {
	PromptN             int     `json:"prompt_n"`
	PromptMS            float64 `json:"prompt_ms"`
	PromptPerTokenMS    float64 `json:"prompt_per_token_ms"`
	PromptPerSecond     float64 `json:"prompt_per_second"`
	PredictedN          int     `json:"predicted_n"`
	PredictedMS         float64 `json:"predicted_ms"`
	PredictedPerTokenMS float64 `json:"predicted_per_token_ms"`
	PredictedPerSecond  float64 `json:"predicted_per_second"`
	CacheN              int     `json:"cache_n"`
}

func newTimings(promptN int, prompt time.Duration, predictedN int, predicted time.Duration) timings {
	t := timings{
		PromptN: promptN, PromptMS: ms(prompt),
		PredictedN: predictedN, PredictedMS: ms(predicted),
	}
	// Rates only when defined: NaN and Inf are not JSON.
	if promptN > 0 && prompt > 0 {
		t.PromptPerTokenMS = t.PromptMS / float64(promptN)
		t.PromptPerSecond = float64(promptN) / prompt.Seconds()
	}
	if predictedN > 0 && predicted > 0 {
		t.PredictedPerTokenMS = t.PredictedMS / float64(predictedN)
		t.PredictedPerSecond = float64(predictedN) / predicted.Seconds()
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type settings struct {
	NPredict  int  `json:"n_predict"`
	Stream    bool `json:"stream"`
	IgnoreEOS bool `json:"ignore_eos"`
}

// final is the last event of a completion stream.
type final struct {
	Index              int      `json:"index"`
	Content            string   `json:"content"`
	Tokens             []int    `json:"tokens"`
	IDSlot             int      `json:"id_slot"`
	Stop               bool     `json:"stop"`
	Model              string   `json:"model"`
	TokensPredicted    int      `json:"tokens_predicted"`
	TokensEvaluated    int      `json:"tokens_evaluated"`
	GenerationSettings settings `json:"generation_settings"`
	Prompt             string   `json:"prompt"`
	HasNewLine         bool     `json:"has_new_line"`
	Truncated          bool     `json:"truncated"`
	StopType           string   `json:"stop_type"`
	StoppingWord       string   `json:"stopping_word"`
	TokensCached       int      `json:"tokens_cached"`
	Timings            timings  `json:"timings"`
}

// defaultModel is the name reported when the request names no model, as
// llama-server reports its model file.
const defaultModel = "model.gguf"

// Finish writes the stop event with usage and timings: the prompt is timed
// until the first token, generation from there. Like llama-server it echoes
// the prompt, so the last event is as large as the prompt.
func (s *writer) Finish(u targets.Usage) error {
	now := time.Now()
	first := s.first
	if first.IsZero() {
		first = now
	}
	stopType := "eos"
	if s.req.MaxTokens > 0 && u.CompletionTokens >= s.req.MaxTokens {
		stopType = "limit"
	}
	nPredict := s.req.MaxTokens
	if nPredict == 0 {
		nPredict = -1
	}
	model := s.req.Model
	if model == "" {
		model = defaultModel
	}
	promptN, promptDur, cached := u.PromptTokens, first.Sub(s.start), 0
	if s.reported {
		cached = min(s.stats.Cached, u.PromptTokens)
		promptN, promptDur = u.PromptTokens-cached, s.stats.Prefill
	}
	t := newTimings(promptN, promptDur, u.CompletionTokens, now.Sub(first))
	t.CacheN = cached
	f := final{
		Tokens: []int{}, Stop: true, Model: model,
		TokensPredicted: u.CompletionTokens, TokensEvaluated: u.PromptTokens,
		GenerationSettings: settings{NPredict: nPredict, Stream: true, IgnoreEOS: s.req.IgnoreEOS},
		Prompt:             s.req.Prompt, StopType: stopType,
		// tokens_cached is the slot's context after the request: the
		// prompt and what was generated (llama-server's n_past).
		TokensCached: u.PromptTokens + u.CompletionTokens,
		Timings:      t,
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	b := append(s.buf[:0], "data: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	s.buf = b
	_, err = s.w.Write(b)
	return err
}

// Fail writes an error event, as current llama-server does mid-stream.
func (s *writer) Fail(message string) error {
	q, _ := json.Marshal(message)
	_, err := fmt.Fprintf(s.w, "data: {\"error\":{\"code\":500,\"message\":%s,\"type\":\"server_error\"}}\n\n", q)
	return err
}
