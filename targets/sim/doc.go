// Package sim is streamgauge's built-in simulated inference server. It serves
// the streaming APIs of the targets sub-packages over real HTTP, with token
// timing produced by an Engine, so every feature of the tool can be tried,
// tested and taught without a GPU.
//
// The HTTP layer (server.go: routing, request parsing, streaming,
// disconnects, chaos, the truth log, /metrics) is kept apart from the Engine
// (when each token leaves). Two engines exist:
//
//   - Fixed: every request gets a fixed time to first token and inter-token
//     gap, whatever the load; for timing-truth tests.
//   - Stepped: one goroutine runs steps like a real server. A scheduling core
//     (sched.go: fcfs, static, continuous, chunked-prefill, priority, with a
//     bounded KV cache, recompute preemption and a prefix cache) decides what
//     each step computes; a CostModel (cost.go) prices the step from the
//     hardware's FLOP/s and bandwidth; every sequence in the step gets its
//     next token at the step's end. The core takes the time as an argument
//     and never sleeps, so its tests run on a simulated clock.
//
// Config describes a simulator the way `streamgauge serve` flags do;
// NewFromConfig builds one. docs/schedulers.md explains the schedulers,
// derives the presets and shows them measured.
package sim
