// Package hotpath holds benchmarks of what streamgauge does per request on
// top of reading the stream: turning a response into a record (with the
// tokenizer counting every frame), writing it to requests.jsonl, and
// folding it into the run's histograms. They sit beside the frame-reading
// and decoding benchmarks of ./targets/...; `make bench` runs them all
// before the end-to-end load benchmark (./bench/loadbench).
package hotpath
