// Package apis is the table of wire APIs streamgauge speaks: it maps each
// --api name to its client Protocol and its server side for the simulator.
// It holds no state; adding an API is one line here.
package apis

import (
	"fmt"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// entry is one API: both sides are usually the same value.
type entry struct {
	name   string
	client func() targets.Protocol
	server func() targets.ServerProtocol
}

func table() []entry {
	return []entry{
		{"openai-chat", func() targets.Protocol { return openai.Chat{} }, func() targets.ServerProtocol { return openai.Chat{} }},
		{"openai-completions", func() targets.Protocol { return openai.Completions{} }, func() targets.ServerProtocol { return openai.Completions{} }},
	}
}

// Names lists every --api value in table order.
func Names() []string {
	var out []string
	for _, e := range table() {
		out = append(out, e.name)
	}
	return out
}

// Client returns the client side of an API.
func Client(name string) (targets.Protocol, error) {
	for _, e := range table() {
		if e.name == name && e.client != nil {
			return e.client(), nil
		}
	}
	return nil, fmt.Errorf("api %q: want one of %s", name, strings.Join(Names(), ", "))
}

// Servers returns the server side of every API that has one, for the
// simulator.
func Servers() []targets.ServerProtocol {
	var out []targets.ServerProtocol
	for _, e := range table() {
		if e.server != nil {
			out = append(out, e.server())
		}
	}
	return out
}
