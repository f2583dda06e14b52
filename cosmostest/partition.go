package cosmostest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Request and response headers about partitions.
const (
	headerPartitionKey = "X-Ms-Documentdb-Partitionkey"
	headerRangeID      = "X-Ms-Documentdb-Partitionkeyrangeid"
)

// Substatus codes of the service about partitions.
const (
	subPartitionKeyMismatch = 1001 // 400: the document's key is not the header's
	subRangeGone            = 1002 // 410: no such partition key range
	subOwnerGone            = 1003 // 404: the database or container is gone
)

// undefinedPK is the partition key value of an item that lacks the
// container's partition key property (the header spells it [{}]).
type undefinedPK struct{}

var undefinedKey = partitionKey{text: "[{}]", value: undefinedPK{}}

// partitionKey is a partition key value. Its text, the canonical JSON
// array (["a"], [1], [null], [{}]), names the logical partition in maps;
// the zero partitionKey, text "", is the one partition of a container that
// has no partition key: a collection that was never created.
type partitionKey struct {
	text  string
	value any // string, float64, bool, nil or undefinedPK
}

// newPartitionKey returns the partition key whose value is v, a value
// decoded from JSON with UseNumber, or false if v cannot be a partition key
// value (objects and arrays cannot).
func newPartitionKey(v any) (partitionKey, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return partitionKey{}, false
		}
		v = f
	case map[string]any:
		if len(x) != 0 {
			return partitionKey{}, false
		}
		return undefinedKey, true
	case undefinedPK:
		return undefinedKey, true
	case string, bool, nil, float64:
	default:
		return partitionKey{}, false
	}
	b, err := json.Marshal(v)
	if err != nil { // NaN or ±Inf
		return partitionKey{}, false
	}
	return partitionKey{text: "[" + string(b) + "]", value: v}, true
}

// keyOf converts a partition key value given by a caller of the Account's
// accessors (a string, number, bool or nil) to a partitionKey.
func keyOf(pk any) (partitionKey, bool) {
	b, err := json.Marshal(pk)
	if err != nil {
		return partitionKey{}, false
	}
	v, err := decodeJSON(b)
	if err != nil {
		return partitionKey{}, false
	}
	return newPartitionKey(v)
}

// parsePartitionKey parses the value of x-ms-documentdb-partitionkey, a
// JSON array of one value. It reports whether a key was given (an empty
// array counts as absent, as it is how a client asks for every partition)
// or, in msg, why the value is unusable.
func parsePartitionKey(raw string) (pk partitionKey, given bool, msg string) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return partitionKey{}, false, ""
	}
	v, err := decodeJSON([]byte(raw))
	arr, ok := v.([]any)
	switch {
	case err != nil || !ok:
		return partitionKey{}, false, "The partition key header must be a JSON array, such as [\"a\"]."
	case len(arr) == 0:
		return partitionKey{}, false, ""
	case len(arr) > 1:
		return partitionKey{}, false, "cosmostest supports partition keys of one component only."
	}
	pk, ok = newPartitionKey(arr[0])
	if !ok {
		return partitionKey{}, false, "A partition key value must be a string, a number, a boolean or null."
	}
	return pk, true, ""
}

// partitionKeyDef is a container's partition key definition: kind Hash,
// one path, version 2.
type partitionKeyDef struct {
	path  string   // "/address/zip"
	parts []string // "address", "zip"
}

// parsePartitionKeyDef checks the partitionKey property of a container
// body. On failure msg says why.
func parsePartitionKeyDef(v any) (def partitionKeyDef, msg string) {
	m, _ := v.(map[string]any)
	if m == nil {
		return def, "A container needs a partitionKey definition, such as {\"paths\":[\"/pk\"],\"kind\":\"Hash\"}."
	}
	paths, _ := m["paths"].([]any)
	var path string
	if len(paths) == 1 {
		path, _ = paths[0].(string)
	}
	if kind, _ := m["kind"].(string); (kind != "" && kind != "Hash") || !strings.HasPrefix(path, "/") || len(path) < 2 {
		return def, "cosmostest supports partition key definitions of kind Hash with one path only."
	}
	if ver, ok := m["version"]; ok && ver != nil && ver != json.Number("2") {
		return def, "cosmostest supports partition key definition version 2 only."
	}
	parts := strings.Split(path[1:], "/")
	for i, p := range parts {
		if p == "" {
			return def, "The partition key path " + strconv.Quote(path) + " is invalid."
		}
		parts[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(p)
	}
	return partitionKeyDef{path: path, parts: parts}, ""
}

// json returns the definition as the service describes it.
func (d partitionKeyDef) json() map[string]any {
	return map[string]any{"paths": []any{d.path}, "kind": "Hash", "version": json.Number("2")}
}

// of returns the partition key of document m: the value at the
// definition's path, or undefined if m has none there.
func (d partitionKeyDef) of(m map[string]any) (partitionKey, string) {
	var v any = m
	for _, p := range d.parts {
		obj, ok := v.(map[string]any)
		if !ok {
			return undefinedKey, ""
		}
		if v, ok = obj[p]; !ok {
			return undefinedKey, ""
		}
	}
	pk, ok := newPartitionKey(v)
	if !ok || pk == undefinedKey {
		return partitionKey{}, "The partition key property " + d.path + " must hold a string, a number, a boolean or null."
	}
	return pk, ""
}

var errTrailingData = errors.New("cosmostest: data after the JSON value")

// decodeJSON decodes one JSON value, keeping numbers exact.
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return v, nil
}
