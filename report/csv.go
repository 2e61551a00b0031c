package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/results"
)

// CSVColumns are the columns of the per-request CSV export, in order. Times
// named *_ms are milliseconds: offsets from the run's start for
// scheduled/sent/first_token/done, durations for the rest. A value that does
// not apply (no first token, tpot with one output token, no error) is empty.
// lag_ms + connect_ms is sent_ms − scheduled_ms (to the microsecond).
// The set and order are stable: append new columns at the end.
var CSVColumns = []string{
	"id", "session", "turn",
	"scheduled_ms", "sent_ms", "first_token_ms", "done_ms",
	"lag_ms", "ttfb_ms", "ttft_ms", "ttfo_ms", "tpot_ms", "e2e_ms",
	"icl_mean_ms", "icl_max_ms",
	"input_tokens", "output_tokens", "output_tokens_source",
	"usage_output_tokens", "tokenizer_output_tokens", "reasoning_tokens", "frames",
	"http_status", "warmup", "slo_ok", "error_kind", "error_message",
	"connect_ms",
}

// CSVWriter writes records as CSV rows, one per record, as they come: it
// keeps no record, so it can sit beside a results reader (or a run) as a
// sink. The header is written before the first row, or by Flush when there
// was no row.
type CSVWriter struct {
	bw     *bufio.Writer
	cw     *csv.Writer
	row    []string
	header bool
}

// NewCSVWriter returns a CSVWriter writing to w. Call Flush at the end.
func NewCSVWriter(w io.Writer) *CSVWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	return &CSVWriter{bw: bw, cw: csv.NewWriter(bw), row: make([]string, len(CSVColumns))}
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	if err := c.cw.Write(CSVColumns); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Append writes one record's row.
func (c *CSVWriter) Append(r *results.Record) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	row := c.row[:0]
	row = append(row, r.ID, nonZeroText(r.Session), nonZeroText(r.Turn),
		offsetMSText(r.ScheduledNS), offsetMSText(r.SentNS), firstTokenMSText(r), offsetMSText(r.DoneNS),
		msText(r.LagMS), optMSText(r.TTFBMS), optMSText(r.TTFTMS), optMSText(r.TTFOMS), optMSText(r.TPOTMS), msText(r.E2EMS))
	if len(r.ICLMS) > 0 {
		var sum, mx float64
		for _, g := range r.ICLMS {
			sum += g
			mx = max(mx, g)
		}
		row = append(row, msText(sum/float64(len(r.ICLMS))), msText(mx))
	} else {
		row = append(row, "", "")
	}
	row = append(row, strconv.Itoa(r.InputTokens), strconv.Itoa(r.OutputTokens), r.OutputTokensSource,
		optIntText(r.UsageOutputTokens), optIntText(r.TokenizerOutputTokens), strconv.Itoa(r.ReasoningTokens), strconv.Itoa(r.Frames),
		strconv.Itoa(r.HTTPStatus), strconv.FormatBool(r.Warmup), strconv.FormatBool(r.SLOOK))
	if r.Error != nil {
		// Messages are masked when written; Scrub also covers runs from
		// older versions.
		row = append(row, string(r.Error.Kind), secret.Scrub(r.Error.Message))
	} else {
		row = append(row, "", "")
	}
	row = append(row, msText(r.ConnectMS))
	if err := c.cw.Write(row); err != nil {
		return fmt.Errorf("write csv: record %s: %w", r.ID, err)
	}
	return nil
}

// Flush writes any buffered rows (and the header, if no row came) to the
// underlying writer.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	if err := c.bw.Flush(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// WriteCSV writes every record of the run directory dir as CSV, streaming.
func WriteCSV(w io.Writer, dir string) error {
	c := NewCSVWriter(w)
	if err := results.ReadRecords(dir, c.Append); err != nil {
		return err
	}
	return c.Flush()
}

// msText formats milliseconds to the microsecond.
func msText(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func offsetMSText(ns int64) string { return msText(float64(ns) / 1e6) }

func optMSText(v *float64) string {
	if v == nil {
		return ""
	}
	return msText(*v)
}

func optIntText(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func nonZeroText(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

// recordHasToken reports whether a record saw a token-bearing frame.
func recordHasToken(r *results.Record) bool { return r.TTFTMS != nil || r.FirstTokenNS > 0 }

func firstTokenMSText(r *results.Record) string {
	if !recordHasToken(r) {
		return ""
	}
	return offsetMSText(r.FirstTokenNS)
}
