package prompt_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

func Example() {
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		panic(err)
	}
	b, err := prompt.New(tok)
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 2)) // from the profile's seed
	text := b.Build(r, 256)
	fmt.Println(tok.Count(text))
	// Output: 256
}

func ExampleBuilder_BuildWithPrefix() {
	tok, err := tokenizer.Get("o200k_base")
	if err != nil {
		panic(err)
	}
	b, err := prompt.New(tok)
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	system := b.Build(r, 100) // shared by every request
	p1 := b.BuildWithPrefix(system, r, 300)
	p2 := b.BuildWithPrefix(system, r, 300)
	fmt.Println(tok.Count(p1), tok.Count(p2), strings.HasPrefix(p1, system), strings.HasPrefix(p2, system), p1 != p2)
	// Output: 300 300 true true true
}

// ExampleFitter fits a cl100k prompt to another tokenizer's count; a run
// with --tokenizer server counts with the target's /tokenize instead.
func ExampleFitter() {
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		panic(err)
	}
	b, err := prompt.New(tok)
	if err != nil {
		panic(err)
	}
	server, err := tokenizer.Get("o200k_base") // stands in for the server's tokenizer
	if err != nil {
		panic(err)
	}
	count := func(_ context.Context, text string) (int, error) { return server.Count(text) + 3, nil } // + a template
	f, err := prompt.NewFitter(b)
	if err != nil {
		panic(err)
	}
	text := b.Build(rand.New(rand.NewPCG(1, 2)), 500)
	fitted, n, err := f.Fit(context.Background(), "", text, 500, count)
	if err != nil {
		panic(err)
	}
	fmt.Println(n, server.Count(fitted)+3, strings.HasPrefix(text, strings.Fields(fitted)[0]))
	// Output: 500 500 true
}
