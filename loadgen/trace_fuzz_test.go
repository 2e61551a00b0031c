package loadgen_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
)

// FuzzReadTrace: any bytes in any format give a trace or an error, never a
// panic, and a trace is sorted, starts at 0, and has positive lengths.
func FuzzReadTrace(f *testing.F) {
	for _, p := range []string{"testdata/mooncake.jsonl", "testdata/azure.csv", "testdata/offsets.csv"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "auto")
	}
	f.Add([]byte("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n5,ChatGPT,472,18,490,Conversation log\n"), "burstgpt")
	f.Add([]byte("{\"timestamp\": 1e300, \"input_length\": 3, \"output_length\": 2}\n"), "mooncake")
	f.Add([]byte("0,1,1\n-5,2,2\n"), "csv")
	f.Fuzz(func(t *testing.T, data []byte, format string) {
		tr, err := loadgen.ReadTrace(bytes.NewReader(data), "fuzz", format)
		if err != nil {
			return
		}
		var prev time.Duration
		for i, e := range tr.Entries {
			if e.At < prev || (i == 0 && e.At != 0) || e.Input <= 0 || e.Output <= 0 {
				t.Fatalf("entry %d: %+v after %s", i, e, prev)
			}
			prev = e.At
		}
		if _, err := tr.Slice(0, 0, 1); err != nil {
			t.Fatalf("whole-trace slice: %v", err)
		}
	})
}
