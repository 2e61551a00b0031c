package analysis

import (
	"fmt"
	"math"
)

// DoctorFile is the file `streamgauge doctor --out DIR` writes its result to.
const DoctorFile = "doctor.json"

// DoctorLimits are the measurement errors a probe may show and still pass.
type DoctorLimits struct {
	// MaxTTFTErrorMS bounds the median ttft error against the truth log.
	MaxTTFTErrorMS float64 `json:"max_ttft_error_p50_ms"`
	// MaxLagMS bounds the p99 send lag (open loop only).
	MaxLagMS float64 `json:"max_lag_p99_ms"`
}

// DoctorProbe is one load level run against the simulator with known
// timing: the client's own errors and cost at that level.
type DoctorProbe struct {
	Index int `json:"index"`
	// Level is the rate (req/s, open loop) or the users (closed loop).
	Level        float64 `json:"level"`
	AchievedRate float64 `json:"achieved_rate"`
	OK           int64   `json:"ok"`
	Failed       int64   `json:"failed"`
	Frames       int     `json:"frames"`
	// The errors against the truth log, ms: ttft (client − server) and the
	// absolute gap error between consecutive frames.
	TTFTErrP50   float64 `json:"ttft_err_p50_ms"`
	TTFTErrP99   float64 `json:"ttft_err_p99_ms"`
	GapAbsErrP50 float64 `json:"gap_abs_err_p50_ms"`
	GapAbsErrP99 float64 `json:"gap_abs_err_p99_ms"`
	// Lag is the client's send lag (actual − scheduled send), ms.
	LagP50 float64 `json:"lag_p50_ms"`
	LagP99 float64 `json:"lag_p99_ms"`
	// The client's CPU (this process) and the simulator's (its own
	// process), seconds over the probe's wall time.
	ClientCPUS          float64 `json:"client_cpu_s"`
	ClientCPUPerReqUS   float64 `json:"client_cpu_us_per_request"`
	ClientCPUPerFrameUS float64 `json:"client_cpu_us_per_frame"`
	ServerCPUS          float64 `json:"server_cpu_s"`
	WallS               float64 `json:"wall_s"`
	// ElapsedS is the probe's whole time: the simulator's start and stop,
	// the run's set-up and its drain (what the budget counts).
	ElapsedS float64 `json:"elapsed_s,omitempty"`
	// Load1 is the machine's 1-minute load average before the probe (0:
	// unknown).
	Load1 float64 `json:"load1_at_start,omitempty"`
	// Truth holds every error statistic of the comparison.
	Truth *TruthErrors `json:"truth,omitempty"`
	Pass  bool         `json:"pass"`
	// Why says which limit the probe broke ("" when it passed).
	Why   string `json:"why,omitempty"`
	Error string `json:"error,omitempty"`
}

// ClientCores is the client's CPU use in cores (1 = one core busy).
func (p *DoctorProbe) ClientCores() float64 { return perWall(p.ClientCPUS, p.WallS) }

// ServerCores is the simulator's CPU use in cores.
func (p *DoctorProbe) ServerCores() float64 { return perWall(p.ServerCPUS, p.WallS) }

