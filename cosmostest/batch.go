package cosmostest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Request headers of a transactional batch.
const (
	headerIsBatch     = "X-Ms-Cosmos-Is-Batch-Request"
	headerBatchAtomic = "X-Ms-Cosmos-Batch-Atomic"
)

// maxBatchOperations is the service's limit of operations in one batch.
const maxBatchOperations = 100

// batchOp is one operation of a batch request body.
type batchOp struct {
	OperationType string          `json:"operationType"`
	ID            *string         `json:"id"`
	IfMatch       string          `json:"ifMatch"`
	ResourceBody  json.RawMessage `json:"resourceBody"`
}

// batchResult is one operation's entry in a batch answer.
type batchResult struct {
	StatusCode    int             `json:"statusCode"`
	SubStatusCode int             `json:"subStatusCode,omitempty"`
	RequestCharge float64         `json:"requestCharge"`
	ETag          string          `json:"eTag,omitempty"`
	ResourceBody  json.RawMessage `json:"resourceBody,omitempty"`
	Message       string          `json:"message,omitempty"`
}

// statusFailedDependency answers the operations of a failed batch that
// did not fail themselves.
const statusFailedDependency = 424

// batch runs a transactional batch: a JSON array of operations (Create,
// Upsert, Replace, Delete, Read, Patch) in the partition the request's
// partition key header names. The operations run in order and commit
// together: 200 with every opResult, or, when one fails, 207 Multi-Status
// with that operation's status and 424 for all the others, and nothing
// committed. A malformed batch gets 400.
func (t *txn) batch(h http.Header, rk requestKey, body []byte) answer {
	if !strings.EqualFold(h.Get(headerBatchAtomic), "true") {
		return errorAnswer(http.StatusBadRequest, 0, "cosmostest runs atomic batches only (x-ms-cosmos-batch-atomic: true).")
	}
	var ops []batchOp
	if err := json.Unmarshal(body, &ops); err != nil {
		return errorAnswer(http.StatusBadRequest, 0, "A batch body must be a JSON array of operations.")
	}
	if len(ops) == 0 || len(ops) > maxBatchOperations {
		return errorAnswer(http.StatusBadRequest, 0, "A batch holds between 1 and 100 operations.")
	}
	if _, bad := t.pointKey(rk); bad != nil {
		return errorAnswer(bad.status, bad.sub, bad.msg)
	}
	for _, op := range ops {
		if msg := op.check(); msg != "" {
			return errorAnswer(http.StatusBadRequest, 0, msg)
		}
	}
	results := make([]batchResult, len(ops))
	failedAt, total := -1, 0.0
	for i, op := range ops {
		r := op.run(t, rk)
		results[i] = batchResult{StatusCode: r.status, SubStatusCode: r.sub, RequestCharge: itemCharge(op.kind() != "Read", r), Message: r.msg}
		total += results[i].RequestCharge
		if r.doc != nil {
			results[i].ETag, results[i].ResourceBody = r.doc.etag, r.doc.body
		}
		if r.status >= 400 {
			failedAt = i
			break
		}
	}
	status := http.StatusOK
	if failedAt >= 0 {
		t.staged = nil // all or nothing
		status = http.StatusMultiStatus
		for i := range results {
			if i != failedAt {
				results[i] = batchResult{StatusCode: statusFailedDependency, Message: "Another operation of the batch failed."}
			}
		}
	}
	out, _ := json.Marshal(results)
	return answer{status: status, body: out, charge: roundCharge(total)}
}

// kind is the operation type in the service's spelling, or "".
func (op batchOp) kind() string {
	for _, k := range []string{"Create", "Upsert", "Replace", "Delete", "Read", "Patch"} {
		if strings.EqualFold(op.OperationType, k) {
			return k
		}
	}
	return ""
}

// check says why op is malformed, or "".
func (op batchOp) check() string {
	switch k := op.kind(); {
	case k == "":
		return "The batch operation type " + op.OperationType + " is not one of Create, Upsert, Replace, Delete, Read, Patch."
	case (k == "Replace" || k == "Delete" || k == "Read" || k == "Patch") && op.ID == nil:
		return "The batch operation " + k + " needs an id."
	case k != "Delete" && k != "Read" && op.ResourceBody == nil:
		return "The batch operation " + k + " needs a resourceBody."
	}
	return ""
}

func (op batchOp) run(t *txn, rk requestKey) opResult {
	k := op.kind()
	switch k {
	case "Read":
		return t.read(rk, *op.ID)
	case "Delete":
		return t.delete(rk, *op.ID, op.IfMatch)
	case "Patch":
		return t.patch(rk, *op.ID, op.ResourceBody, op.IfMatch)
	}
	m, id, msg := parseDocument(op.ResourceBody)
	if msg != "" {
		return failed(http.StatusBadRequest, 0, msg)
	}
	switch k {
	case "Create":
		return t.create(rk, m, id)
	case "Upsert":
		return t.upsert(rk, m, id, op.IfMatch)
	}
	return t.replace(rk, *op.ID, m, id, op.IfMatch)
}
