// Package apis is the table of wire APIs streamgauge speaks: it maps each
// --api name to its client Protocol and its server side for the simulator.
// It holds no state; adding an API is one line here.
package apis

import (
	"fmt"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/llamacpp"
	"github.com/streamgauge/streamgauge/targets/ollama"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/tgi"
	"github.com/streamgauge/streamgauge/targets/triton"
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
		{"openai-responses", func() targets.Protocol { return openai.Responses{} }, func() targets.ServerProtocol { return openai.Responses{} }},
		{"anthropic", func() targets.Protocol { return anthropic.Messages{} }, func() targets.ServerProtocol { return anthropic.Messages{} }},
		{"tgi", func() targets.Protocol { return tgi.GenerateStream{} }, func() targets.ServerProtocol { return tgi.GenerateStream{} }},
		{"ollama", func() targets.Protocol { return ollama.API{} }, func() targets.ServerProtocol { return ollama.API{} }},
		{"triton", func() targets.Protocol { return triton.Generate{} }, func() targets.ServerProtocol { return triton.Generate{} }},
		{"llamacpp", func() targets.Protocol { return llamacpp.Completion{} }, func() targets.ServerProtocol { return llamacpp.Completion{} }},
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
