package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
)

func doctorFixture() *analysis.Doctor {
	probe := func(i int, level, ttft, lag float64) analysis.DoctorProbe {
		return analysis.DoctorProbe{Index: i, Level: level, AchievedRate: level * 1.01, OK: int64(level * 8), Frames: int(level * 8 * 128),
			TTFTErrP50: ttft, TTFTErrP99: 4 * ttft, GapAbsErrP50: 0.1, GapAbsErrP99: 1.2, LagP50: lag / 3, LagP99: lag,
			ClientCPUS: level / 60, ClientCPUPerReqUS: 2600, ClientCPUPerFrameUS: 20.3, ServerCPUS: level / 80, WallS: 9.4,
			Truth: &analysis.TruthErrors{Requests: int(level * 8)}}
	}
	d := &analysis.Doctor{Tool: "streamgauge", Version: "test", Name: "custom", Workload: "openai-chat, input 128 tokens, output 128 tokens, poisson arrivals",
		Mode: "rate", Planned: 400, SimTTFTMS: 50, SimITLMS: 10, ProbeS: 8, BudgetS: 180, CPUs: 2,
		Limits: analysis.DoctorLimits{MaxTTFTErrorMS: 1, MaxLagMS: 5}, LoadStart: 0.4, LoadEnd: 1.9,
		Probes:  []analysis.DoctorProbe{probe(1, 200, 0.3, 2.8), probe(2, 400, 0.6, 11), probe(3, 283, 0.4, 4.1), probe(4, 336, 0.5, 7.2), probe(5, 308, 0.45, 5.3)},
		Outcome: "bracketed within 8.8%: 283 passed, 308 failed"}
	for i := range d.Probes {
		d.Probes[i].Judge(d.Limits, true)
	}
	d.Conclude()
	return d
}

// TestDoctorRender compares the table and the JSON with golden files
// (go test ./report -run TestDoctorRender -update rewrites them).
func TestDoctorRender(t *testing.T) {
	d := doctorFixture()
	var tb, jb bytes.Buffer
	if err := report.WriteDoctorTable(&tb, d); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteDoctorJSON(&jb, d); err != nil {
		t.Fatal(err)
	}
	var back analysis.Doctor
	if err := json.Unmarshal(jb.Bytes(), &back); err != nil || back.Ceiling != 283 || len(back.Probes) != 5 {
		t.Errorf("JSON does not read back: %v, %+v", err, back)
	}
	for name, got := range map[string][]byte{"doctor.golden.txt": tb.Bytes(), "doctor.golden.json": jb.Bytes()} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (go test ./report -run TestDoctorRender -update):\n%s", name, got)
		}
	}
	// A busy machine gets a line saying so, and a failed probe of few
	// requests a hint.
	d.LoadStart = 6
	d.Probes[1].OK = 50
	tb.Reset()
	report.WriteDoctorTable(&tb, d)
	if !bytes.Contains(tb.Bytes(), []byte("the machine was busy: load average 6.00 before the probes")) {
		t.Errorf("busy machine not said:\n%s", tb.String())
	}
	if !bytes.Contains(tb.Bytes(), []byte("probe 2 (400 req/s) failed: lag p99 11.00 ms >= 5.00 ms (only 50 requests: a p99 of so few")) {
		t.Errorf("few requests not said:\n%s", tb.String())
	}
}
