package analysistest

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Imports lists, for each non-test Go file of the working directory (the
// package under test), the paths it imports; layering tests check them.
func Imports(tb testing.TB) map[string][]string {
	tb.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		tb.Fatal(err)
	}
	fset := token.NewFileSet()
	imports := map[string][]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			tb.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				tb.Fatalf("%s: import %s: %v", name, imp.Path.Value, err)
			}
			imports[name] = append(imports[name], path)
		}
	}
	return imports
}
