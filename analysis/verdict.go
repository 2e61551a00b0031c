package analysis

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// LoadSummary returns the summary of the run in dir, to judge SLOs on: its
// summary.json, or one rebuilt from requests.jsonl when summary.json is
// missing (a run cut short) or damaged (see results.IsDamaged), or when g is
// given, which recomputes which requests are good (slo_ok) and so goodput.
// rebuilt says which happened. A rebuilt summary takes the generator's
// settings (requested rate, open loop, CPU) from summary.json when there is
// one, else from run.json, and counts latencies from the scheduled send when
// the run did.
func LoadSummary(dir string, g *GoodputSLO) (sum *Summary, rebuilt bool, err error) {
	stored, err := readStoredSummary(dir)
	if err != nil {
		return nil, false, err
	}
	haveStored := stored != nil
	if haveStored && g == nil {
		return stored, false, nil
	}
	profile, err := readRunProfile(dir)
	if err != nil {
		return nil, false, err
	}
	var meta RunMeta
	fromScheduled := profile["latency-from"] == "scheduled"
	if haveStored {
		meta = RunMeta{RequestedRate: stored.Generator.RequestedRate, OpenLoop: stored.Generator.OpenLoop,
			CPUSeconds: stored.Generator.CPUSeconds, CPUIncludesServer: stored.Generator.CPUIncludesServer}
		fromScheduled = stored.LatencyFrom == "scheduled"
	} else {
		meta = profileMeta(profile)
	}
	acc := NewAccumulator(WithLatencyFromScheduled(fromScheduled))
	g = g.WithLatencyFromScheduled(fromScheduled)
	err = results.ReadRecords(dir, func(r *results.Record) error {
		if g != nil {
			g.Mark(r)
		}
		return acc.Append(r)
	})
	if err != nil {
		return nil, false, err
	}
	sum, err = acc.Summary(meta)
	return sum, true, err
}

// readStoredSummary reads dir's summary.json. It returns nil, and no error,
// when the summary must be rebuilt from the records: summary.json is
// missing, or damaged while requests.jsonl is there to rebuild from.
func readStoredSummary(dir string) (*Summary, error) {
	s := &Summary{}
	err := results.ReadJSON(dir, results.SummaryFile, s)
	switch {
	case err == nil:
		return s, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case results.IsDamaged(err) && hasRecords(dir):
		return nil, nil
	}
	return nil, err
}

func hasRecords(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, results.RequestsFile))
	return err == nil
}

// RunState is what a command should tell its user about a run directory's
// files before it reads them, and how far the run got.
type RunState struct {
	Dir string
	Run *RunDir
	// SummaryErr is nil when summary.json decodes; else why not: missing
	// (errors.Is fs.ErrNotExist) or damaged (results.IsDamaged). Readers
	// rebuild the summary from requests.jsonl in both cases.
	SummaryErr error
	// Torn is requests.jsonl's torn last line, which every reader skips;
	// nil when there is none (or no requests.jsonl).
	Torn *results.TornLine
}

