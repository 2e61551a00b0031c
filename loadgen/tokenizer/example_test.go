package tokenizer_test

import (
	"fmt"

	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

func Example() {
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		panic(err)
	}
	ids := tok.Encode("hello world")
	fmt.Println(ids, tok.Count("hello world"), tok.Decode(ids))
	// Output: [15339 1917] 2 hello world
}

func ExampleGet_unknown() {
	_, err := tokenizer.Get("gpt2")
	fmt.Println(err)
	// Output: tokenizer "gpt2": unknown (want cl100k_base, o200k_base, or a path to tokenizer.json)
}
