//go:build race

package report_test

// raceDetector is true under -race, which makes the sequential plot
// rendering about 30 times slower: the slow rendering tests skip in make
// test's race run and run in make check.
const raceDetector = true
