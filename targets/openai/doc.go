// Package openai speaks the OpenAI-compatible streaming APIs that vLLM,
// SGLang, TGI's Messages API, llama.cpp's server and hosted OpenAI serve:
// chat completions (/v1/chat/completions) and completions (/v1/completions).
// It holds both sides: the client's request builder and stream decoder, and
// the server's stream encoder that the simulator uses.
package openai