// InspectRun reads what RunState says of dir: run.json, whether
// summary.json decodes, and requests.jsonl's tail.
func InspectRun(dir string) (*RunState, error) {
	rd, err := ReadRunDir(dir)
	if err != nil {
		return nil, err
	}
	st := &RunState{Dir: dir, Run: rd}
	st.SummaryErr = results.ReadJSON(dir, results.SummaryFile, &Summary{})
	if st.SummaryErr != nil && !errors.Is(st.SummaryErr, fs.ErrNotExist) && !results.IsDamaged(st.SummaryErr) {
		return nil, st.SummaryErr
	}
	st.Torn, err = results.TornTail(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return st, nil
}

// SummaryNote is the one-line warning for a summary rebuilt from the
// records; "" when summary.json is whole.
func (st *RunState) SummaryNote() string {
	switch {
	case st.SummaryErr == nil:
		return ""
	case errors.Is(st.SummaryErr, fs.ErrNotExist):
		return fmt.Sprintf("%s has no %s (cut short?): summary rebuilt from %s", st.Dir, results.SummaryFile, results.RequestsFile)
	}
	return fmt.Sprintf("%s is damaged (%s): summary rebuilt from %s", filepath.Join(st.Dir, results.SummaryFile),
		strings.TrimPrefix(st.SummaryErr.Error(), filepath.Join(st.Dir, results.SummaryFile)+": "), filepath.Join(st.Dir, results.RequestsFile))
}

// RunNote is the one-line warning for a damaged run.json, naming it; ""
// when run.json decodes or is missing.
func (st *RunState) RunNote() string {
	if st.Run == nil || st.Run.InfoErr == nil {
		return ""
	}
	p := filepath.Join(st.Dir, results.RunFile)
	return fmt.Sprintf("%s is damaged (%s): read without the run's settings (SLOs, goodput, rate, status) from %s and %s", p,
		strings.TrimPrefix(st.Run.InfoErr.Error(), p+": "), results.SummaryFile, results.RequestsFile)
}

// Partial says how much of the run sum summarises when the run did not
// finish: interrupted by a signal, stopped by --abort-on-fail or an error,
// killed or crashed (run.json still says running, or has no end time), or
// holding fewer requests than planned. It returns "" for a finished run,
// and for records with no run.json (nothing says what was planned).
func (st *RunState) Partial(sum *Summary) string {
	if !st.Run.HasInfo {
		return ""
	}
	info := st.Run.Info
	var why string
	switch info.Status {
	case results.StatusCompleted:
	case results.StatusRunning:
		why = "did not finish (run.json still says running: the process was killed or crashed)"
	case results.StatusInterrupted:
		why = "was interrupted"
	case results.StatusAborted:
		why = "was stopped early by --abort-on-fail (an SLO was lost)"
	case results.StatusFailed:
		why = "was stopped early by an error"
	case "": // written before run.json had a status
		switch {
		case info.Interrupted:
			why = "was interrupted"
		case info.End.IsZero():
			why = "did not finish (run.json has no end time: the process was killed or crashed)"
		}
	default:
		why = fmt.Sprintf("ended with status %q", info.Status)
	}
	total, planned := sum.Requests.Total, int64(info.PlannedRequests)
	if why == "" && planned > 0 && total < planned {
		why = "holds fewer requests than planned"
	}
	if why == "" {
		return ""
	}
	return fmt.Sprintf("run %s %s %s", st.Dir, why, st.howMuch(sum))
}

// howMuch is how much of the run there is: requests of those planned, else
// seconds of the planned duration, else the requests alone.
func (st *RunState) howMuch(sum *Summary) string {
	total, planned := sum.Requests.Total, int64(st.Run.Info.PlannedRequests)
	if planned == 0 {
		if n, ok := st.Run.Profile["requests"].(float64); ok && n > 0 && st.Run.Profile["duration"] == nil {
			planned = int64(n)
		}
	}
	if planned > 0 {
		return fmt.Sprintf("after %d of %d planned requests (%s)", total, planned, shareDone(float64(total)/float64(planned)))
	}
	if d, ok := st.Run.Profile["duration"].(float64); ok && d > 0 && sum.DurationS > 0 {
		want := time.Duration(d)
		return fmt.Sprintf("after %d requests and %.1f s of the planned %s (%s)", total, sum.DurationS, want, shareDone(sum.DurationS/want.Seconds()))
	}
	return fmt.Sprintf("after %d requests", total)
}

// shareDone writes how much of a run there is as a whole percentage, but
// never rounds a started run down to 0% or an unfinished one up to 100%.
func shareDone(f float64) string {
	switch {
	case f > 0 && f < 0.01:
		return "under 1%"
	case f < 1 && f > 0.99:
		return "over 99%"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// EmptyRunError is a run that holds no measured request that succeeded:
// no requests at all, only warm-up ones, or every measured one failed.
// There is nothing to judge, and a verdict would pass a gate on nothing.
type EmptyRunError struct {
	// Run names the run: its directory, with its role ("candidate").
	Run string
	// Counts are its request counts.
	Counts Counts
}

// Error is one line naming the run and what it holds.
func (e *EmptyRunError) Error() string {
	c := e.Counts
	if c.Total == 0 {
		return fmt.Sprintf("%s has no requests: nothing to judge", e.Run)
	}
	var parts []string
	for _, p := range []struct {
		n    int64
		what string
	}{{c.Failed, "failed"}, {c.Canceled, "canceled"}, {c.Warmup, "warm-up"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	hint := ""
	if c.Failed == 0 && c.Canceled == 0 && c.Warmup > 0 {
		hint = "; lengthen the run or shorten --warmup (or --warmup-requests)"
	}
	return fmt.Sprintf("%s has no measured request that succeeded (of %d: %s): nothing to judge%s", e.Run, c.Total, strings.Join(parts, ", "), hint)
}

// RequireEvidence returns an *EmptyRunError when c has no measured request
// that succeeded; run names the run in the message.
func RequireEvidence(run string, c Counts) error {
	if c.OK > 0 {
		return nil
	}
	return &EmptyRunError{Run: run, Counts: c}
}
