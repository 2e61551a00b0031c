package results

// ErrorKind classifies why a request failed. The set is part of the result
// file contract.
type ErrorKind string

// The error kinds of the design.
const (
	KindConnect  ErrorKind = "connect"      // the TCP/TLS connection could not be made
	KindTimeout  ErrorKind = "timeout"      // a deadline passed before the stream ended
	KindHTTP4xx  ErrorKind = "http_4xx"     // a 4xx status other than 429
	KindHTTP429  ErrorKind = "http_429"     // rate limited by the server
	KindHTTP5xx  ErrorKind = "http_5xx"     // a 5xx status
	KindStream   ErrorKind = "stream_error" // the stream broke or carried an error event
	KindProtocol ErrorKind = "protocol"     // the response was not the expected stream format
	KindCanceled ErrorKind = "canceled"     // the run stopped before the request finished
)

// Error is a failed request's cause as written in requests.jsonl.
type Error struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
	// RetryAfter keeps the server's Retry-After header of a 429, verbatim.
	RetryAfter string `json:"retry_after,omitempty"`
}

// Error implements the error interface.
func (e *Error) Error() string { return string(e.Kind) + ": " + e.Message }

// InputFromServer is Record.InputTokensSource when the input count is the
// server's.
const InputFromServer = "server"

// Token count sources for Record.OutputTokensSource.
const (
	SourceUsage     = "usage"     // the server's usage report
	SourceTokenizer = "tokenizer" // our tokenizer on the streamed text
	SourceFrames    = "frames"    // one token per token-bearing frame (no text to count)
)

// Record is one finished request, one line of requests.jsonl. Times named *_ns
// are offsets from the run's start on the monotonic clock; *_ms are durations.
// A duration that does not apply (no first token on a failed request, tpot with
// fewer than two tokens) is null.
type Record struct {
	ID      string `json:"id"`
	Session int    `json:"session,omitempty"`
	Turn    int    `json:"turn,omitempty"`

	ScheduledNS  int64 `json:"scheduled_ns"`
	SentNS       int64 `json:"sent_ns"`
	FirstTokenNS int64 `json:"first_token_ns"`
	DoneNS       int64 `json:"done_ns"`

	LagMS float64 `json:"lag_ms"`
	// ConnectMS is the time from the attempt to the send: getting a
	// connection (a new connection's dial and TLS) and handing the request
	// to its writer; tens of µs when one was reused. It is in no latency
	// counted from the send.
	ConnectMS float64  `json:"connect_ms"`
	TTFBMS    *float64 `json:"ttfb_ms"`
	TTFTMS    *float64 `json:"ttft_ms"`
	TTFOMS    *float64 `json:"ttfo_ms"`
	E2EMS     float64  `json:"e2e_ms"`
	TPOTMS    *float64 `json:"tpot_ms"`
	// ICLMS holds the gaps between consecutive token-bearing frames.
	ICLMS []float64 `json:"icl_ms"`
	// FrameTokens holds the token count of each token-bearing frame, so itl
	// (gap/k, k times) can be rebuilt from the record.
	FrameTokens []int `json:"frame_tokens,omitempty"`
	// EmptyFramesMS holds the times (ms from the send) of the frames that
	// carried no token, usage or terminator: a role-only first chunk, a
	// finish-only last chunk, an empty delta (at most 1024). They are in
	// no streamgauge metric; report --as vllm uses them, because vLLM's
	// client times every chunk that has choices.
	EmptyFramesMS []float64 `json:"empty_frames_ms,omitempty"`

	// DatasetID names the --dataset entry the prompt came from: its "id",
	// else "line N" or "entry N".
	DatasetID string `json:"dataset_id,omitempty"`
	// PromptHash is a hash of the whole prompt sent (16 hex digits of
	// FNV-1a 64 over each message's role and content): equal hashes mean a
	// repeated prompt, which a prefix cache answers faster.
	PromptHash string `json:"prompt_hash,omitempty"`

	InputTokens        int    `json:"input_tokens"`
	OutputTokens       int    `json:"output_tokens"`
	OutputTokensSource string `json:"output_tokens_source"`
	// UsageOutputTokens and TokenizerOutputTokens keep both counts when both exist.
	UsageOutputTokens     *int `json:"usage_output_tokens,omitempty"`
	TokenizerOutputTokens *int `json:"tokenizer_output_tokens,omitempty"`
	// OutputTokensBounded is true when the tokenizer met a run of over
	// 1 MiB with no break in it (one character repeated, base64, CJK text)
	// and counted it in 1 MiB pieces to bound its memory: its counts
	// (tokenizer_output_tokens, frame_tokens, a reasoning_tokens it
	// counted) may then be off by about one token per MiB of such a run.
	OutputTokensBounded bool `json:"output_tokens_bounded,omitempty"`
	ReasoningTokens     int  `json:"reasoning_tokens"`
	Frames              int  `json:"frames"`

	// The server's own account of the request, each set only when its API
	// reported it (docs/metrics.md, "The server's account").
	// InputTokensSource is "server" when InputTokens was taken from the
	// server's count because the request had none of its own (a replayed
	// prompt without a count); it is empty when InputTokens is what we
	// intended to send.
	InputTokensSource string `json:"input_tokens_source,omitempty"`
	// ServerInputTokens is the prompt length as the server counted it
	// (usage.prompt_tokens, Anthropic's input_tokens plus both cache
	// counts, Ollama's prompt_eval_count, llama.cpp's tokens_evaluated,
	// TGI's input_length).
	ServerInputTokens *int `json:"server_input_tokens,omitempty"`
	// ServerCachedTokens is how many of those the server took from its
	// prefix cache (prompt_tokens_details.cached_tokens, Anthropic's
	// cache_read_input_tokens, llama.cpp's cache_n).
	ServerCachedTokens *int `json:"server_cached_tokens,omitempty"`
	// ServerQueueMS, ServerPrefillMS, ServerDecodeMS and ServerLoadMS are
	// the server's own timings of the request: waiting to start, the
	// prompt, the output, loading the model (Ollama's *_duration,
	// llama.cpp's timings).
	ServerQueueMS   *float64 `json:"server_queue_ms,omitempty"`
	ServerPrefillMS *float64 `json:"server_prefill_ms,omitempty"`
	ServerDecodeMS  *float64 `json:"server_decode_ms,omitempty"`
	ServerLoadMS    *float64 `json:"server_load_ms,omitempty"`
	// ServerRequestID is the server's id for the request, to find it in
	// the server's logs: a request-id response header that is not our own
	// id echoed, else the stream's id (a chunk's "id", a message id).
	ServerRequestID string `json:"server_request_id,omitempty"`

	HTTPStatus int    `json:"http_status"`
	Warmup     bool   `json:"warmup"`
	Error      *Error `json:"error"`
	SLOOK      bool   `json:"slo_ok"`
}

// SinceScheduledMS is the time from the scheduled send to the actual send:
// the generator's lag plus connection set-up. Latencies counted from the
// scheduled send (--latency-from scheduled) add it.
func (r *Record) SinceScheduledMS() float64 { return r.LagMS + r.ConnectMS }

// OK reports whether the request succeeded.
func (r *Record) OK() bool { return r.Error == nil }

// Ms returns a pointer to v, for the nullable duration fields.
func Ms(v float64) *float64 { return &v }
