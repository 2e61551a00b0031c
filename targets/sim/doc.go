// Package sim is streamgauge's built-in simulated inference server. It serves
// the streaming APIs of the targets sub-packages over real HTTP, with token
// timing produced by an Engine, so every feature of the tool can be tried,
// tested and taught without a GPU.
//
// The HTTP layer (routing, request parsing, streaming, disconnects) is kept
// apart from the Engine (when each token leaves), so engines with real
// scheduling can replace the fixed-latency one without touching the protocols.
package sim
