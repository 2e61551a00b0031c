package analysis_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis/analysistest"
)

// TestAnalysisRendersNothing keeps the split between computing and
// rendering: no non-test file of analysis imports a table, plot or HTML
// library (those belong to the report package, which imports analysis, so
// analysis importing report would not even compile).
func TestAnalysisRendersNothing(t *testing.T) {
	forbidden := []string{"github.com/olekukonko/tablewriter", "gonum.org/v1/plot", "html/template", "github.com/streamgauge/streamgauge/report"}
	for name, paths := range analysistest.Imports(t) {
		for _, path := range paths {
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: rendering belongs in the report package", name, path)
				}
			}
		}
	}
}
