// Package analysistest holds generators of synthetic records, summaries
// and sweeps, and the small fixture helpers, shared by the tests of
// package analysis and package report, so that the renderers are tested
// on exactly the data the computations are.
//
// It may import analysis and results, never report. Nothing outside tests
// should import it.
package analysistest
