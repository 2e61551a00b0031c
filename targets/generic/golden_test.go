package generic_test

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/viper"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/generic"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadSpec reads the generic block of a profile file the way a profile is
// read: YAML through viper, unknown keys refused.
func loadSpec(t testing.TB, path string) generic.Spec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(b)); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	sub := v.Sub("generic")
	if sub == nil {
		t.Fatalf("%s: no generic block", path)
	}
	var spec generic.Spec
	if err := sub.UnmarshalExact(&spec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return spec
}

// mustNew compiles the spec in a profile file.
func mustNew(t testing.TB, path string) *generic.Protocol {
	t.Helper()
	p, err := generic.New(loadSpec(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// decodeStream reads a whole stream as the client reads it (see
// targetstest.DecodeStream).
func decodeStream(t testing.TB, p targets.Protocol, r io.Reader) targetstest.Stream {
	t.Helper()
	return targetstest.DecodeStream(t, p, r)
}

// specFor is the spec that decodes a stream in testdata: NAME_variant.sse
// and NAME.ndjson are decoded with the spec in NAME.yaml.
func specFor(t testing.TB, stream string) targets.Protocol {
	base := filepath.Base(stream)
	name, _, _ := strings.Cut(strings.TrimSuffix(base, filepath.Ext(base)), "_")
	return mustNew(t, filepath.Join("testdata", name+".yaml"))
}

// TestGolden decodes every transcript in testdata with its spec and compares
// the result with NAME.golden.json; -update rewrites the goldens. Reading the
// stream one byte at a time or in halves must not change what it means.
//
//   - acme (SSE, typed events, done state=="finished", usage in a stats
//     object, fault): a whole stream with reasoning, keep-alive comments,
//     "fault": null and "" (no error), an empty piece, text with escapes,
//     and the summary frame carrying the last piece; acme_fault, an error
//     object with a type; acme_truncated and acme_cut_mid_line, streams
//     that stop before the summary; acme_wrong_type, a number where the
//     text belongs.
//   - heron (NDJSON, done==true, cumulative counts on every line, error ""
//     when none): a multi-token line (2 tokens by the count), a blank line;
//     heron_error, an error string; heron_cut, a line cut short.
//   - lark (NDJSON, eof): text inside an array, an empty array, usage on
//     the last line only.
//   - wren (NDJSON, done choices.0.finish_reason!=null, usage on the last
//     line, error.message): a finish reason null, then absent (neither ends
//     the stream), an empty choices array, a null error message, and a line
//     after the end that the client never reads; wren_error, a nested
//     error message.
//   - vllm (OpenAI chat through a spec): vLLM's own transcripts, copied
//     from targets/openai/testdata.
func TestGolden(t *testing.T) {
	targetstest.StreamGolden(t, nil, targetstest.StreamGoldenOptions{
		Patterns:    []string{filepath.Join("testdata", "*.sse"), filepath.Join("testdata", "*.ndjson")},
		ProtocolFor: specFor, Update: *update})
}
