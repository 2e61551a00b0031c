package analysistest_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImportsNoReport: analysistest is shared by the tests of analysis and
// report, so it may import analysis and results (and the standard library)
// but nothing of report, nor any other module package.
func TestImportsNoReport(t *testing.T) {
	const module = "github.com/streamgauge/streamgauge/"
	allowed := map[string]bool{module + "analysis": true, module + "results": true}
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
			if first, _, _ := strings.Cut(path, "/"); !strings.Contains(first, ".") {
				continue // the standard library
			}
			if !allowed[path] {
				t.Errorf("%s imports %s: analysistest may import only analysis and results", name, path)
			}
		}
	}
}
