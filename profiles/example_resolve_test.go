package profiles_test

import (
	"fmt"

	"github.com/streamgauge/streamgauge/profiles"
)

// A profile file's settings, then environment variables', resolved over
// the defaults: every value that cannot be read is reported at once, one
// line each, naming where it was given.
func ExampleResolve() {
	src := &profiles.Source{Name: "my.yaml", Data: []byte("rate: 5\nduration: 10\nrequests: 1.5\n")}
	file, err := src.Settings()
	if err != nil {
		fmt.Println(err)
		return
	}
	env := []profiles.Setting{{Key: "timeout", Text: "30", From: profiles.Origin{Env: "STREAMGAUGE_TIMEOUT"}}}
	_, err = profiles.Resolve(file, env)
	fmt.Println(err)
	// Output:
	// profile my.yaml: duration: "10" has no unit; write 10s (or ms, m, h)
	// profile my.yaml: requests: "1.5" is not a whole number
	// STREAMGAUGE_TIMEOUT: "30" has no unit; write 30s (or ms, m, h)
}
