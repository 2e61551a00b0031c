package triton

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/streamgauge/streamgauge/targets"
)

// Routes implements targets.ServerProtocol: with and without a model
// version.
func (Generate) Routes() []string {
	return []string{
		"/v2/models/{model}/generate_stream",
		"/v2/models/{model}/versions/{version}/generate_stream",
	}
}

// ContentType implements targets.ServerProtocol.
func (Generate) ContentType() string { return "text/event-stream" }

// settings are the generation inputs the simulator reads. The generate
// extension accepts them at the top level or under "parameters".
type settings struct {
	MaxTokens *int `json:"max_tokens"`
	MinLength *int `json:"min_length"`
}

type serverBody struct {
	TextInput *string `json:"text_input"`
	settings
	Parameters *settings `json:"parameters"`
}

var errNoPrompt = errors.New("request has no prompt")

// ParseRequest implements targets.ServerProtocol. The model is in the path,
// not the body, so Model stays empty. The route always streams; Triton
// reports no usage.
func (Generate) ParseRequest(body []byte) (*targets.ServerRequest, error) {
	var b serverBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	if b.TextInput == nil {
		return nil, fmt.Errorf("text_input: %w", errNoPrompt)
	}
	s := b.settings
	if p := b.Parameters; p != nil {
		if s.MaxTokens == nil {
			s.MaxTokens = p.MaxTokens
		}
		if s.MinLength == nil {
			s.MinLength = p.MinLength
		}
	}
	r := &targets.ServerRequest{Prompt: *b.TextInput, Stream: true}
	if s.MaxTokens != nil {
		if *s.MaxTokens < 0 {
			return nil, fmt.Errorf("max_tokens %d must not be negative", *s.MaxTokens)
		}
		r.MaxTokens = *s.MaxTokens
	}
	if s.MinLength != nil && *s.MinLength > 0 {
		r.MinTokens = *s.MinLength
		r.IgnoreEOS = r.MaxTokens > 0 && r.MinTokens >= r.MaxTokens
	}
	return r, nil
}

// NewStreamWriter implements targets.ServerProtocol. The model name is
// req.Model, or DefaultModel when the server did not fill it from the path.
func (Generate) NewStreamWriter(w io.Writer, req *targets.ServerRequest, _ string) targets.StreamWriter {
	model := req.Model
	if model == "" {
		model = DefaultModel
	}
	q, _ := json.Marshal(model)
	head := `data: {"model_name":` + string(q) + `,"model_version":"1","sequence_end":false,"sequence_id":0,"sequence_start":false,"text_output":`
	return &writer{w: w, head: []byte(head)}
}

// writer encodes TensorRT-LLM ensemble responses.
type writer struct {
	w    io.Writer
	head []byte
	buf  []byte
}

// Start implements targets.StreamWriter: Triton sends nothing before the
// first response.
func (s *writer) Start() error { return nil }

// Token writes one response.
func (s *writer) Token(text string) error {
	q, _ := json.Marshal(text)
	b := append(s.buf[:0], s.head...)
	b = append(b, q...)
	b = append(b, "}\n\n"...)
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// Finish implements targets.StreamWriter: Triton ends the stream by closing
// it, with no usage.
func (s *writer) Finish(targets.Usage) error { return nil }

// Fail writes an error object, as Triton does when inference fails after the
// stream started.
func (s *writer) Fail(message string) error {
	q, _ := json.Marshal(message)
	_, err := fmt.Fprintf(s.w, "data: {\"error\":%s}\n\n", q)
	return err
}
