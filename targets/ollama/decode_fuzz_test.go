package ollama_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// FuzzDecode feeds arbitrary bytes to the decoder, as one frame and as a
// whole stream through the frame reader (see targetstest.DecodeAny). The
// seed corpus in testdata/fuzz/FuzzDecode holds the golden transcripts (go
// test -update rewrites it).
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		targetstest.DecodeAny(t, proto, data)
	})
}
