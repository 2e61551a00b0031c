package loadgen

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Trace formats ReadTrace knows.
const (
	TraceAuto     = "auto"
	TraceAzure    = "azure"    // TIMESTAMP,ContextTokens,GeneratedTokens (Azure LLM inference 2023)
	TraceMooncake = "mooncake" // JSON lines: timestamp (ms), input_length, output_length, hash_ids
	TraceBurstGPT = "burstgpt" // Timestamp (s),Model,Request tokens,Response tokens,...
	TraceCSV      = "csv"      // offset_ms,input_tokens,output_tokens
)

// TraceEntry is one request of a trace.
type TraceEntry struct {
	// At is the arrival offset from the trace's first request.
	At     time.Duration
	Input  int
	Output int
	// Blocks are prefix-block ids (Mooncake hash_ids): requests that share
	// leading blocks share those prompt tokens.
	Blocks []uint64
}

// Trace is a recorded sequence of requests, sorted by arrival.
type Trace struct {
	Entries []TraceEntry
	// BlockTokens is the size of one prefix block (512 for Mooncake).
	BlockTokens int
	// Format is the format the trace was read in (one of the Trace*
	// constants; "" for a trace built in code).
	Format string
}

// maxTraceSeconds bounds trace offsets: a year, far beyond any replay.
const maxTraceSeconds = 365 * 24 * 3600

// MooncakeBlockTokens is the size of a Mooncake hash block.
const MooncakeBlockTokens = 512

// ReadTrace reads a trace in format (TraceAuto detects it from the first
// line). name is used in errors, which give the line and what was expected.
func ReadTrace(r io.Reader, name, format string) (*Trace, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	if format == "" || format == TraceAuto {
		head, _ := br.Peek(512)
		format = detectTrace(head)
		if format == "" {
			return nil, fmt.Errorf("trace %s: unknown format; want Azure CSV (TIMESTAMP,ContextTokens,GeneratedTokens), Mooncake JSONL, BurstGPT CSV or offset_ms,input_tokens,output_tokens", name)
		}
	}
	var t *Trace
	var err error
	switch format {
	case TraceMooncake:
		t, err = readMooncake(br, name)
	case TraceAzure, TraceBurstGPT, TraceCSV:
		t, err = readTraceCSV(br, name, format)
	default:
		return nil, fmt.Errorf("trace %s: format %q: want auto, azure, mooncake, burstgpt or csv", name, format)
	}
	if err != nil {
		return nil, err
	}
	if len(t.Entries) == 0 {
		return nil, fmt.Errorf("trace %s: no requests", name)
	}
	t.Format = format
	sort.SliceStable(t.Entries, func(i, j int) bool { return t.Entries[i].At < t.Entries[j].At })
	first := t.Entries[0].At
	for i := range t.Entries {
		t.Entries[i].At -= first
	}
	return t, nil
}

func detectTrace(head []byte) string {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	line = bytes.TrimSpace(bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")))
	switch {
	case bytes.HasPrefix(line, []byte("{")):
		return TraceMooncake
	case bytes.HasPrefix(line, []byte("TIMESTAMP,")):
		return TraceAzure
	case bytes.HasPrefix(line, []byte("Timestamp,")):
		return TraceBurstGPT
	case bytes.HasPrefix(line, []byte("offset_ms")), len(line) > 0 && line[0] >= '0' && line[0] <= '9':
		return TraceCSV
	}
	return ""
}

func readMooncake(r io.Reader, name string) (*Trace, error) {
	t := &Trace{BlockTokens: MooncakeBlockTokens}
	dec := json.NewDecoder(r)
	line := 0
	for {
		var row struct {
			Timestamp    *float64 `json:"timestamp"`
			InputLength  *int     `json:"input_length"`
			OutputLength *int     `json:"output_length"`
			HashIDs      []uint64 `json:"hash_ids"`
		}
		line++
		if err := dec.Decode(&row); err != nil {
			if errors.Is(err, io.EOF) {
				return t, nil
			}
			return nil, fmt.Errorf("trace %s: record %d: not a Mooncake line ({\"timestamp\": ms, \"input_length\", \"output_length\", \"hash_ids\"}): %w", name, line, err)
		}
		switch {
		case row.Timestamp == nil || row.InputLength == nil || row.OutputLength == nil:
			return nil, fmt.Errorf("trace %s: record %d: want timestamp, input_length and output_length", name, line)
		case *row.Timestamp < 0 || math.IsNaN(*row.Timestamp) || *row.InputLength < 0 || *row.OutputLength < 0:
			return nil, fmt.Errorf("trace %s: record %d: negative timestamp or length", name, line)
		case *row.Timestamp > maxTraceSeconds*1e3:
			return nil, fmt.Errorf("trace %s: record %d: timestamp %v ms is beyond a year", name, line, *row.Timestamp)
		case *row.InputLength == 0 || *row.OutputLength == 0:
			continue // a failed request in the original service
		}
		t.Entries = append(t.Entries, TraceEntry{
			At:    time.Duration(*row.Timestamp * float64(time.Millisecond)),
			Input: *row.InputLength, Output: *row.OutputLength, Blocks: row.HashIDs,
		})
	}
}

func readTraceCSV(r io.Reader, name, format string) (*Trace, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := &Trace{}
	line := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", name, err)
		}
		if line == 1 {
			first := strings.TrimPrefix(rec[0], "\ufeff")
			if _, err := strconv.ParseFloat(first, 64); err != nil && format != TraceAzure || strings.EqualFold(first, "TIMESTAMP") {
				continue // header
			}
		}
		e, err := traceRow(rec, format)
		if err != nil {
			return nil, fmt.Errorf("trace %s:%d: %w", name, line, err)
		}
		if e.Input == 0 || e.Output == 0 {
			continue // a failed request in the original service
		}
		t.Entries = append(t.Entries, e)
	}
}

