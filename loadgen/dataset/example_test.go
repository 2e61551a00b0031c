package dataset_test

import (
	"fmt"
	"strings"

	"github.com/streamgauge/streamgauge/loadgen/dataset"
)

// Read a JSONL dataset: every entry is one request; a malformed line would
// be named in the error.
func ExampleRead() {
	data := `{"id": "q1", "prompt": "What is a token?", "output_tokens": 50}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Define latency."}]}
`
	set, err := dataset.Read(strings.NewReader(data), "prompts.jsonl", dataset.Options{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(set.Format, len(set.Entries), "entries")
	_, err = dataset.Read(strings.NewReader(`{"prompt": 5}`), "bad.jsonl", dataset.Options{})
	fmt.Println(err)
	// Output:
	// jsonl 2 entries
	// dataset bad.jsonl:1: "prompt" is not a string
}
