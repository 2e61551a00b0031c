package analysis

import (
	"errors"
	"io/fs"

	"github.com/streamgauge/streamgauge/results"
)

// LoadSummary returns the summary of the run in dir, to judge SLOs on: its
// summary.json, or one rebuilt from requests.jsonl when summary.json is
// missing (a run cut short) or when g is given, which recomputes which
// requests are good (slo_ok) and so goodput. rebuilt says which happened.
// A rebuilt summary takes the generator's settings (requested rate, open
// loop, CPU) from summary.json when there is one, else from run.json, and
// counts latencies from the scheduled send when the run did.
func LoadSummary(dir string, g *GoodputSLO) (sum *Summary, rebuilt bool, err error) {
	var stored Summary
	err = results.ReadJSON(dir, results.SummaryFile, &stored)
	haveStored := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if haveStored && g == nil {
		return &stored, false, nil
	}
	var info struct {
		Profile map[string]any `json:"profile"`
	}
	if err := results.ReadJSON(dir, results.RunFile, &info); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	var meta RunMeta
	fromScheduled := info.Profile["latency-from"] == "scheduled"
	if haveStored {
		meta = RunMeta{RequestedRate: stored.Generator.RequestedRate, OpenLoop: stored.Generator.OpenLoop,
			CPUSeconds: stored.Generator.CPUSeconds, CPUIncludesServer: stored.Generator.CPUIncludesServer}
		fromScheduled = stored.LatencyFrom == "scheduled"
	} else {
		rate, shards := profileRate(info.Profile)
		trace, _ := info.Profile["trace"].(string)
		meta = RunMeta{RequestedRate: rate, OpenLoop: rate > 0 || trace != "", Shards: shards}
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
