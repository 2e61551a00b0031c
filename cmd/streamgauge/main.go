// Command streamgauge load-tests streaming LLM inference endpoints: it sends
// realistic traffic, times every streamed token, and judges runs against SLOs.
//
// This package holds the command line only: flags, environment and profile
// layering, exit codes and terminal output. The work is done by the library
// packages, which a Go program can use directly.
package main

import (
	"context"
	"io"
	"log"
	"os"
)

func main() {
	// net/http writes some connection oddities (an "Unsolicited response
	// received on idle HTTP channel" from a server that speaks first, as an
	// SSH port does) to the standard logger, on stderr with no context. The
	// client reports each failing request itself, with a message that says
	// what to fix; the library packages never log.
	log.SetOutput(io.Discard)
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
