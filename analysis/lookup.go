package analysis

// Stat is the statistic named stat of st, as SLO expressions name them:
// "min", "mean", "p50", "p90", "p95", "p99", "p99.9"; any other name is
// the maximum.
func (st Stats) Stat(stat string) float64 { return statValue(st, stat) }

// SortedStages returns the stages in level order (the order they ran is
// the search's, not the curve's); stages at one level keep their run order.
func SortedStages(stages []SweepStage) []SweepStage { return sortedStages(stages) }
