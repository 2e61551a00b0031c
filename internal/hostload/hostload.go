// Package hostload reads how busy the machine is, so that measurements of
// the client's own timing can say what else competed for the CPU.
package hostload

import (
	"os"
	"strconv"
	"strings"
)

// Average returns the 1, 5 and 15 minute load averages from /proc/loadavg
// (Linux); zeros where it cannot be read.
func Average() [3]float64 {
	var out [3]float64
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return out
	}
	f := strings.Fields(string(b))
	for i := 0; i < 3 && i < len(f); i++ {
		out[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return out
}
