package results

import "time"

// RunInfo is run.json: what ran, when, against what. It never holds secrets.
type RunInfo struct {
	Tool    string    `json:"tool"`
	Version string    `json:"version"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	// Profile is the fully resolved profile, as JSON.
	Profile any    `json:"profile"`
	Target  string `json:"target"`
	API     string `json:"api"`
	// Simulated is true when the target was the built-in simulator.
	Simulated bool   `json:"simulated"`
	Seed      uint64 `json:"seed"`
	Shard     string `json:"shard"`
	// Interrupted is true when the run was cut short by a signal.
	Interrupted bool `json:"interrupted,omitempty"`
}
