package targets

import (
	"bytes"
	"encoding/json"
)

// IsJSONObject reports whether data is (at first sight) a JSON object. A
// decoder that unmarshals frames into a struct checks it first: null would
// otherwise decode into a zero struct without error.
func IsJSONObject(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && data[0] == '{'
}

// JSONPresent reports whether a raw JSON member was there and not null.
func JSONPresent(raw json.RawMessage) bool {
	return len(raw) > 0 && string(raw) != "null"
}
