package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot/vg"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// reportFormats are the --format values of report.
var reportFormats = []string{"table", "markdown", "json", "csv", "html", "hdrlog", "png"}

type reportFlags struct {
	format, out, metric, plot, unit string
	// as names another tool whose metric definitions to apply (--as).
	as       string
	interval time.Duration
}

func newReportCmd(e *env) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "report RUN_DIR",
		Short: "Render a run directory: table, markdown, JSON, CSV, HTML with plots, HdrHistogram log or PNG",
		Long: `report renders a stored run. It reads the run directory's summary.json (or
rebuilds it from requests.jsonl when the run was cut short or summary.json is
damaged, with a warning) and run.json. A torn last line of requests.jsonl (a
write cut short) is skipped with a warning naming it.

Formats:
  table     the results table, as run prints it
  markdown  for a CI page or a pull-request comment
  json      summary.json
  csv       one row per request, for spreadsheets (streamed, any size)
  html      one self-contained page with plots (no network needed): latency
            CDFs, percentiles, throughput, in-flight requests and errors over
            time, the server's metrics when scraped, lengths, SLOs, settings
  hdrlog    HdrHistogram interval logs (values in ns, as HistogramLogAnalyzer
            expects): one file tagged by metric, or one file per metric
            when -o is a directory
  png       one plot (--plot, --metric) to paste into an issue

With -o the file's extension names the format (.txt table, .md markdown,
.json, .csv, .html, .hlog hdrlog, .png); --format may repeat it but not
contradict it, and another extension needs --format. A PNG is never
written to a terminal.

With --as TOOL (vllm, sglang, aiperf, genai-perf, guidellm, llmperf) report
recomputes the headline metrics from requests.jsonl as that tool defines
them, beside streamgauge's own, with one line per difference saying why
(--format table or json). docs/metrics.md, "Other tools' definitions",
cites each tool's source.

docs/reports.md explains every plot.`,
		Example: `  streamgauge report results/20260101T120000Z-demo
  streamgauge report RUN_DIR -o report.html                       # the format follows the extension
  streamgauge report RUN_DIR --format csv -o requests.csv
  streamgauge report RUN_DIR --format hdrlog -o run.hlog
  streamgauge report RUN_DIR --format hdrlog -o hlogs/            # ttft.hlog, itl.hlog, ...
  streamgauge report RUN_DIR --format png --plot cdf --metric ttft -o ttft.png
  streamgauge report RUN_DIR --format png --plot percentiles --metric itl -o itl.png
  streamgauge report RUN_DIR --as vllm                            # ttft/itl/tpot as vLLM's bench serve computes them
  streamgauge report RUN_DIR --as aiperf --format json            # for a CI job that tracks AIPerf's numbers`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			if err := f.resolve(e, fl.Changed("format"), fl.Changed("plot"), fl.Changed("metric")); err != nil {
				return err
			}
			if fl.Changed("as") {
				if err := f.checkAs(); err != nil {
					return err
				}
				return reportAs(e, args[0], f)
			}
			return runReport(e, args[0], f)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.format, "format", "table", "output format: "+strings.Join(reportFormats, "|"))
	fs.StringVarP(&f.out, "output", "o", "", "write to this file instead of stdout; its extension names the format (hdrlog: a directory gets one file per metric)")
	fs.StringVar(&f.metric, "metric", "", "png: the metric of --plot cdf (default ttft, itl, tpot, e2e together) or percentiles (ttft|itl); hdrlog: log only this metric")
	fs.StringVar(&f.plot, "plot", "cdf", "png: which plot: "+strings.Join(report.PlotKinds, "|"))
	fs.DurationVar(&f.interval, "interval", 0, "hdrlog: interval length (default 1s); html and png: time bucket width (default about 1/60 of the run)")
	fs.StringVar(&f.as, "as", "", "recompute the headline metrics as another tool defines them: "+strings.Join(analysis.ToolNames, "|")+" (--format table or json)")
	fs.StringVar(&f.unit, "hdrlog-unit", string(report.HdrLogNanoseconds), "hdrlog: unit of the logged values, ns (what HDR tools assume) or us (the summary's own histograms)")
	return cmd
}

// outIsDir reports whether -o names a directory (hdrlog's one file per
// metric): it ends in a slash or is one.
func (f *reportFlags) outIsDir() bool {
	if strings.HasSuffix(f.out, "/") || strings.HasSuffix(f.out, string(os.PathSeparator)) {
		return true
	}
	st, err := os.Stat(f.out)
	return err == nil && st.IsDir()
}

