// Command streamgauge load-tests streaming LLM inference endpoints: it sends
// realistic traffic, times every streamed token, and judges runs against SLOs.
//
// This package holds the command line only: flags, environment and profile
// layering, exit codes and terminal output. The work is done by the library
// packages, which a Go program can use directly.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
