package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/streamgauge/streamgauge/analysis"
)

// The comparison with the simulator's truth log is analysis.CompareTruth
// (streamgauge doctor runs it too); the baseline client's stamps file is
// this benchmark's own format, read here.

// baselineRequests reads the baseline client's stamps file.
func baselineRequests(path string) ([]analysis.ClientRequest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []analysis.ClientRequest
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	for dec.More() {
		var r baseRec
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, analysis.ClientRequest{ID: r.ID, Sched: r.SchedNS, SentAt: r.SentNS, Sent: r.Sent, Done: r.Done, Stamps: r.Stamps, OK: r.Err == ""})
	}
	return out, nil
}
