// Package loadgen decides what to send and when: arrival schedules (as
// vegeta Pacers), closed-loop users, the dispatcher that keeps the schedule
// and measures its own lag, and request synthesis from token-length
// distributions and exact-length prompts. It knows no wire format: it hands
// targets.Requests to a Doer and turns the Responses into results.Records.
//
// The schedule and every request are pure functions of the seed and the
// profile: request i is synthesised from a random source seeded by (seed, i),
// so the same seed sends the same traffic, whatever the timing of the run.
package loadgen