// perWall is a over b, 0 when b is not positive.
func perWall(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// Judge sets p.Pass and p.Why: a probe passes when it ran, no request
// failed, every request matched the truth log (and there was one), the
// median ttft error is under the limit and (open loop) the lag p99 is
// under its limit.
func (p *DoctorProbe) Judge(lim DoctorLimits, openLoop bool) {
	p.Pass, p.Why = false, ""
	switch {
	case p.Error != "":
		p.Why = "error: " + p.Error
	case p.Failed > 0:
		p.Why = fmt.Sprintf("%d requests failed", p.Failed)
	case p.Truth == nil || p.Truth.Requests == 0:
		p.Why = "no request matched the simulator's truth log"
	case p.Truth.Unmatched > 0:
		// With no failed request, these streamed other frames than the
		// server sent (or were never logged): their timing is unchecked.
		p.Why = fmt.Sprintf("%d of %d requests did not match the simulator's truth log (frames the client counted differ from those the server sent)",
			p.Truth.Unmatched, p.Truth.Unmatched+p.Truth.Requests)
	case !(p.TTFTErrP50 < lim.MaxTTFTErrorMS):
		p.Why = fmt.Sprintf("ttft error p50 %s ms >= %s ms", FormatMS(p.TTFTErrP50), FormatMS(lim.MaxTTFTErrorMS))
	case openLoop && !(p.LagP99 < lim.MaxLagMS):
		p.Why = fmt.Sprintf("lag p99 %s ms >= %s ms", FormatMS(p.LagP99), FormatMS(lim.MaxLagMS))
	default:
		p.Pass = true
	}
}

// Doctor is `streamgauge doctor`'s result: how far this machine can drive
// a workload before its own measurement errors exceed the limits.
type Doctor struct {
	Tool    string `json:"tool"`
	Version string `json:"version"`
	// Name and Workload describe what was probed.
	Name     string `json:"name"`
	Workload string `json:"workload"`
	// Mode is "rate" (open loop, req/s) or "users" (closed loop).
	Mode string `json:"mode"`
	// Planned is the profile's own level, what the user means to run.
	Planned float64 `json:"planned"`
	// The simulator's fixed timing, ms.
	SimTTFTMS float64 `json:"sim_ttft_ms"`
	SimITLMS  float64 `json:"sim_itl_ms"`
	// ProbeS is each probe's scheduling time; BudgetS bounds them all.
	ProbeS float64 `json:"probe_duration_s"`
	// SettleS is the warm-up before each probe's measured window (one
	// stream's length), whose requests are not judged.
	SettleS float64      `json:"settle_s"`
	BudgetS float64      `json:"budget_s"`
	Limits  DoctorLimits `json:"limits"`
	// CPUs is the cores this machine has (GOMAXPROCS).
	CPUs   int           `json:"cpus"`
	Probes []DoctorProbe `json:"probes"`
	// Outcome says why the search ended.
	Outcome string `json:"outcome"`
	// Ceiling is the highest level that passed below every level that
	// failed (0: none passed); CeilingProbe is its probe's index.
	Ceiling      float64 `json:"ceiling"`
	CeilingProbe int     `json:"ceiling_probe,omitempty"`
	// AtLeast is true when no probe failed: the ceiling is a floor.
	AtLeast bool `json:"ceiling_is_lower_bound,omitempty"`
	// Within is true when the planned level is at most the ceiling.
	Within bool `json:"within"`
	// ServerCores is the simulator's CPU use at the ceiling, in cores, and
	// AloneEstimate the ceiling scaled by the cores the client would have
	// with the server elsewhere: Ceiling × CPUs / (CPUs − ServerCores).
	// It is an estimate that assumes the client's work is CPU-bound and
	// scales with cores; 0 when it cannot be made (no CPU figure for the
	// server, or a ceiling that is only a lower bound).
	ServerCores   float64 `json:"server_cores_at_ceiling"`
	AloneEstimate float64 `json:"ceiling_without_server_estimate,omitempty"`
	// Verdict is the one-line answer; Advice what to do about it.
	Verdict string `json:"verdict"`
	Advice  string `json:"advice,omitempty"`
	// LoadStart and LoadEnd are the machine's 1-minute load average
	// before the first probe and after the last (0: unknown).
	LoadStart float64 `json:"load1_at_start,omitempty"`
	LoadEnd   float64 `json:"load1_at_end,omitempty"`
	// Interrupted is true when the search was cut short.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Busy reports whether other processes competed for the CPU: a load
// average above three quarters of the cores before the first probe (the
// later ones count the probes' own client and server too).
func (d *Doctor) Busy() bool {
	return d.CPUs > 0 && d.LoadStart > 0.75*float64(d.CPUs)
}

// OpenLoop reports whether the levels are rates.
func (d *Doctor) OpenLoop() bool { return d.Mode != "users" }

// Unit names the levels: "req/s" or "users".
func (d *Doctor) Unit() string {
	if d.OpenLoop() {
		return "req/s"
	}
	return "users"
}

// Conclude computes the ceiling from the probes (the highest passing level
// below the lowest failing one: a pass above a failure is noise near the
// knee and not trusted), whether the planned level fits under it, the
// estimate without the simulator on the machine, and the verdict.
func (d *Doctor) Conclude() {
	lowFail := math.Inf(1)
	for _, p := range d.Probes {
		if !p.Pass && p.Level < lowFail {
			lowFail = p.Level
		}
	}
	d.Ceiling, d.CeilingProbe, d.ServerCores, d.AloneEstimate = 0, 0, 0, 0
	var best *DoctorProbe
	for i := range d.Probes {
		p := &d.Probes[i]
		if p.Pass && p.Level < lowFail && p.Level > d.Ceiling {
			d.Ceiling, d.CeilingProbe, best = p.Level, p.Index, p
		}
	}
	d.AtLeast = best != nil && math.IsInf(lowFail, 1)
	d.Within = best != nil && d.Planned <= d.Ceiling
	if best != nil {
		d.ServerCores = round3(best.ServerCores())
		if !d.AtLeast && d.CPUs > 0 && d.ServerCores < float64(d.CPUs) && best.ServerCPUS > 0 {
			d.AloneEstimate = round3sig(d.Ceiling * float64(d.CPUs) / (float64(d.CPUs) - d.ServerCores))
			if !d.OpenLoop() {
				d.AloneEstimate = math.Floor(d.AloneEstimate)
			}
		}
	}
	d.Verdict, d.Advice = d.verdict()
}

// Measured reports whether any probe completed a request: a search whose
// every request failed measured nothing about the client.
func (d *Doctor) Measured() bool {
	for _, p := range d.Probes {
		if p.OK > 0 {
			return true
		}
	}
	return false
}

// Shards is the number of machines the planned level needs at this
// ceiling (1 when it fits; 0 when no level passed).
func (d *Doctor) Shards() int {
	if d.Ceiling <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(d.Planned/d.Ceiling-1e-9)))
}

