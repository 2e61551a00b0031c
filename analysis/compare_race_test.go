//go:build race

package analysis_test

// raceDetector is true under -race. The race detector instruments every
// memory access of the resampling loops and makes them about 15 times
// slower, so TestCompareHonesty (a statistical test, not a concurrency
// test) would take minutes; it runs without -race. The resampling's
// concurrency is exercised under -race by TestCompareReproducible and the
// other compare tests.
const raceDetector = true
