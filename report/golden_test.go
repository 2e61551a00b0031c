package report_test

import "flag"

// update rewrites the golden files in testdata: go test ./report/ -update.
// The fixture, the generators and the golden comparison itself are in
// analysis/analysistest, shared with analysis's tests.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")
