package report_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

func TestWriteTable(t *testing.T) {
	tests := []struct {
		name   string
		meta   analysis.RunMeta
		golden string
		empty  bool
	}{
		{"open loop", analysistest.OpenMeta(), "table_open.golden.txt", false},
		{"closed loop with in-process simulator", analysis.RunMeta{CPUSeconds: 3.5, CPUIncludesServer: true}, "table_closed.golden.txt", false},
		{"no requests", analysis.RunMeta{RequestedRate: 4, OpenLoop: true}, "table_empty.golden.txt", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.NewAccumulator()
			if !tc.empty {
				a = analysistest.Accumulate(t, analysistest.LoadFixture(t))
			}
			s, err := a.Summary(tc.meta)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := report.WriteTable(&buf, s); err != nil {
				t.Fatal(err)
			}
			analysistest.Golden(t, *update, tc.golden, buf.Bytes())
		})
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteTableError(t *testing.T) {
	s, err := analysistest.Accumulate(t, analysistest.LoadFixture(t)).Summary(analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteTable(failWriter{}, s); err == nil {
		t.Error("WriteTable to a failing writer: no error")
	}
}
