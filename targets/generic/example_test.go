package generic_test

import (
	"fmt"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/generic"
)

// An in-house API that streams NDJSON, ends with "done": true and reports
// its token counts on the last line.
func Example() {
	p, err := generic.New(generic.Spec{
		Path:    "/api/generate",
		Request: `{"input": {{json .Prompt}}, "max_len": {{.MaxTokens}}, "stream": true}`,
		Framing: "ndjson",
		Text:    "delta",
		Done:    "done==true",
		Usage:   generic.UsageSpec{Prompt: "stats.in", Completion: "stats.out"},
		Error:   "error",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := p.Body(&targets.Request{Prompt: `Say "hi"`, MaxTokens: 2})
	fmt.Printf("POST %s %s\n", p.Path(nil), body)
	dec := p.NewDecoder()
	for _, line := range []string{
		`{"delta":"Hi","done":false}`,
		`{"delta":"!","done":false}`,
		`{"delta":"","done":true,"stats":{"in":3,"out":2}}`,
	} {
		var ev targets.Event
		if err := dec.Decode(&targets.Frame{Data: []byte(line)}, &ev); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("content=%q done=%v usage=%v\n", ev.Content, ev.Done, ev.Usage)
	}
	// Output:
	// POST /api/generate {"input": "Say \"hi\"", "max_len": 2, "stream": true}
	// content="Hi" done=false usage=<nil>
	// content="!" done=false usage=<nil>
	// content="" done=true usage=&{3 2 0 0 false}
}

// A spec with mistakes is refused with one line per field.
func ExampleNew_errors() {
	_, err := generic.New(generic.Spec{
		Path:    "/v1/generate",
		Request: `{"prompt": "{{.Prompt}}"}`,
		Framing: "sse",
		Text:    "choices[0].text",
		Done:    `finish_reason==stop`,
	})
	fmt.Println(err)
	// Output:
	// generic.request: renders invalid JSON for a sample request (write text with json, e.g. {{json .Prompt}}): cannot parse JSON: cannot parse object: cannot parse object value: string cannot contain control char 0x0A; unparsed tail: "hi\" \\ then left.\n\tA <b>&</b> é中\"}"
	// generic.text: "choices[0].text": index arrays with a dot, e.g. choices.0.delta, not choices[0].delta
	// generic.done: condition "finish_reason==stop": value stop is not JSON: quote strings, e.g. state=="finished"
}

// TestExampleProfile loads example.yaml as a profile file is loaded and
// checks that both the client and the simulator accept its spec.
func TestExampleProfile(t *testing.T) {
	spec := loadSpec(t, "example.yaml")
	p, err := generic.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generic.NewServer(spec); err != nil {
		t.Fatal(err)
	}
	if got := p.Path(&targets.Request{Model: "quokka-13b-chat"}); got != "/quokka/v1/models/quokka-13b-chat/chat:stream" {
		t.Errorf("path %s", got)
	}
	if _, err := p.Body(chatRequest); err != nil {
		t.Error(err)
	}
}
