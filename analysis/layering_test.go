package analysis_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAnalysisRendersNothing keeps the split between computing and
// rendering: no non-test file of analysis imports a table, plot or HTML
// library (those belong to the report package, which imports analysis, so
// analysis importing report would not even compile).
func TestAnalysisRendersNothing(t *testing.T) {
	forbidden := []string{"github.com/olekukonko/tablewriter", "gonum.org/v1/plot", "html/template", "github.com/streamgauge/streamgauge/report"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if path == bad || strings.HasPrefix(path, bad+"/") {
					t.Errorf("%s imports %s: rendering belongs in the report package", name, path)
				}
			}
		}
	}
}
