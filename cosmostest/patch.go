package cosmostest

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// maxPatchOperations is the service's limit of operations in one patch.
const maxPatchOperations = 10

// patchBody is the body of a PATCH request, and the resourceBody of a
// batch's Patch operation.
type patchBody struct {
	Condition  *string `json:"condition"`
	Operations []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	} `json:"operations"`
}

// patch applies a partial update to an item: the operations add, set,
// replace, remove and incr on JSON-pointer paths, top-level or nested,
// after the optional condition ("FROM c WHERE ...") holds for the item
// (412 otherwise). A bad operation or path, or one that changes the id or
// the partition key, gets 400 and changes nothing.
func (t *txn) patch(rk requestKey, id string, body []byte, ifMatch string) opResult {
	var p patchBody
	if err := json.Unmarshal(body, &p); err != nil || p.Operations == nil {
		return failed(http.StatusBadRequest, 0, `A patch body must be a JSON object such as {"operations": [{"op": "set", "path": "/x", "value": 1}]}.`)
	}
	if n := len(p.Operations); n == 0 || n > maxPatchOperations {
		return failed(http.StatusBadRequest, 0, "A patch holds between 1 and 10 operations.")
	}
	var when cond
	if p.Condition != nil {
		c, err := parseCondition(*p.Condition)
		if err != nil {
			return failed(http.StatusBadRequest, 0, "The patch condition: "+err.Error())
		}
		when = c
	}
	pk, bad := t.pointKey(rk)
	if bad != nil {
		return *bad
	}
	d := t.get(id, pk)
	switch {
	case d == nil:
		return notFound
	case ifMatch != "" && ifMatch != d.etag:
		return precond
	case !matches(when, d.m):
		return precond
	}
	doc := deepCopy(d.m).(map[string]any)
	for _, op := range p.Operations {
		var value any
		if op.Value != nil {
			v, err := decodeJSON(op.Value)
			if err != nil {
				return failed(http.StatusBadRequest, 0, "The value of a patch operation is not JSON.")
			}
			value = v
		}
		if msg := applyPatch(doc, op.Op, op.Path, value, op.Value != nil); msg != "" {
			return failed(http.StatusBadRequest, 0, msg)
		}
	}
	if newID, _ := doc["id"].(string); newID != id {
		return failed(http.StatusBadRequest, 0, "A patch cannot change or remove the id.")
	}
	if newPK, bad := t.writeKey(doc, requestKey{pk, t.def() != nil}); bad != nil || newPK.text != pk.text {
		return failed(http.StatusBadRequest, 0, "A patch cannot change the partition key.")
	}
	return opResult{status: http.StatusOK, doc: t.put(id, pk, doc)}
}

// applyPatch applies one operation to doc in place, or says why it cannot.
func applyPatch(doc map[string]any, op, path string, value any, hasValue bool) string {
	switch op {
	case "add", "set", "replace", "incr":
		if !hasValue {
			return "The patch operation " + op + " needs a value."
		}
	case "remove":
	default:
		return "The patch operation " + strconv.Quote(op) + " is not supported: use add, set, replace, remove or incr."
	}
	steps, ok := splitPointer(path)
	if !ok {
		return "The patch path " + strconv.Quote(path) + " is not a valid path such as /a/b/0."
	}
	var parent any = doc
	for _, s := range steps[:len(steps)-1] {
		child, ok := childOf(parent, s)
		if !ok {
			return "The patch path " + strconv.Quote(path) + " does not exist in the item."
		}
		parent = child
	}
	last := steps[len(steps)-1]
	switch p := parent.(type) {
	case map[string]any:
		old, exists := p[last]
		switch {
		case (op == "replace" || op == "remove") && !exists:
			return "The patch path " + strconv.Quote(path) + " does not exist in the item."
		case op == "remove":
			delete(p, last)
		case op == "incr":
			sum, ok := increment(old, exists, value)
			if !ok {
				return "incr needs a number, and a number (or nothing) at " + strconv.Quote(path) + "."
			}
			p[last] = sum
		default:
			p[last] = value
		}
		return ""
	case []any:
		return patchArray(doc, steps, p, op, path, value)
	}
	return "The patch path " + strconv.Quote(path) + " does not name a property or an array element."
}

// patchArray applies an operation to an element of array arr, the value
// at steps[:len(steps)-1] in doc.
func patchArray(doc map[string]any, steps []string, arr []any, op, path string, value any) string {
	last := steps[len(steps)-1]
	i, err := strconv.Atoi(last)
	if last == "-" && op == "add" {
		i, err = len(arr), nil
	}
	inside := err == nil && i >= 0 && i < len(arr)
	appends := err == nil && i == len(arr) && (op == "add" || op == "set")
	if !inside && !appends {
		return "The patch path " + strconv.Quote(path) + " is not an index of the array."
	}
	switch op {
	case "add":
		arr = append(arr[:i], append([]any{value}, arr[i:]...)...)
	case "set", "replace":
		if appends {
			arr = append(arr, value)
		} else {
			arr[i] = value
		}
	case "remove":
		arr = append(arr[:i], arr[i+1:]...)
	case "incr":
		sum, ok := increment(arr[i], true, value)
		if !ok {
			return "incr needs a number, and a number at " + strconv.Quote(path) + "."
		}
		arr[i] = sum
	}
	// The array may have moved: store it back in its parent.
	var parent any = doc
	for _, s := range steps[:len(steps)-2] {
		parent, _ = childOf(parent, s)
	}
	switch p := parent.(type) {
	case map[string]any:
		p[steps[len(steps)-2]] = arr
	case []any:
		n, _ := strconv.Atoi(steps[len(steps)-2])
		p[n] = arr
	}
	return ""
}

// splitPointer splits a JSON pointer such as /a/b~1c/0 into its steps.
func splitPointer(path string) ([]string, bool) {
	if !strings.HasPrefix(path, "/") || len(path) < 2 {
		return nil, false
	}
	steps := strings.Split(path[1:], "/")
	for i, s := range steps {
		if s == "" {
			return nil, false
		}
		steps[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	return steps, true
}

func childOf(v any, step string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		c, ok := x[step]
		return c, ok
	case []any:
		i, err := strconv.Atoi(step)
		if err != nil || i < 0 || i >= len(x) {
			return nil, false
		}
		return x[i], true
	}
	return nil, false
}

// increment adds by to old (absent: 0), in integers when both are, as the
// service does.
func increment(old any, exists bool, by any) (any, bool) {
	if !exists {
		old = json.Number("0")
	}
	a, aok := old.(json.Number)
	b, bok := by.(json.Number)
	if !aok || !bok {
		return nil, false
	}
	x, xerr := strconv.ParseInt(string(a), 10, 64)
	y, yerr := strconv.ParseInt(string(b), 10, 64)
	if xerr == nil && yerr == nil && (y <= 0 || x <= math.MaxInt64-y) && (y >= 0 || x >= math.MinInt64-y) {
		return json.Number(strconv.FormatInt(x+y, 10)), true
	}
	f, ferr := a.Float64()
	g, gerr := b.Float64()
	if ferr != nil || gerr != nil {
		return nil, false
	}
	return json.Number(strconv.FormatFloat(f+g, 'g', -1, 64)), true
}

// deepCopy copies a value decoded from JSON.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}
