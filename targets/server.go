package targets

import (
	"io"
	"time"
)

// ServerRequest is what a simulated server needs from a client's request.
type ServerRequest struct {
	Model string
	// Prompt is the prompt text, or the chat messages' contents joined.
	Prompt    string
	MaxTokens int
	MinTokens int
	IgnoreEOS bool
	Stream    bool
	// IncludeUsage asks for a final usage frame (OpenAI stream_options).
	IncludeUsage bool
	// Chat is set when the request carried chat messages (Ollama's
	// /api/chat), for APIs whose response shape differs by route.
	Chat bool
}

// StreamWriter writes one response stream in a protocol's wire format. The
// simulator drives it; the encoders live beside the decoders so each protocol
// is tested end to end against itself.
type StreamWriter interface {
	// Start writes whatever precedes the first token (a role frame, say).
	Start() error
	// Token writes one frame carrying text.
	Token(text string) error
	// Finish writes the end of a complete stream: finish reason, usage and
	// terminator.
	Finish(u Usage) error
	// Fail writes an in-stream error event.
	Fail(message string) error
}

// PromptStats is what a server knows of a request's prompt once its first
// token is out.
type PromptStats struct {
	// Tokens is the prompt's length on the server's tokenizer.
	Tokens int
	// Cached is how many of Tokens were found in the prefix cache (not
	// computed again).
	Cached int
	// Prefill is the time the prompt's computation took: from the step that
	// first scheduled the request to its first token (queueing excluded).
	Prefill time.Duration
}

// PromptReporter is implemented by StreamWriters whose protocol reports the
// prompt's usage in its own fields (cached tokens, prompt timings). The
// simulator calls ReportPrompt before the first Token (or before Finish
// when there is none).
type PromptReporter interface {
	ReportPrompt(PromptStats)
}

// ServerProtocol is the server side of a Protocol.
type ServerProtocol interface {
	// Name is the --api value.
	Name() string
	// Routes are the paths the protocol serves.
	Routes() []string
	// ContentType is the streaming response's media type.
	ContentType() string
	// ParseRequest decodes a request body.
	ParseRequest(body []byte) (*ServerRequest, error)
	// NewStreamWriter returns a writer for one response to req.
	NewStreamWriter(w io.Writer, req *ServerRequest, id string) StreamWriter
}