func (d *Doctor) verdict() (verdict, advice string) {
	what := "req/s"
	if !d.OpenLoop() {
		what = "concurrent users"
	}
	lim := fmt.Sprintf("ttft error under %s ms", FormatMS(d.Limits.MaxTTFTErrorMS))
	if d.Ceiling <= 0 {
		low := math.Inf(1)
		for _, p := range d.Probes {
			low = math.Min(low, p.Level)
		}
		if math.IsInf(low, 1) {
			return "no probe ran: the ceiling is unknown", ""
		}
		if !d.Measured() {
			// Not the client's limit: nothing was measured at all.
			return fmt.Sprintf("no probe completed a request: the ceiling is unknown (probe 1: %s)", d.Probes[0].Why),
				"the requests fail against doctor's own simulator whatever the load: check the workload's settings (--api, --dataset, lengths) with a short streamgauge run"
		}
		return fmt.Sprintf("this machine cannot drive even %s %s of this workload with %s (and lag p99 under %s ms)",
				FormatLevel(low), what, lim, FormatMS(d.Limits.MaxLagMS)),
			"the client is the bottleneck at every level probed: free this machine's CPU (other processes), or shard the load over several machines (--shard i/N, docs/distributed.md)"
	}
	best := d.probe(d.CeilingProbe)
	up := "up to"
	if d.AtLeast {
		up = "at least"
	}
	verdict = fmt.Sprintf("this machine can drive %s %s %s of this workload with %s", up, FormatLevel(d.Ceiling), what, lim)
	if best != nil {
		if d.OpenLoop() {
			verdict += fmt.Sprintf(" (lag p99 %s ms)", FormatMS(best.LagP99))
		} else {
			verdict += fmt.Sprintf(" (ttft error p50 %s ms)", FormatMS(best.TTFTErrP50))
		}
	}
	switch {
	case d.Planned <= 0:
	case d.Within && d.AtLeast:
		advice = fmt.Sprintf("planned %s %s is within it: at least %.1fx headroom (no probe reached the limits; a larger --budget or --max-level probes higher)", FormatLevel(d.Planned), what, d.Ceiling/d.Planned)
	case d.Within:
		advice = fmt.Sprintf("planned %s %s is within it: %.1fx headroom", FormatLevel(d.Planned), what, d.Ceiling/d.Planned)
	default:
		k := d.Shards()
		advice = fmt.Sprintf("planned %s %s is above it: this machine would distort the numbers; shard the load over %d machines (each runs --shard i/%d with the same --seed and --start-at, i = 0..%d; see docs/distributed.md), or lower the load",
			FormatLevel(d.Planned), what, k, k, k-1)
	}
	return verdict, advice
}

func (d *Doctor) probe(index int) *DoctorProbe {
	for i := range d.Probes {
		if d.Probes[i].Index == index {
			return &d.Probes[i]
		}
	}
	return nil
}
