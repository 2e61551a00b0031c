// Package ollama speaks Ollama's native streaming API: POST /api/generate for
// a prompt and POST /api/chat for chat messages. It holds the client's request
// builder and stream decoder, and the server's stream encoder the simulator
// uses (serving both routes).
//
// Requests are {"model","prompt"|"messages","stream":true,"options":
// {"num_predict":N}}. Ollama has no ignore_eos option, so Request.IgnoreEOS
// cannot be honoured: num_predict only caps the output, and the server's
// eval_count says how many tokens came.
//
// The response is NDJSON (application/x-ndjson), one object per line:
//
//	{"model":"llama3.2","created_at":"...","response":"The","done":false}               generate
//	{"model":"llama3.2","created_at":"...","message":{"role":"assistant","content":"The"},"done":false}   chat
//
// Thinking models (newer Ollama) stream their reasoning in "thinking" (generate)
// or "message.thinking" (chat) before the answer; it is decoded as Reasoning.
// Tool calls come whole in "message.tool_calls"; their arguments are decoded as
// ToolArgs. The last line has "done": true with "done_reason" ("stop",
// "length"), "prompt_eval_count", "eval_count" and durations in nanoseconds:
// it carries the usage and ends the stream. An error is {"error":"..."}.
// Ollama reports no per-chunk token counts, so Event.Tokens stays 0.
package ollama
