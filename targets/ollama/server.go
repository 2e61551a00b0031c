package ollama

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/targets"
)

// Routes implements targets.ServerProtocol.
func (API) Routes() []string { return []string{generatePath, chatPath} }

// ContentType implements targets.ServerProtocol.
func (API) ContentType() string { return "application/x-ndjson" }

type serverBody struct {
	Model    string            `json:"model"`
	Prompt   *string           `json:"prompt"`
	Messages []targets.Message `json:"messages"`
	Stream   *bool             `json:"stream"`
	Options  struct {
		// Ollama's options are loosely typed: 100.0 is a valid count.
		NumPredict *float64 `json:"num_predict"`
	} `json:"options"`
}

var errNoPrompt = errors.New("request has neither prompt nor messages")

// ParseRequest implements targets.ServerProtocol. Ollama streams unless told
// not to, and always reports usage on its last line. num_predict -1
// (unbounded) and -2 (fill the context) leave the length to the simulator.
func (API) ParseRequest(body []byte) (*targets.ServerRequest, error) {
	var b serverBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	r := &targets.ServerRequest{Model: b.Model, Stream: b.Stream == nil || *b.Stream, IncludeUsage: true}
	if n := b.Options.NumPredict; n != nil && *n > 0 {
		r.MaxTokens = int(*n)
	}
	switch {
	case len(b.Messages) > 0:
		parts := make([]string, len(b.Messages))
		for i, m := range b.Messages {
			parts[i] = m.Content
		}
		r.Prompt = strings.Join(parts, "\n")
		r.Chat = true
	case b.Prompt != nil:
		r.Prompt = *b.Prompt
	default:
		return nil, errNoPrompt
	}
	return r, nil
}

// NewStreamWriter implements targets.ServerProtocol: /api/chat answers carry
// "message", /api/generate answers carry "response".
func (API) NewStreamWriter(w io.Writer, req *targets.ServerRequest, _ string) targets.StreamWriter {
	model, _ := json.Marshal(req.Model)
	sh := shapeGenerate
	if req.Chat {
		sh = shapeChat
	}
	return &writer{w: w, shape: sh, model: model, max: req.MaxTokens, start: time.Now()}
}

// shape is which fields a line carries.
type shape int

const (
	shapeGenerate shape = 1 << iota // "response"
	shapeChat                       // "message"
)

// writer encodes Ollama stream lines.
type writer struct {
	w     io.Writer
	shape shape
	model []byte
	max   int
	start time.Time
	first time.Time // when the first token was written
	buf   []byte
	// stats is the prompt's processing, once the server reports it.
	stats    targets.PromptStats
	reported bool
}

// ReportPrompt implements targets.PromptReporter. Ollama counts in
// prompt_eval_count only the prompt tokens it evaluated, not those its
// cache held, and times them in prompt_eval_duration.
func (s *writer) ReportPrompt(p targets.PromptStats) { s.stats, s.reported = p, true }

// line writes one object: model, created_at, the text fields, then tail.
func (s *writer) line(text, tail string) error {
	q, _ := json.Marshal(text)
	b := append(s.buf[:0], `{"model":`...)
	b = append(b, s.model...)
	b = append(b, `,"created_at":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if s.shape&shapeGenerate != 0 {
		b = append(b, `,"response":`...)
		b = append(b, q...)
	}
	if s.shape&shapeChat != 0 {
		b = append(b, `,"message":{"role":"assistant","content":`...)
		b = append(b, q...)
		b = append(b, '}')
	}
	b = append(b, tail...)
	b = append(b, "}\n"...)
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// Start implements targets.StreamWriter: Ollama sends nothing before the
// first token.
func (s *writer) Start() error { return nil }

// Token writes one line of text.
func (s *writer) Token(text string) error {
	if s.first.IsZero() {
		s.first = time.Now()
	}
	return s.line(text, `,"done":false`)
}

// Finish writes the done line with usage and durations (nanoseconds):
// load_duration (0: the simulator loads no model), prompt_eval_duration
// the prompt's processing as reported (else the time to the first token),
// eval_duration generation from the first token on.
func (s *writer) Finish(u targets.Usage) error {
	now := time.Now()
	first := s.first
	if first.IsZero() {
		first = now
	}
	promptCount, promptDur := u.PromptTokens, first.Sub(s.start)
	if s.reported {
		promptCount = max(u.PromptTokens-s.stats.Cached, 0)
		promptDur = s.stats.Prefill
	}
	reason := "stop"
	if s.max > 0 && u.CompletionTokens >= s.max {
		reason = "length"
	}
	b := make([]byte, 0, 200)
	b = append(b, `,"done":true,"done_reason":"`...)
	b = append(b, reason...)
	b = append(b, `","total_duration":`...)
	b = strconv.AppendInt(b, now.Sub(s.start).Nanoseconds(), 10)
	b = append(b, `,"load_duration":0,"prompt_eval_count":`...)
	b = strconv.AppendInt(b, int64(promptCount), 10)
	b = append(b, `,"prompt_eval_duration":`...)
	b = strconv.AppendInt(b, promptDur.Nanoseconds(), 10)
	b = append(b, `,"eval_count":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"eval_duration":`...)
	b = strconv.AppendInt(b, now.Sub(first).Nanoseconds(), 10)
	return s.line("", string(b))
}

// Fail writes an error line, as Ollama does when the runner fails mid-stream.
func (s *writer) Fail(message string) error {
	q, _ := json.Marshal(message)
	_, err := fmt.Fprintf(s.w, "{\"error\":%s}\n", q)
	return err
}
