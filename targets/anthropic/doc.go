// Package anthropic speaks Anthropic's Messages API (POST /v1/messages with
// "stream": true): the client's request builder and stream decoder, and the
// server's stream encoder that the simulator uses.
//
// The stream is SSE with typed events: message_start, then per content block
// content_block_start, content_block_delta..., content_block_stop, then
// message_delta (stop reason and cumulative usage) and message_stop. ping
// events keep the connection alive and an error event reports a failure
// mid-stream (overloaded_error, say).
package anthropic
