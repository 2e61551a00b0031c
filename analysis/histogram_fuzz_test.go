package analysis_test

import (
	"encoding/base64"
	"encoding/binary"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

// FuzzDecodeHistogram: DecodeHistogram never panics, whatever a summary.json
// holds. The seeds run with every `go test`.
func FuzzDecodeHistogram(f *testing.F) {
	valid, err := analysis.EncodeHistogram(randomHistograms(1, 200).Get("ttft"))
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(valid)
	b64 := base64.StdEncoding.EncodeToString
	negLen := append([]byte(nil), raw[:4]...)
	negLen = binary.BigEndian.AppendUint32(negLen, 0xffffffff)
	bigLen := append([]byte(nil), raw[:4]...)
	bigLen = binary.BigEndian.AppendUint32(bigLen, 1<<30)
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0xff
	for _, s := range []string{
		valid, "", "AAAA", b64(raw[:4]), b64(raw[:8]), b64(raw[:len(raw)/2]),
		b64(append(negLen, raw[8:]...)), b64(append(bigLen, raw[8:]...)), b64(flipped), "!!!!",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := analysis.DecodeHistogram(s)
		if err == nil && h == nil {
			t.Fatal("nil histogram without an error")
		}
		if err == nil {
			_ = analysis.StatsOf(h)
		}
	})
}
