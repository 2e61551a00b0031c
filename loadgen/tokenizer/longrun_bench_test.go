package tokenizer

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// benchRuns are the long runs without a break that made tiktoken-go's
// quadratic merge take seconds (64 KiB) or never end (1 MiB).
func benchRuns() []struct{ name, text string } {
	r := rand.New(rand.NewPCG(14, 4))
	raw := make([]byte, 1<<20)
	for i := range raw {
		raw[i] = byte(r.Uint32())
	}
	b64 := base64.StdEncoding.EncodeToString(raw)
	cjk := strings.Repeat("人工智能正在改变我们的生活方式", (1<<20)/45+1)
	return []struct{ name, text string }{
		{"letters-64KiB", strings.Repeat("a", 64<<10)},
		{"letters-1MiB", strings.Repeat("a", 1<<20)},
		{"base64-64KiB", b64[:64<<10]},
		{"base64-1MiB", b64[:1<<20]},
		{"cjk-64KiB", cjk[:64<<10/3*3]},
		{"cjk-1MiB", cjk[:1<<20/3*3]},
	}
}

// BenchmarkCountLongRun counts one long run per operation. Every case must
// stay well under a second; "tiktoken-go" is the quadratic merge this
// package replaced, measured on the 64 KiB letter run only (on 1 MiB it
// does not finish). cpu-ms/op is the process's CPU time per operation
// (garbage collection included), which a busy shared machine does not
// inflate as it does ns/op.
func BenchmarkCountLongRun(b *testing.B) {
	runs := benchRuns()
	for _, name := range Names() {
		tok := loadBPE(b, name)
		for _, r := range runs {
			b.Run(name+"/"+r.name, func(b *testing.B) {
				b.SetBytes(int64(len(r.text)))
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					tok.Count(r.text)
				}
				reportCPU(b, cpu)
			})
		}
	}
	ref := reference(b, CL100kBase)
	b.Run("cl100k_base/letters-64KiB/tiktoken-go", func(b *testing.B) {
		text := runs[0].text
		b.SetBytes(int64(len(text)))
		cpu := processCPU()
		for b.Loop() {
			ref.EncodeOrdinary(text)
		}
		reportCPU(b, cpu)
	})
}

// reportCPU reports the CPU time used since cpu per operation.
func reportCPU(b *testing.B, cpu time.Duration) {
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(float64(used.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
	}
}
