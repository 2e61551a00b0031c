// Package triton speaks Triton Inference Server's generate extension in its
// streaming form, POST /v2/models/{model}/generate_stream, with the input and
// output names of the TensorRT-LLM backend's ensemble (text_input,
// max_tokens, stream; text_output). It holds the client's request builder
// and stream decoder, and the server's stream encoder the simulator uses.
//
// The request is {"text_input": prompt, "max_tokens": N, "stream": true}.
// The ensemble has no ignore_eos; with Request.IgnoreEOS the body also sets
// "min_length": N, which keeps TensorRT-LLM from stopping at EOS before N
// tokens (what vLLM's benchmark client does for this backend). Models served
// by Triton's vLLM backend take their sampling settings elsewhere
// (sampling_parameters) and ignore these two.
//
// The response is SSE, one event per response of the model:
//
//	data: {"model_name":"ensemble","model_version":"1","sequence_end":false,"sequence_id":0,"sequence_start":false,"text_output":" the"}
//
// text_output is the new text of that response (a one-element tensor, so a
// string; a longer tensor arrives as an array of strings and is joined).
// Triton sends no terminator and no usage: the stream ends when the server
// closes it, so Generate implements targets.EOFTerminated, and output tokens
// are counted with the tokenizer. An error during inference arrives as
// data: {"error":"..."} on the 200 stream.
package triton