// azureTime is the Azure trace's timestamp layout (100 ns digits).
const azureTime = "2006-01-02 15:04:05.9999999"

func traceRow(rec []string, format string) (TraceEntry, error) {
	var e TraceEntry
	var tsCol, inCol, outCol int
	var want string
	switch format {
	case TraceAzure:
		tsCol, inCol, outCol, want = 0, 1, 2, "TIMESTAMP,ContextTokens,GeneratedTokens"
	case TraceBurstGPT:
		tsCol, inCol, outCol, want = 0, 2, 3, "Timestamp,Model,Request tokens,Response tokens,..."
	default:
		tsCol, inCol, outCol, want = 0, 1, 2, "offset_ms,input_tokens,output_tokens"
	}
	if len(rec) <= outCol {
		return e, fmt.Errorf("%d fields, want %s", len(rec), want)
	}
	ts := strings.TrimSpace(rec[tsCol])
	switch format {
	case TraceAzure:
		at, err := time.Parse(azureTime, ts)
		if err != nil {
			return e, fmt.Errorf("TIMESTAMP %q: want like 2023-11-16 18:15:46.6805900", ts)
		}
		e.At = time.Duration(at.UnixNano())
	default:
		v, err := strconv.ParseFloat(ts, 64)
		if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return e, fmt.Errorf("timestamp %q: want a non-negative number", ts)
		}
		unit := float64(time.Millisecond)
		if format == TraceBurstGPT {
			unit = float64(time.Second)
		}
		if v*unit > maxTraceSeconds*1e9 {
			return e, fmt.Errorf("timestamp %q is beyond a year", ts)
		}
		e.At = time.Duration(v * unit)
	}
	var err error
	if e.Input, err = traceInt(rec[inCol], "input tokens"); err != nil {
		return e, err
	}
	if e.Output, err = traceInt(rec[outCol], "output tokens"); err != nil {
		return e, err
	}
	return e, nil
}

func traceInt(s, what string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s %q: want a whole number >= 0", what, s)
	}
	return v, nil
}

// ParseWindow parses a --trace-window "FROM:TO" of offsets such as "600s:900s"
// (either side may be empty).
func ParseWindow(s string) (from, to time.Duration, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("trace-window %q: want FROM:TO, e.g. 600s:900s or :5m", s)
	}
	if a != "" {
		if from, err = time.ParseDuration(a); err != nil {
			return 0, 0, fmt.Errorf("trace-window %q: start: %w", s, err)
		}
	}
	if b != "" {
		if to, err = time.ParseDuration(b); err != nil {
			return 0, 0, fmt.Errorf("trace-window %q: end: %w", s, err)
		}
	}
	if from < 0 || (to != 0 && to <= from) {
		return 0, 0, fmt.Errorf("trace-window %q: want 0 <= FROM < TO", s)
	}
	return from, to, nil
}

// Slice returns the requests arriving in [from, to) (to 0 = the end), with
// arrival offsets made relative to from and divided by speed (2 replays
// twice as fast).
func (t *Trace) Slice(from, to time.Duration, speed float64) (*Trace, error) {
	if !(speed > 0) || math.IsInf(speed, 0) {
		return nil, fmt.Errorf("trace-speed %v: must be a positive factor (2 = twice as fast)", speed)
	}
	out := &Trace{BlockTokens: t.BlockTokens, Format: t.Format}
	for _, e := range t.Entries {
		if e.At < from || (to > 0 && e.At >= to) {
			continue
		}
		e.At = time.Duration(float64(e.At-from) / speed)
		out.Entries = append(out.Entries, e)
	}
	if len(out.Entries) == 0 {
		return nil, fmt.Errorf("trace window %s to %s holds no request", from, to)
	}
	return out, nil
}

// Pacer returns a pacer that sends request n at the trace's n-th arrival
// offset and stops after the last.
func (t *Trace) Pacer() *TracePacer { return &TracePacer{t: t} }

// TracePacer replays a trace's arrival times. It implements vegeta.Pacer.
type TracePacer struct{ t *Trace }

