// Package targetstest is test support for the protocol packages under
// targets (tgi, ollama, llamacpp, triton, anthropic, openai and the like): it
// holds the exported helpers their tests share, so each package tests its own
// wire format with the same golden-file, fuzz, benchmark and client
// machinery. It imports testing and is meant to be imported only from tests.
//
// Two golden shapes are supported. Decode and Golden record every frame of a
// stream as an Event and go on after a decode error, ending in a Transcript.
// DecodeStream and StreamGolden stop at the first decode error, as the client
// does, and also record what a client keeps of the whole stream (a Stream).
package targetstest

import "github.com/streamgauge/streamgauge/targets"

// Protocol is both sides of a wire API, as a protocol package implements it:
// the client's decoder and the simulator's stream writer.
type Protocol interface {
	targets.Protocol
	targets.ServerProtocol
}
