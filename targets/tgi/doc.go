// Package tgi speaks Hugging Face Text Generation Inference's native
// streaming API, POST /generate_stream: both the client's request builder and
// stream decoder, and the server's stream encoder the simulator uses.
//
// The request is {"inputs": prompt, "parameters": {"max_new_tokens": N,
// "details": true}}. TGI serves one model, so the body names none. TGI has no
// ignore_eos (nor min_new_tokens): Request.IgnoreEOS cannot be honoured and a
// stream may end at the model's EOS before max_new_tokens; output_tokens then
// still comes from the server's usage, which counts what was generated.
//
// The response is SSE, one event per generated token:
//
//	data:{"index":1,"token":{"id":415,"text":" The","logprob":-0.8,"special":false},"generated_text":null,"details":null}
//
// The last event also carries "generated_text" and, because the request sets
// details, "details" {"finish_reason","generated_tokens","seed","input_length"}
// (older servers: "prompt_tokens"). That event is the terminator: TGI sends no
// [DONE] and closes the stream after it. generated_text repeats the whole
// answer and is not added to the content again. An in-stream error is
// data:{"error":"...","error_type":"..."}.
//
// Special tokens ("special": true, such as </s> or <|eot_id|>) are generated
// tokens with no visible text: their frames carry no content, so they do not
// count as a first token or as a chunk. Likewise a token whose text is empty
// (a byte of an incomplete UTF-8 character). Every event is exactly one token,
// so a content frame reports Tokens = 1 plus the hidden tokens generated since
// the previous content frame: the gap before it covered all of them.
package tgi