// resolve settles the format: the -o file's extension names it (report.html
// is HTML), an explicit --format that says otherwise is refused, and so is
// an extension that names no format unless --format says what to write. A
// binary format (png) is never written to a terminal.
func (f *reportFlags) resolve(e *env, formatSet, plotSet, metricSet bool) error {
	out, isDir := f.out, f.outIsDir()
	if isDir {
		out = "" // a directory has no extension to read
	}
	format, err := formatFor(out, f.format, formatSet, reportFormats)
	if err != nil {
		return err
	}
	f.format = format
	if isDir && f.format != "hdrlog" {
		return usagef("-o %s: is a directory; give a file name (only --format hdrlog writes one file per metric into a directory)", f.out)
	}
	if plotSet && f.format != "png" {
		return usagef("--plot %s draws a PNG: give -o FILE.png (or --format png); --format %s has no --plot", f.plot, f.format)
	}
	if metricSet && f.format != "png" && f.format != "hdrlog" {
		return usagef("--metric %s applies to png and hdrlog; --format %s shows every metric", f.metric, f.format)
	}
	if f.format == "png" && f.out == "" {
		if _, tty := terminal(e.stdout); tty {
			return usagef("--format png writes a binary image: give -o FILE.png (or redirect stdout to a file)")
		}
	}
	if f.interval < 0 {
		return usagef("--interval %s: must be positive", f.interval)
	}
	kind := outFile
	if f.format == "hdrlog" && isDir {
		kind = outDir
	}
	return checkOutputs(outputPath{"-o", f.out, kind})
}

// asFormats are the formats --as can write.
var asFormats = []string{"table", "json"}

// checkAs refuses an unknown tool and a format --as cannot write.
func (f *reportFlags) checkAs() error {
	if !slices.Contains(analysis.ToolNames, f.as) {
		return usagef("--as %q: unknown tool; valid tools are %s", f.as, strings.Join(analysis.ToolNames, ", "))
	}
	if !slices.Contains(asFormats, f.format) {
		return usagef("--as %s writes a table or JSON: use --format table or --format json (or -o FILE.txt / FILE.json), not %s", f.as, f.format)
	}
	return nil
}

// reportAs writes the run's headline metrics under another tool's
// definitions beside ours (report --as).
func reportAs(e *env, dir string, f reportFlags) error {
	if err := checkRunDir(dir); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, results.RequestsFile)); err != nil {
		return runErrorf("RUN_DIR %s: --as needs %s (the per-request records): %v", dir, results.RequestsFile, errors.Unwrap(err))
	}
	if _, err := inspectRun(e, dir, false); err != nil {
		return err
	}
	rep, err := analysis.ToolReportFromDir(dir, f.as)
	if err != nil {
		return runError(err)
	}
	switch {
	case rep.Ours.Requests+rep.Ours.Dropped > 0:
	case rep.Warmup > 0:
		return runErrorf("RUN_DIR %s: no measured requests to compare (every record is warm-up)", dir)
	default:
		return runErrorf("RUN_DIR %s: no measured requests to compare (%s holds no record)", dir, results.RequestsFile)
	}
	if err := writeOutput(e, f.out, func(w io.Writer) error {
		if f.format == "json" {
			return report.WriteToolJSON(w, rep)
		}
		return report.WriteToolTable(w, rep)
	}); err != nil {
		return err
	}
	if rep.Ours.Requests == 0 {
		// The table says what failed; the exit says there is nothing to
		// compare, as run's own exit does for such a run.
		return runErrorf("RUN_DIR %s: every measured request failed (%d): no latency to compare", dir, rep.Ours.Dropped)
	}
	return nil
}

func runReport(e *env, dir string, f reportFlags) error {
	if err := checkRunDir(dir); err != nil {
		return err
	}
	// csv and hdrlog read the records alone; the other formats the summary.
	if _, err := inspectRun(e, dir, f.format != "csv" && f.format != "hdrlog"); err != nil {
		return err
	}
	switch f.format {
	case "table", "markdown", "json":
		return reportSummary(e, dir, f)
	case "csv":
		return writeOutput(e, f.out, func(w io.Writer) error { return report.WriteCSV(w, dir) })
	case "hdrlog":
		return reportHdrLog(e, dir, f)
	}
	rep, err := report.LoadReport(dir, report.ReportOptions{Interval: f.interval})
	if err != nil {
		return runError(err)
	}
	if f.format == "html" {
		return writeOutput(e, f.out, rep.WriteHTML)
	}
	p, err := rep.Plot(f.plot, f.metric)
	if err != nil {
		return usagef("--plot %s: %w", f.plot, err)
	}
	w, h := 8*vg.Inch, 4.5*vg.Inch
	if f.plot != "cdf" && f.plot != "lengths" {
		w, h = 10*vg.Inch, 3.6*vg.Inch
	}
	return writeOutput(e, f.out, func(out io.Writer) error { return report.RenderPNG(out, p, w, h) })
}

