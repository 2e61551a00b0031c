// Package llamacpp speaks llama.cpp's native completion API (llama-server's
// POST /completion): the client's request builder and stream decoder, and the
// server's stream encoder the simulator uses.
//
// The request is {"prompt","n_predict":N,"stream":true}, with
// "ignore_eos": true when Request.IgnoreEOS and "model" when the request
// names one (llama-server's router mode picks the model by it; a one-model
// server ignores it). cache_prompt is left at the server's default (on), so
// shared prefixes are served from the KV cache as in production.
//
// The response is SSE, one event per sampled token:
//
//	data: {"index":0,"content":" the","tokens":[279],"stop":false,"id_slot":0,"tokens_predicted":3,"tokens_evaluated":12}
//
// tokens_predicted counts the tokens generated so far; its increase is the
// frame's token count (a frame holding back part of a UTF-8 character or a
// possible stop word is followed by one carrying several). Older servers omit
// it on partial events; the frame's count is then unknown (0). The last event
// has "stop": true with "tokens_predicted", "tokens_evaluated", "stop_type"
// and "timings": it carries the usage and ends the stream.
//
// An error on the stream is data: {"error":{"code":500,"message":"...",
// "type":"server_error"}} (current servers). Builds from before the server's
// 2025 rewrite wrote it as a non-standard "error: {...}" line, which SSE
// readers ignore: such a stream ends without its stop event and fails as a
// stream error without the server's message.
package llamacpp
