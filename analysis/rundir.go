package analysis

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/results"
)

// ServerMetricsFile holds the server's own metrics scraped during a run
// (--scrape-metrics), one JSON object a line: {"t_ns": offset from the run's
// start, "name": "vllm:num_requests_running", "value": 3}.
const ServerMetricsFile = "server_metrics.jsonl"

// RunDir is a run directory's run.json, read loosely: the profile as a map
// (keys as in a profile file), so any run, old or new, can be reported.
type RunDir struct {
	Dir  string
	Info results.RunInfo
	// Profile is run.json's profile; nil when run.json is missing.
	Profile map[string]any
	// HasInfo is false when run.json is missing or unreadable.
	HasInfo bool
	// InfoErr is why run.json, which exists, could not be decoded (see
	// results.IsDamaged); nil when it decoded or is missing. The run is
	// then read without its settings, as a directory of records with no
	// run.json is.
	InfoErr error
}

// ReadRunDir reads dir's run.json. A missing run.json is not an error (a
// directory of records from elsewhere), nor is a damaged one (InfoErr says
// why, for a warning): the records and summary can still be read. Any
// other failure (permissions, a directory named run.json) is.
func ReadRunDir(dir string) (*RunDir, error) {
	rd := &RunDir{Dir: dir}
	var raw struct {
		results.RunInfo
		Profile map[string]any `json:"profile"`
	}
	err := results.ReadJSON(dir, results.RunFile, &raw)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return rd, nil
	case results.IsDamaged(err):
		rd.InfoErr = err
		return rd, nil
	case err != nil:
		return nil, err
	}
	profile := results.RedactProfile(raw.Profile)
	rd.Info = raw.RunInfo
	rd.Info.Target = secret.URL(raw.Target)
	rd.Info.Profile = profile
	rd.Profile = profile
	rd.HasInfo = true
	return rd, nil
}

// readRunProfile is dir's run.json profile, redacted as ReadRunDir's is
// (results.RedactProfile: runs from older versions wrote some header values
// and URL credentials in clear):
// nil when run.json is missing or damaged (the run is then read as one
// with no run.json; RunState.RunNote warns), an error on any other
// failure.
func readRunProfile(dir string) (map[string]any, error) {
	var info struct {
		Profile map[string]any `json:"profile"`
	}
	if err := results.ReadJSON(dir, results.RunFile, &info); results.IsDamaged(err) {
		return nil, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return results.RedactProfile(info.Profile), nil
}

// Name is the run's profile name, else the directory's base name.
func (rd *RunDir) Name() string {
	if n, ok := rd.Profile["name"].(string); ok && n != "" {
		return n
	}
	return filepath.Base(filepath.Clean(rd.Dir))
}

// LatencyFromScheduled reports whether the run measured latency from the
// scheduled send time (--latency-from scheduled).
func (rd *RunDir) LatencyFromScheduled() bool { return rd.Profile["latency-from"] == "scheduled" }

// Meta is what a rebuilt summary needs from run.json. The CPU time of a run
// cut short is unknown (0).
func (rd *RunDir) Meta() RunMeta {
	m := profileMeta(rd.Profile)
	m.CPUIncludesServer = rd.Info.Simulated
	return m
}

// profileMeta is what a rebuilt summary takes from a run.json profile:
// the requested rate (a shard's share), whether the load was open, the
// shard count.
func profileMeta(profile map[string]any) RunMeta {
	rate, shards := profileRate(profile)
	trace, _ := profile["trace"].(string)
	return RunMeta{RequestedRate: rate, OpenLoop: rate > 0 || trace != "", Shards: shards}
}

// profileRate is a run.json profile's rate as a rebuilt summary requests
// it: a shard's share of --rate (a shard "i/N" sends 1 in N arrivals), and
// the shard count.
func profileRate(profile map[string]any) (float64, int) {
	rate, _ := profile["rate"].(float64)
	shard, _ := profile["shard"].(string)
	_, n, ok := strings.Cut(shard, "/")
	shards, err := strconv.Atoi(n)
	if !ok || err != nil || shards < 1 {
		return rate, 0
	}
	return rate / float64(shards), shards
}

// SLOs parses the profile's SLO expressions; ones that do not parse (a run
// from another version) are skipped and returned as errors.
func (rd *RunDir) SLOs() ([]SLO, error) {
	list, _ := rd.Profile["slo"].([]any)
	var slos []SLO
	var errs []error
	for _, v := range list {
		expr, _ := v.(string)
		s, err := ParseSLO(expr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		slos = append(slos, s)
	}
	return slos, errors.Join(errs...)
}

// LoadJudgedSummary returns dir's summary.json, or, when it is missing (a
// run cut short) or damaged, a summary rebuilt from requests.jsonl (with the run's
// latency origin and requested rate from run.json); rebuilt says which.
// The run's SLOs (run.json's profile) are judged when the summary carries
// no verdict of its own.
func LoadJudgedSummary(dir string) (s *Summary, rebuilt bool, err error) {
	rd, err := ReadRunDir(dir)
	if err != nil {
		return nil, false, err
	}
	if s, err = rd.StoredSummary(); err != nil {
		return nil, false, err
	}
	if s != nil {
		rd.Judge(s)
		return s, false, nil
	}
	acc := rd.NewAccumulator()
	if err := results.ReadRecords(dir, acc.Append); err != nil {
		return nil, false, err
	}
	s, err = rd.Summarize(acc)
	return s, true, err
}

// StoredSummary is the run's summary.json, or nil (and no error) when it is
// missing or damaged and the summary must be rebuilt from the records.
func (rd *RunDir) StoredSummary() (*Summary, error) { return readStoredSummary(rd.Dir) }

// NewAccumulator is Summarize's accumulator with the run's latency origin,
// for a caller that rebuilds the summary while reading the records for
// something else.
func (rd *RunDir) NewAccumulator() *Accumulator {
	return NewAccumulator(WithLatencyFromScheduled(rd.LatencyFromScheduled()))
}

// Summarize is acc's summary with the run's meta (requested rate, shards),
// its SLOs judged as Judge does.
func (rd *RunDir) Summarize(acc *Accumulator) (*Summary, error) {
	s, err := acc.Summary(rd.Meta())
	if err != nil {
		return nil, err
	}
	rd.Judge(s)
	return s, nil
}

// Judge evaluates the run's SLOs (run.json's profile) against s when s
// carries no verdict of its own: a rebuilt summary, or one written by a
// run that did not judge it.
func (rd *RunDir) Judge(s *Summary) {
	if len(s.SLO) > 0 {
		return
	}
	if slos, _ := rd.SLOs(); len(slos) > 0 { // validated when the run started
		ApplySLOs(s, slos)
	}
}
