// Package analysis computes the numbers of a run and judges them: HDR
// histograms per metric and the accumulator that fills them, the run
// summary (rebuilt from requests.jsonl when summary.json is missing), SLO
// expressions and goodput, failure grouping, run comparison with bootstrap
// statistics, sweep curves and capacity, and the messages that explain a
// verdict (SLO notes, saturation warnings), with the number formatting
// they share with every output; the fit of the simulator's cost model to
// runs and step timings (calibrate); other tools' metric definitions
// applied to a run's records (report --as: vLLM, SGLang, AIPerf, GenAI-Perf,
// GuideLLM, LLMPerf); and doctor's judgement of the client itself: the
// comparison of what the client timed with the simulator's truth log, the
// probes' limits, the level search (doubling, then bisecting) shared with
// sweep --auto, and the ceiling and verdict.
//
// It reads records through the results package, does no network I/O, and
// renders nothing: tables, markdown, JUnit, CSV, HTML pages, plots and
// HdrHistogram logs are the report package's, which takes the values made
// here. analysis imports no renderer.
package analysis
