// Package generic speaks an in-house streaming API described by a Spec in the
// profile file (the `generic:` block, with --api generic), without code.
//
// A Spec says where to send the request, how to write its JSON body, how the
// response stream is framed, and where in each frame the token text, the
// usage, the end marker and errors are. New checks all of it before the first
// request is sent: every problem is reported at once, one line each, naming
// the field (`generic.text: ...`).
//
// # Fields
//
//	path       the API's path, appended to --target; {model} is replaced by
//	           the path-escaped model: /v1/generate, /models/{model}/stream
//	method     POST (the default and the only method the client sends)
//	headers    constant headers, NAME: VALUE. They end up in run.json, so a
//	           credential-looking header is refused: the key comes from
//	           --api-key-env and goes in the auth header.
//	auth       the header that carries the key: NAME, or NAME: VALUE where
//	           VALUE holds {key} once. "Authorization" (the default) sends
//	           "Bearer KEY"; any other bare NAME sends the key as it is:
//	           X-Api-Key, "Authorization: Token {key}".
//	request    a Go text/template of the JSON body (see Request template)
//	framing    sse (text/event-stream) or ndjson (one JSON document a line)
//	text       PATH of the answer text in each frame
//	reasoning  PATH of the reasoning text (optional)
//	done       how the stream ends (see Done)
//	usage      prompt, completion, reasoning: PATHs of token counts (optional)
//	error      PATH whose presence marks an error frame (optional)
//
// # Paths
//
//	PATH    = KEY { "." KEY }
//	KEY     = one or more characters other than ".", "[", "]" and controls
//
// A KEY that is a whole number indexes an array (and still names an object
// member "0" when the value is an object): choices.0.delta.content. Every
// spelling of a number Go reads (0, 00, +0) is the same index, and two paths
// that differ only in spelling are the same path. Brackets are
// refused with a hint (choices[0] is written choices.0); keys holding a dot
// cannot be addressed. A frame where a path leads nowhere (a member missing,
// an index out of range, a scalar on the way) simply does not have it: a
// frame without text is not a token. A text or reasoning value that is not a
// string (or null), or a usage value that is not a whole number >= 0, is a
// protocol error.
//
// # Done
//
//		DONE    = "eof" | PATH OP VALUE | LINE
//		OP      = "==" | "!="
//		VALUE   = null | true | false | NUMBER | STRING   (JSON: quote strings)
//
//	  - eof: the stream has no end marker; it is complete when the server
//	    closes it (as Triton's generate_stream).
//	  - PATH==VALUE: a frame where PATH holds VALUE ends the stream:
//	    done==true, state=="finished". PATH!=VALUE: a frame where PATH is
//	    present and holds anything else: choices.0.finish_reason!=null. An
//	    absent path never matches either operator; numbers compare by value.
//	    The frame is decoded first (its text and usage count).
//	  - anything else is a LINE: a frame whose whole data, spaces trimmed, is
//	    exactly LINE ends the stream: [DONE]. It is not parsed as JSON.
//
// With ndjson the client stops reading at the done frame; with sse it reads
// to the end of the body, as for the built-in APIs. In YAML, quote a done
// that holds quotes: done: 'state=="finished"'.
//
// # Request template
//
// The body is a text/template executed with TemplateData:
//
//	.Prompt     the prompt (chat requests: the messages' contents joined by newlines)
//	.Messages   the chat messages, []{Role, Content} (prompt requests: one user message)
//	.MaxTokens  the output cap (0 when the workload sets none)
//	.Model      --model
//	.Stream     always true
//	.IgnoreEOS  --ignore-eos
//	json        a function that writes any value as JSON: {{json .Prompt}}
//
// Text must go through json, or a prompt with a quote breaks the body: New
// renders two sample requests (with quotes, backslashes and newlines in the
// prompt, with and without IgnoreEOS) and refuses a template whose body is not
// valid JSON; each request's body is checked again when it is built. So that
// a template's work stays bounded, it ranges only over a field ({{range
// .Messages}}), nests at most three ranges, and calls no {{template}} or
// {{block}}.
//
// # Frames
//
// A frame is decoded in this order: a done LINE; a blank frame (skipped); the
// JSON (invalid JSON is a protocol error); the error path: present and not
// null, false, 0, "", {} or [] means the server reported an error, whose
// message is the string, or an object's "message" (prefixed with its "type"
// when it has one, "overloaded: try later"), or else the JSON text; then
// text, reasoning and usage; then a done condition.
//
// Usage counts are cumulative: each count keeps the last value seen, so an
// API that sends the prompt count first and the completion count at the end
// is read whole. Once a completion count has come, a token-bearing frame
// whose count grew by k carries k tokens (per-chunk usage), which feeds itl;
// a count that first comes on a frame with text (the total, at the end) is
// not taken as that frame's tokens.
//
// # Simulator
//
// NewServer serves a Spec in the built-in simulator: it writes the text at the
// text path, the usage and done value in a final frame, the LINE, and errors
// at the error path, and reads the prompt, model and max tokens from the
// request body at the places where the template puts them (found by
// rendering the template with marker values).
package generic
