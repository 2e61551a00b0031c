package analysis

import (
	"fmt"
	"strings"

	"github.com/streamgauge/streamgauge/internal/plural"
)

// ClampedWarning is the one-line caveat for a summary with values beyond
// the histograms' range (0 to 1 h), which were recorded at its edge: the
// metrics' max and top percentiles are then lower bounds. It returns ""
// when no value was clamped. run, report and check print the same line.
func ClampedWarning(sum *Summary) string {
	if sum == nil || sum.Clamped <= 0 {
		return ""
	}
	var parts []string
	for _, m := range Metrics {
		if n := sum.Metrics[m].Clamped; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", m, n))
		}
	}
	return fmt.Sprintf("%s outside the histograms' range (0 to 1 h) recorded at its edge (%s): max and the top percentiles of those metrics are lower bounds", plural.Count(sum.Clamped, "value"), strings.Join(parts, ", "))
}