// checkRunDir makes a wrong RUN_DIR a usage error that says what is wrong:
// missing, not a directory, or holding neither results file. report, check
// and compare share it, so the same mistake exits with the same code.
func checkRunDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return usagef("RUN_DIR %s: %v", dir, errors.Unwrap(err))
	}
	if !st.IsDir() {
		return usagef("RUN_DIR %s: not a directory", dir)
	}
	for _, name := range []string{results.RequestsFile, results.SummaryFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return nil
		}
	}
	return usagef("RUN_DIR %s: not a run directory (no %s or %s)", dir, results.RequestsFile, results.SummaryFile)
}

func reportSummary(e *env, dir string, f reportFlags) error {
	s, rebuilt, err := analysis.LoadJudgedSummary(dir)
	if err != nil {
		return runError(err)
	}
	if c := analysis.ClampedWarning(s); c != "" && f.format == "table" {
		e.warnf("%s: %s", dir, c)
	}
	return writeOutput(e, f.out, func(w io.Writer) error {
		switch f.format {
		case "markdown":
			return report.WriteMarkdown(w, s, s.SLO)
		case "json":
			if !rebuilt { // summary.json as it is, byte for byte
				b, err := os.ReadFile(filepath.Join(dir, results.SummaryFile))
				if err != nil {
					return err
				}
				_, err = w.Write(b)
				return err
			}
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(s)
		}
		if err := report.WriteTable(w, s); err != nil {
			return err
		}
		if len(s.SLO) > 0 {
			return report.WriteSLOTable(w, s.SLO)
		}
		return nil
	})
}

func reportHdrLog(e *env, dir string, f reportFlags) error {
	rd, err := analysis.ReadRunDir(dir)
	if err != nil {
		return runError(err)
	}
	opt := report.HdrLogOptions{Interval: f.interval, Unit: report.HdrLogUnit(f.unit),
		Start: rd.Info.Start, LatencyFromScheduled: rd.LatencyFromScheduled()}
	if f.metric != "" {
		opt.Metrics = []string{f.metric}
	}
	perMetric := false
	if f.out != "" {
		if st, err := os.Stat(f.out); err == nil && st.IsDir() {
			perMetric = true
		} else if strings.HasSuffix(f.out, "/") || strings.HasSuffix(f.out, string(os.PathSeparator)) {
			if err := os.MkdirAll(f.out, 0o755); err != nil {
				return runErrorf("-o %s: %w", f.out, err)
			}
			perMetric = true
		}
	}
	if !perMetric {
		// Validate the options before creating the output file.
		var probe bytes.Buffer
		if _, err := report.NewHdrLog(&probe, opt); err != nil {
			return usageError(err)
		}
		return writeOutput(e, f.out, func(w io.Writer) error {
			l, err := report.NewHdrLog(w, opt)
			if err != nil {
				return err
			}
			return feedHdrLog(e, dir, l)
		})
	}
	metrics := opt.Metrics
	if len(metrics) == 0 {
		metrics = analysis.Metrics
	}
	// One file per metric, each streamed into a temporary file renamed
	// into place at the end, so a failure leaves no partial file.
	tmps := map[string]*os.File{}
	defer func() {
		for _, t := range tmps {
			t.Close()
			os.Remove(t.Name())
		}
	}()
	ws := map[string]io.Writer{}
	for _, m := range metrics {
		t, err := os.CreateTemp(f.out, "."+m+".hlog.*")
		if err != nil {
			return runErrorf("-o %s: %w", f.out, err)
		}
		tmps[m] = t
		ws[m] = t
	}
	l, err := report.NewHdrLogPerMetric(ws, opt)
	if err != nil {
		return usageError(err)
	}
	if err := feedHdrLog(e, dir, l); err != nil {
		return runError(err)
	}
	for _, m := range metrics {
		t := tmps[m]
		if err := t.Close(); err != nil {
			return runError(err)
		}
		final := filepath.Join(f.out, m+".hlog")
		if err := os.Rename(t.Name(), final); err != nil {
			return runError(err)
		}
		delete(tmps, m)
		fmt.Fprintf(e.stderr, "streamgauge: wrote %s\n", final)
	}
	return nil
}

func feedHdrLog(e *env, dir string, l *report.HdrLog) error {
	if err := results.ReadRecords(dir, l.Append); err != nil {
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	if n := l.Late(); n > 0 {
		fmt.Fprintf(e.stderr, "streamgauge: %s finished far out of order and %s logged in a later interval\n", plural.Count(n, "record"), plural.Noun(n, "was", "were"))
	}
	return nil
}

// writeOutput runs write against stdout, or against path through a
// temporary file that replaces path only when write succeeded, so a failed
// report never leaves half a file behind. The caller has checked path
// (checkOutputs) before doing any work.
func writeOutput(e *env, path string, write func(io.Writer) error) error {
	if path == "" {
		if err := write(e.stdout); err != nil {
			return runError(err)
		}
		return nil
	}
	if err := writeFileAtomic(path, write); err != nil {
		return runErrorf("-o %s: %w", path, err)
	}
	return nil
}
