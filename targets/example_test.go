package targets_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/streamgauge/streamgauge/targets"
)

func ExampleSSEReader() {
	// A keep-alive comment, an event with a type and an id, a two-line
	// event with CRLF line ends, and the OpenAI terminator.
	body := strings.NewReader(": keep-alive\n\n" +
		"event: delta\nid: 1\ndata: {\"content\":\"Hel\"}\n\n" +
		"data: line one\r\ndata: line two\r\n\r\n" +
		"data: [DONE]\n\n")
	fr := targets.NewSSEReader(body, targets.DefaultMaxFrameBytes)
	var f targets.Frame
	for {
		err := fr.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("event=%q id=%q data=%q\n", f.Event, f.ID, f.Data)
	}
	// Output:
	// event="delta" id="1" data="{\"content\":\"Hel\"}"
	// event="" id="" data="line one\nline two"
	// event="" id="" data="[DONE]"
}

func ExampleNDJSONReader() {
	body := strings.NewReader("{\"response\":\"Hel\"}\n\n{\"response\":\"lo\"}\n{\"done\":true}")
	fr := targets.NewNDJSONReader(body, 0)
	var f targets.Frame
	for fr.Next(&f) == nil {
		fmt.Printf("%s\n", f.Data)
	}
	// Output:
	// {"response":"Hel"}
	// {"response":"lo"}
	// {"done":true}
}

func ExampleSSEReader_truncated() {
	// A body that stops inside a line: the complete events come first, then
	// ErrTruncated.
	fr := targets.NewSSEReader(strings.NewReader("data: a\n\ndata: {\"cont"), 0)
	var f targets.Frame
	for {
		err := fr.Next(&f)
		if err != nil {
			fmt.Println(errors.Is(err, targets.ErrTruncated))
			return
		}
		fmt.Printf("%s\n", f.Data)
	}
	// Output:
	// a
	// true
}
