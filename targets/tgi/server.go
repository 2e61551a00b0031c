package tgi

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

// Routes implements targets.ServerProtocol.
func (GenerateStream) Routes() []string { return []string{"/generate_stream"} }

// ContentType implements targets.ServerProtocol.
func (GenerateStream) ContentType() string { return "text/event-stream" }

type serverBody struct {
	Inputs     *string `json:"inputs"`
	Parameters *struct {
		MaxNewTokens *int `json:"max_new_tokens"`
		Details      bool `json:"details"`
	} `json:"parameters"`
}

var errNoPrompt = errors.New("request has no prompt")

// ParseRequest implements targets.ServerProtocol. The route always streams;
// usage is reported when the request asks for details, as TGI does. The body
// names no model.
func (GenerateStream) ParseRequest(body []byte) (*targets.ServerRequest, error) {
	var b serverBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	if b.Inputs == nil || *b.Inputs == "" {
		return nil, fmt.Errorf("inputs: %w", errNoPrompt)
	}
	r := &targets.ServerRequest{Prompt: *b.Inputs, Stream: true}
	if p := b.Parameters; p != nil {
		r.IncludeUsage = p.Details
		if p.MaxNewTokens != nil {
			if *p.MaxNewTokens < 0 {
				return nil, fmt.Errorf("parameters.max_new_tokens %d must not be negative", *p.MaxNewTokens)
			}
			r.MaxTokens = *p.MaxNewTokens
		}
	}
	return r, nil
}

// NewStreamWriter implements targets.ServerProtocol.
func (GenerateStream) NewStreamWriter(w io.Writer, req *targets.ServerRequest, _ string) targets.StreamWriter {
	return &writer{w: w, details: req.IncludeUsage}
}

// writer encodes TGI StreamResponse events. It keeps the whole text for the
// last event's generated_text, as TGI does.
type writer struct {
	w       io.Writer
	details bool
	index   int
	text    strings.Builder
	buf     []byte
}

// eosID and eosText are the end-of-sequence token of Llama-2-style
// vocabularies.
const (
	eosID   = 2
	eosText = "</s>"
)

// tokenID derives a stable, plausible vocabulary id from a token's text.
func tokenID(text string) uint32 {
	h := fnv.New32a()
	io.WriteString(h, text)
	return 3 + h.Sum32()%32000
}

func (s *writer) event(id uint32, text string, special bool, tail string) error {
	s.index++
	q, _ := json.Marshal(text)
	b := append(s.buf[:0], `data:{"index":`...)
	b = strconv.AppendInt(b, int64(s.index), 10)
	b = append(b, `,"token":{"id":`...)
	b = strconv.AppendUint(b, uint64(id), 10)
	b = append(b, `,"text":`...)
	b = append(b, q...)
	b = append(b, `,"logprob":-0.12,"special":`...)
	b = strconv.AppendBool(b, special)
	b = append(b, '}')
	b = append(b, tail...)
	b = append(b, "}\n\n"...)
	s.buf = b
	_, err := s.w.Write(b)
	return err
}

// Start implements targets.StreamWriter: TGI sends nothing before the first
// token.
func (s *writer) Start() error { return nil }

// Token writes one token event.
func (s *writer) Token(text string) error {
	s.text.WriteString(text)
	return s.event(tokenID(text), text, false, `,"generated_text":null,"details":null`)
}

// Finish writes the last event as a model that stopped at its EOS token
// would: the special </s> token with generated_text and, when asked for,
// details. generated_tokens is the engine's count (the EOS frame is the
// simulator's way to end the stream, not an extra generated token).
func (s *writer) Finish(u targets.Usage) error {
	q, _ := json.Marshal(s.text.String())
	tail := `,"generated_text":` + string(q) + `,"details":null`
	if s.details {
		tail = fmt.Sprintf(`,"generated_text":%s,"details":{"finish_reason":"eos_token","generated_tokens":%d,"seed":null,"input_length":%d}`,
			q, u.CompletionTokens, u.PromptTokens)
	}
	return s.event(eosID, eosText, true, tail)
}

// Fail writes an ErrorResponse event, as TGI does when generation fails after
// the stream started.
func (s *writer) Fail(message string) error {
	q, _ := json.Marshal(message)
	_, err := fmt.Fprintf(s.w, "data:{\"error\":%s,\"error_type\":\"generation\"}\n\n", q)
	return err
}
