package dataset_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/dataset"
)

// FuzzRead: any bytes in any format give a set or an error, never a panic,
// and a set's entries each have a turn and an id, within the sample size.
func FuzzRead(f *testing.F) {
	for _, p := range []string{"prompts.jsonl", "sharegpt.json", "prompts.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "auto", uint8(3))
	}
	f.Add([]byte("[{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]}, 5"), "sharegpt", uint8(1))
	f.Add([]byte("{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image\"}]}]}\n"), "jsonl", uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, format string, sample uint8) {
		s, err := dataset.Read(bytes.NewReader(data), "fuzz", dataset.Options{Format: format, Sample: int(sample), Seed: 1})
		if err != nil {
			return
		}
		if len(s.Entries) == 0 || (sample > 0 && len(s.Entries) > int(sample)) {
			t.Fatalf("%d entries with sample %d", len(s.Entries), sample)
		}
		for _, e := range s.Entries {
			if e.ID == "" || len(e.Turns) == 0 {
				t.Fatalf("entry %+v", e)
			}
		}
	})
}
