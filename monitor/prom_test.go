package monitor_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/streamgauge/streamgauge/monitor"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

type okDoer struct{}

func (okDoer) Do(context.Context, *targets.Request) *targets.Response { return &targets.Response{} }

func TestExporterServesLiveMetrics(t *testing.T) {
	m := monitor.New()
	exp, err := m.Serve("127.0.0.1:0") // before the run, as the harness does
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	doer := m.Doer(okDoer{})
	for range 4 {
		doer.Do(context.Background(), &targets.Request{})
	}
	r := okRecord(250, 20) // ttft 250 ms, e2e 350 ms, tpot 5 ms, itl 4, 6 (1 token), 3+3 (2 tokens)
	r.InputTokens = 100
	m.Append(r)
	m.Append(okRecord(40, 20))
	m.Append(&results.Record{Error: &results.Error{Kind: results.KindHTTP429}})
	w := okRecord(9000, 7)
	w.Warmup = true
	m.Append(w)

	resp, err := http.Get(exp.URL())
	if err != nil {
		t.Fatal(err)
	}
	fams, err := monitor.ParseText(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name string, labels ...string) float64 {
		t.Helper()
		fam := fams[name]
		if fam == nil {
			t.Fatalf("no %s in the exposition", name)
		}
	next:
		for _, mt := range fam.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(mt, labels[i], labels[i+1]) {
					continue next
				}
			}
			switch {
			case mt.Counter != nil:
				return mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				return mt.GetGauge().GetValue()
			case mt.Histogram != nil:
				return float64(mt.GetHistogram().GetSampleCount())
			}
		}
		t.Fatalf("no %s%v", name, labels)
		return 0
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"streamgauge_requests_sent_total", nil, 4},
		{"streamgauge_requests_in_flight", nil, 0},
		{"streamgauge_requests_ok_total", nil, 3},
		{"streamgauge_requests_failed_total", []string{"kind", "http_429"}, 1},
		{"streamgauge_requests_failed_total", []string{"kind", "timeout"}, 0},
		{"streamgauge_output_tokens_total", nil, 47},
		{"streamgauge_input_tokens_total", nil, 100},
		{"streamgauge_ttft_seconds", nil, 2}, // sample counts: warm-up left out
		{"streamgauge_e2e_seconds", nil, 2},
		{"streamgauge_tpot_seconds", nil, 2},
		{"streamgauge_itl_seconds", nil, 6},
	} {
		if got := value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %g, want %g", c.name, c.labels, got, c.want)
		}
	}
	h := fams["streamgauge_ttft_seconds"].GetMetric()[0].GetHistogram()
	if got := h.GetSampleSum(); got < 0.289 || got > 0.291 {
		t.Errorf("ttft sum = %g s, want 0.29", got)
	}
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == 0.05 && b.GetCumulativeCount() != 1 {
			t.Errorf("ttft bucket le=0.05 = %d, want 1", b.GetCumulativeCount())
		}
	}

	// The registry is the monitor's own and lints clean.
	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if err := exp.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := http.Get(exp.URL()); err == nil {
		t.Errorf("still serving after Close")
	}
	if err := exp.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestServeBadAddress(t *testing.T) {
	m := monitor.New()
	_, err := m.Serve("9464")
	if err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("Serve(9464) = %v, want a host:port error", err)
	}
}
