package analysistest_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis/analysistest"
)

// TestImportsNoReport: analysistest is shared by the tests of analysis and
// report, so it may import analysis and results (and the standard library)
// but nothing of report, nor any other module package.
func TestImportsNoReport(t *testing.T) {
	const module = "github.com/streamgauge/streamgauge/"
	allowed := map[string]bool{module + "analysis": true, module + "results": true}
	for name, paths := range analysistest.Imports(t) {
		for _, path := range paths {
			if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
				continue // the standard library
			}
			if !allowed[path] {
				t.Errorf("%s imports %s: analysistest may import only analysis and results", name, path)
			}
		}
	}
}
