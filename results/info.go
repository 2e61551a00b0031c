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
	// Simulator says how the built-in simulator was set up, when the
	// target was one (Simulated).
	Simulator *SimInfo `json:"simulator,omitempty"`
}

// The values of RunInfo.Status.
const (
	StatusRunning     = "running"     // started and not (yet) ended
	StatusCompleted   = "completed"   // the whole schedule ran
	StatusInterrupted = "interrupted" // a signal stopped it early
	StatusAborted     = "aborted"     // --abort-on-fail stopped it early: an SLO was lost
	StatusFailed      = "failed"      // an error (writing the records, say) stopped it early
)

// SimInfo is the built-in simulator a run drove, as resolved: enough to
// explain the run's latencies and to start the same simulator again.
type SimInfo struct {
	Scheduler string `json:"scheduler"`
	// MaxBatch, MaxStepTokens and KVTokens are the stepped engine's
	// limits; KVTokens is the capacity in effect (the cost model's unless
	// set).
	MaxBatch      int  `json:"max_batch,omitempty"`
	MaxStepTokens int  `json:"max_step_tokens,omitempty"`
	KVTokens      int  `json:"kv_tokens,omitempty"`
	PrefixCache   bool `json:"prefix_cache,omitempty"`
	// TTFT and ITL are the fixed engine's latencies (Go durations).
	TTFT string `json:"ttft,omitempty"`
	ITL  string `json:"itl,omitempty"`
	// CostModel is the stepped engine's cost model; nil for the fixed
	// engine.
	CostModel *SimCostModel `json:"cost_model,omitempty"`
}

// SimCostModel is a cost model in the words of a preset file (durations
// as Go durations), so one can be written back from run.json.
type SimCostModel struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Source is "built-in" for a preset of the tool, else the preset
	// file's path.
	Source            string  `json:"source"`
	Overhead          string  `json:"overhead"`
	LaunchFloor       string  `json:"launch_floor"`
	DecodeLaunchFloor string  `json:"decode_launch_floor"`
	PerToken          string  `json:"per_token"`
	WeightRead        string  `json:"weight_read"`
	PerContextTokenNS float64 `json:"per_context_token_ns"`
	KVTokens          int     `json:"kv_tokens"`
}
