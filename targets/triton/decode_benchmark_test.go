package triton_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// BenchmarkDecode measures the decoder alone (frames already cut), per frame,
// over the frames of a simulated 256-token stream.
func BenchmarkDecode(b *testing.B) {
	targetstest.BenchDecode(b, proto, targetstest.SimFrames(b, proto, &targets.ServerRequest{Prompt: "p", Model: "ensemble"}, 256)...)
}
