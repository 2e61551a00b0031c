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
	// Status is how the run ended (one of the Status* constants). It reads
	// StatusRunning from the start until the run ends, so a directory that
	// still says so was left by a run that was killed or crashed. Runs
	// written before the field existed have none.
	Status string `json:"status,omitempty"`
	// PlannedRequests is how many requests this process's schedule was to
	// send (--requests N, this shard's share of it), when a request count
	// bounds the run and each request is one record; 0 when unknown.
	PlannedRequests uint64 `json:"planned_requests,omitempty"`
}

// The values of RunInfo.Status.
const (
	StatusRunning     = "running"     // started and not (yet) ended
	StatusCompleted   = "completed"   // the whole schedule ran
	StatusInterrupted = "interrupted" // a signal stopped it early
	StatusAborted     = "aborted"     // --abort-on-fail stopped it early: an SLO was lost
	StatusFailed      = "failed"      // an error (writing the records, say) stopped it early
)
