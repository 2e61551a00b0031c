package openai

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
func (Responses) Routes() []string { return []string{"/v1/responses"} }

// ContentType implements targets.ServerProtocol.
func (Responses) ContentType() string { return "text/event-stream" }

type responsesServerBody struct {
	Model           string          `json:"model"`
	Input           json.RawMessage `json:"input"`
	Instructions    *string         `json:"instructions"`
	Stream          bool            `json:"stream"`
	MaxOutputTokens *int            `json:"max_output_tokens"`
}

// ParseRequest implements targets.ServerProtocol. The input is a string or a
// list of input items; the text of the message items (string content, or
// input_text/output_text parts) makes up the prompt, after the instructions.
func (Responses) ParseRequest(data []byte) (*targets.ServerRequest, error) {
	var b responsesServerBody
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("invalid JSON body: %w", err)
	}
	r := &targets.ServerRequest{Model: b.Model, Stream: b.Stream}
	if b.MaxOutputTokens != nil {
		if *b.MaxOutputTokens < 0 {
			return nil, fmt.Errorf("max_output_tokens %d: must not be negative", *b.MaxOutputTokens)
		}
		r.MaxTokens = *b.MaxOutputTokens
	}
	if len(b.Input) == 0 || string(b.Input) == "null" {
		return nil, fmt.Errorf("input: %w", errNoPrompt)
	}
	var parts []string
	if b.Instructions != nil && *b.Instructions != "" {
		parts = append(parts, *b.Instructions)
	}
	var s string
	if err := json.Unmarshal(b.Input, &s); err == nil {
		r.Prompt = strings.Join(append(parts, s), "\n")
		return r, nil
	}
	var items []struct {
		Type    string          `json:"type"`
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b.Input, &items); err != nil {
		return nil, errors.New("input: want a string or a list of input items")
	}
	for i, it := range items {
		if (it.Type != "" && it.Type != "message") || len(it.Content) == 0 {
			continue // function_call_output, reasoning and other items
		}
		text, err := responsesContentText(it.Content)
		if err != nil {
			return nil, fmt.Errorf("input[%d].content: %w", i, err)
		}
		parts = append(parts, text)
	}
	r.Prompt = strings.Join(parts, "\n")
	return r, nil
}

// responsesContentText returns the text of a message's content: a string, or
// its text parts concatenated.
func responsesContentText(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var ps []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &ps); err != nil {
		return "", errors.New("want a string or a list of content parts")
	}
	var sb strings.Builder
	for _, p := range ps {
		switch p.Type {
		case "input_text", "output_text", "text":
			sb.WriteString(p.Text)
		}
	}
	return sb.String(), nil
}

// NewStreamWriter implements targets.ServerProtocol.
func (Responses) NewStreamWriter(w io.Writer, req *targets.ServerRequest, id string) targets.StreamWriter {
	if id == "" {
		id = "sim"
	}
	rid, _ := json.Marshal("resp_" + id)
	iid, _ := json.Marshal("msg_" + id)
	model, _ := json.Marshal(req.Model)
	return &responsesWriter{w: w, respID: rid, itemID: iid, model: model, created: time.Now().Unix()}
}

// responsesWriter encodes one Responses stream with a single message output
// item holding one output_text part, event for event as OpenAI sends it.
type responsesWriter struct {
	w              io.Writer
	respID, itemID []byte // JSON strings
	model          []byte
	created        int64
	seq            int
	text           []byte // the text so far, for the .done events
	buf            []byte
	cached         int // prompt tokens found in the prefix cache
}

// ReportPrompt implements targets.PromptReporter: the usage reports the
// cached prompt tokens in input_tokens_details.
func (s *responsesWriter) ReportPrompt(p targets.PromptStats) { s.cached = p.Cached }

// event appends one SSE event; the data is the JSON object opened with the
// type and sequence number, then body, then '}'.
func (s *responsesWriter) event(name string, body ...string) {
	s.buf = append(s.buf, "event: "...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, "\ndata: {\"type\":\""...)
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, "\",\"sequence_number\":"...)
	s.buf = strconv.AppendInt(s.buf, int64(s.seq), 10)
	s.seq++
	for _, b := range body {
		s.buf = append(s.buf, b...)
	}
	s.buf = append(s.buf, "}\n\n"...)
}

func (s *responsesWriter) flush() error {
	_, err := s.w.Write(s.buf)
	s.buf = s.buf[:0]
	return err
}

// response renders the response object with a status, its output items, its
// error and its usage (all JSON).
func (s *responsesWriter) response(status, output, errObj, usage string) string {
	return `{"id":` + string(s.respID) + `,"object":"response","created_at":` + strconv.FormatInt(s.created, 10) +
		`,"status":"` + status + `","error":` + errObj + `,"model":` + string(s.model) +
		`,"output":` + output + `,"usage":` + usage + `}`
}

// item renders the message output item.
func (s *responsesWriter) item(status, content string) string {
	return `{"id":` + string(s.itemID) + `,"type":"message","status":"` + status + `","role":"assistant","content":` + content + `}`
}

// Start writes response.created, response.in_progress and the opening of the
// message item and its text part.
func (s *responsesWriter) Start() error {
	inProgress := s.response("in_progress", "[]", "null", "null")
	s.event("response.created", `,"response":`, inProgress)
	s.event("response.in_progress", `,"response":`, inProgress)
	s.event("response.output_item.added", `,"output_index":0,"item":`, s.item("in_progress", "[]"))
	s.event("response.content_part.added", `,"item_id":`, string(s.itemID),
		`,"output_index":0,"content_index":0,"part":{"type":"output_text","annotations":[],"text":""}`)
	return s.flush()
}

// Token writes one response.output_text.delta.
func (s *responsesWriter) Token(text string) error {
	q, _ := json.Marshal(text)
	s.text = append(s.text, text...)
	s.event("response.output_text.delta", `,"item_id":`, string(s.itemID),
		`,"output_index":0,"content_index":0,"delta":`, string(q), `,"logprobs":[]`)
	return s.flush()
}

// Finish writes the .done events, which repeat the whole text, and
// response.completed with the usage.
func (s *responsesWriter) Finish(u targets.Usage) error {
	q, _ := json.Marshal(string(s.text))
	part := `{"type":"output_text","annotations":[],"text":` + string(q) + `}`
	done := s.item("completed", "["+part+"]")
	s.event("response.output_text.done", `,"item_id":`, string(s.itemID),
		`,"output_index":0,"content_index":0,"text":`, string(q), `,"logprobs":[]`)
	s.event("response.content_part.done", `,"item_id":`, string(s.itemID), `,"output_index":0,"content_index":0,"part":`, part)
	s.event("response.output_item.done", `,"output_index":0,"item":`, done)
	usage := fmt.Sprintf(`{"input_tokens":%d,"input_tokens_details":{"cached_tokens":%d},"output_tokens":%d,"output_tokens_details":{"reasoning_tokens":%d},"total_tokens":%d}`,
		u.PromptTokens, min(s.cached, u.PromptTokens), u.CompletionTokens, u.ReasoningTokens, u.PromptTokens+u.CompletionTokens)
	s.event("response.completed", `,"response":`, s.response("completed", "["+done+"]", "null", usage))
	return s.flush()
}

// Fail writes response.failed with a server_error, as OpenAI ends a response
// that broke.
func (s *responsesWriter) Fail(message string) error {
	q, _ := json.Marshal(message)
	errObj := `{"code":"server_error","message":` + string(q) + `}`
	s.event("response.failed", `,"response":`, s.response("failed", "[]", errObj, "null"))
	return s.flush()
}