// Pace implements vegeta.Pacer.
func (p *TracePacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= uint64(len(p.t.Entries)) {
		return 0, true
	}
	return max(p.t.Entries[hits].At-elapsed, 0), false
}

// Rate implements vegeta.Pacer: the trace's mean rate.
func (p *TracePacer) Rate(time.Duration) float64 {
	n := len(p.t.Entries)
	if n < 2 || p.t.Entries[n-1].At == 0 {
		return 0
	}
	return float64(n-1) / p.t.Entries[n-1].At.Seconds()
}

// Trace spreads: how arrivals that share one timestamp slot are placed in
// it (see Trace.Spread).
const (
	SpreadNone    = "none"    // as recorded: every arrival of a slot at its start
	SpreadUniform = "uniform" // evenly over the slot, from a seeded random phase
	SpreadPoisson = "poisson" // as a Poisson process would place that many in the slot
)

// MooncakeSlot is the width of the Mooncake trace's timestamp slots: its
// arrivals are recorded to the 3 s slot they fell in.
const MooncakeSlot = 3 * time.Second

// minSpreadSlot is the narrowest slot worth spreading over; a trace whose
// timestamps share no coarser unit is recorded finely enough as it is.
const minSpreadSlot = time.Millisecond

// spreadStream seeds the random placement of each slot's arrivals.
const spreadStream = 0x7c3a9e12b4f05d61

// SlotWidth returns the width of the trace's timestamp slots: the largest
// unit every arrival offset is a multiple of (BurstGPT's 1 s, say), found
// from the offsets; for a Mooncake trace, its 3 s slots unless the offsets
// say otherwise. 0 when the offsets share no unit of at least a
// millisecond (recorded finely: nothing to spread) or every arrival has
// one timestamp in a format that does not say its slot.
func (t *Trace) SlotWidth() time.Duration {
	var g time.Duration
	for _, e := range t.Entries {
		if e.At > 0 {
			g = gcd(g, e.At)
		}
	}
	if t.Format == TraceMooncake && g%MooncakeSlot == 0 {
		// Every offset is a multiple of 3 s (or all are 0): a few slots of
		// the trace may all be multiples of 6 s, but the slot is 3 s.
		return MooncakeSlot
	}
	if g < minSpreadSlot {
		return 0
	}
	return g
}

func gcd(a, b time.Duration) time.Duration {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Spread returns a copy of the trace whose arrivals in each slot of width
// slot (those with offsets in [k·slot, (k+1)·slot)) are spread over that
// slot, in their recorded order: how is SpreadNone (unchanged),
// SpreadUniform (n arrivals at (j + φ)/n of the slot, j = 0..n-1, with one
// random phase φ per slot) or SpreadPoisson (the first n of n+1
// exponential gaps, scaled so the n+1 fill the slot: the places n arrivals
// of a Poisson process that fell in the slot take). Placement is a pure
// function of seed, the slot's index and its arrival count, so every worker
// of a sharded run computes the same schedule. Spreading a slot replays the
// rate the trace recorded for it, without the burst at its start.
func (t *Trace) Spread(how string, slot time.Duration, seed uint64) (*Trace, error) {
	switch how {
	case "", SpreadNone:
		return t, nil
	case SpreadUniform, SpreadPoisson:
	default:
		return nil, fmt.Errorf("trace-spread %q: want none, uniform or poisson", how)
	}
	if slot <= 0 {
		return nil, fmt.Errorf("trace-spread %s: the trace's slot width cannot be told from its timestamps (every arrival shares one, or they share no unit of 1 ms or more); give it with --trace-slot, e.g. 3s", how)
	}
	out := &Trace{BlockTokens: t.BlockTokens, Format: t.Format, Entries: make([]TraceEntry, len(t.Entries))}
	copy(out.Entries, t.Entries)
	es := out.Entries
	for i := 0; i < len(es); {
		k := es[i].At / slot
		j := i
		for j < len(es) && es[j].At/slot == k {
			j++
		}
		placeSlot(es[i:j], k*slot, slot, how, rand.New(rand.NewPCG(seed, spreadStream^uint64(k))))
		i = j
	}
	sort.SliceStable(es, func(a, b int) bool { return es[a].At < es[b].At })
	return out, nil
}

// placeSlot places the n arrivals of one slot starting at start.
func placeSlot(es []TraceEntry, start, slot time.Duration, how string, rng *rand.Rand) {
	n := len(es)
	w := float64(slot)
	switch how {
	case SpreadUniform:
		phase := rng.Float64()
		for j := range es {
			es[j].At = start + time.Duration((float64(j)+phase)/float64(n)*w)
		}
	case SpreadPoisson:
		gaps := make([]float64, n+1)
		var total float64
		for j := range gaps {
			gaps[j] = rng.ExpFloat64()
			total += gaps[j]
		}
		var at float64
		for j := range es {
			at += gaps[j]
			es[j].At = start + time.Duration(at/total*w)
		}
	}
}
