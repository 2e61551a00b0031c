package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/analysis"
)

// doctorRows is the probes as text, in the order they ran: a header whose
// cells name their unit in parentheses, then one row per probe.
func doctorRows(d *analysis.Doctor) [][]string {
	level := "rate (req/s)"
	if !d.OpenLoop() {
		level = "users"
	}
	rows := [][]string{{"probe", level, "sent (req/s)", "ttft err p50/p99 (ms)", "|gap err| p50/p99 (ms)", "lag p50/p99 (ms)",
		"client (CPU %)", "client (µs/req)", "client (µs/frame)", "server (CPU %)", "verdict"}}
	for _, p := range d.Probes {
		v := "pass"
		if !p.Pass {
			v = "FAIL"
		}
		rows = append(rows, []string{
			strconv.Itoa(p.Index), analysis.FormatLevel(p.Level), reqRate(p.AchievedRate),
			fms(p.TTFTErrP50) + "/" + fms(p.TTFTErrP99), fms(p.GapAbsErrP50) + "/" + fms(p.GapAbsErrP99),
			fms(p.LagP50) + "/" + fms(p.LagP99),
			fixed(100*p.ClientCores(), 0), fixed(p.ClientCPUPerReqUS, 0), fixed(p.ClientCPUPerFrameUS, 1),
			cpuPct(p.ServerCPUS, p.ServerCores()), v,
		})
	}
	return rows
}

// cpuPct is a CPU share in percent, or NoValue when it was not measured.
func cpuPct(seconds, cores float64) string {
	if seconds <= 0 {
		return analysis.NoValue
	}
	return fixed(100*cores, 0)
}

// fewRequests is the size under which a probe's p99 is nearly its
// maximum, one late request.
const fewRequests = 200

// WriteDoctorTable renders doctor's result for a terminal: the probes in
// the order they ran (name and unit on two header lines, CPU % of one
// core), why each failed probe failed, the verdict line, what to do about
// it, and what the simulator's own CPU cost and how that is accounted for.
func WriteDoctorTable(w io.Writer, d *analysis.Doctor) error {
	var b strings.Builder
	fmt.Fprintf(&b, "doctor %s: %s\n", d.Name, d.Workload)
	fmt.Fprintf(&b, "simulator: fixed ttft %s ms, itl %s ms, its own process; probes of %gs after %gs to settle; limits: ttft error p50 < %s ms",
		fnum(d.SimTTFTMS), fnum(d.SimITLMS), d.ProbeS, d.SettleS, fms(d.Limits.MaxTTFTErrorMS))
	if d.OpenLoop() {
		fmt.Fprintf(&b, ", lag p99 < %s ms", fms(d.Limits.MaxLagMS))
	}
	b.WriteString("\n\n")
	rows := doctorRows(d)
	if len(rows) > 1 {
		writeColumns(&b, rows)
		for _, p := range d.Probes {
			if !p.Pass {
				fmt.Fprintf(&b, "probe %d (%s %s) failed: %s", p.Index, analysis.FormatLevel(p.Level), d.Unit(), p.Why)
				if n := p.OK + p.Failed; n > 0 && n < fewRequests {
					fmt.Fprintf(&b, " (only %d requests: a p99 of so few is nearly their maximum; a longer --probe-duration steadies it)", n)
				}
				b.WriteString("\n")
			}
		}
		b.WriteString("\n")
	}
	for _, l := range DoctorLines(d) {
		b.WriteString(l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DoctorLines are the conclusions under the table: the verdict line, the
// advice, the client's cost and the simulator's at the ceiling, and how
// the search ended.
func DoctorLines(d *analysis.Doctor) []string {
	lines := []string{d.Verdict}
	if d.Advice != "" {
		lines = append(lines, d.Advice)
	}
	var best *analysis.DoctorProbe
	for i := range d.Probes {
		if d.Probes[i].Index == d.CeilingProbe && d.Ceiling > 0 {
			best = &d.Probes[i]
		}
	}
	if best != nil {
		lines = append(lines, fmt.Sprintf("client at %s %s: %s µs CPU per request, %s µs per frame, %s%% of one core (this process)",
			analysis.FormatLevel(best.Level), d.Unit(), fixed(best.ClientCPUPerReqUS, 0), fixed(best.ClientCPUPerFrameUS, 1), fixed(100*best.ClientCores(), 0)))
		if best.ServerCPUS > 0 {
			s := fmt.Sprintf("simulated server at %s %s: %s%% of one core, in its own process on this machine's %d cores, measured apart from the client",
				analysis.FormatLevel(best.Level), d.Unit(), fixed(100*best.ServerCores(), 0), d.CPUs)
			if d.AloneEstimate > 0 {
				s += fmt.Sprintf("; with the real server elsewhere the client gets that share back: an estimated %s %s (the ceiling x %d/(%d - %s cores), assuming the client's work is CPU-bound and scales with cores; an estimate, not a measurement)",
					analysis.FormatLevel(d.AloneEstimate), d.Unit(), d.CPUs, d.CPUs, fixed(d.ServerCores, 2))
			}
			lines = append(lines, s)
		} else {
			lines = append(lines, "simulated server CPU: not measured on this system (no /proc); it runs on this machine too, so the ceiling is lower than with the server elsewhere")
		}
	}
	if d.Busy() {
		lines = append(lines, fmt.Sprintf("the machine was busy: load average %s before the probes (%s after, which counts the probes' own; a 1-minute average also counts what ran just before), on %d cores; other processes competed with the client, so this ceiling is lower than on an idle machine: re-run when it is idle, or give streamgauge priority (nice -n -5)",
			fixed(d.LoadStart, 2), fixed(d.LoadEnd, 2), d.CPUs))
	}
	if d.Outcome != "" {
		lines = append(lines, "search: "+d.Outcome)
	}
	return lines
}

// WriteDoctorJSON writes doctor's result as JSON (doctor.json's content).
func WriteDoctorJSON(w io.Writer, d *analysis.Doctor) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// writeColumns writes rows as aligned columns: names on one header line
// and the units in their parentheses under them, numbers aligned right
// and the last column (a verdict) left. Sweep and doctor tables use it.
func writeColumns(b *strings.Builder, rows [][]string) {
	last := len(rows[0]) - 1
	head := [2][]string{make([]string, len(rows[0])), make([]string, len(rows[0]))}
	for i, h := range rows[0] {
		name, unit, ok := strings.Cut(h, " (")
		head[0][i] = name
		if ok {
			head[1][i] = strings.TrimSuffix(unit, ")")
		}
	}
	lines := append([][]string{head[0], head[1]}, rows[1:]...)
	writeAligned(b, lines, func(col int) bool { return col != last })
}

// writeAligned writes lines as columns two spaces apart, each cell padded
// to its column's width: on the right when right(col) (numbers), else on
// the left; trailing blanks are trimmed.
func writeAligned(b *strings.Builder, lines [][]string, right func(col int) bool) {
	width := make([]int, len(lines[0]))
	for _, r := range lines {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range lines {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if right(i) {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
