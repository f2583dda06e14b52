package instrument

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

func TestOperation(t *testing.T) {
	cases := []struct {
		method, path string
		headers      []string
		op, ns, coll string
	}{
		{"POST", "/dbs/shop/colls/orders/docs", nil, "create_item", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/docs", []string{"x-ms-documentdb-is-upsert", "True"}, "upsert_item", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/docs", []string{"x-ms-documentdb-isquery", "true"}, "query_items", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/docs", []string{"Content-Type", "application/query+json; charset=utf-8"}, "query_items", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/docs", []string{"x-ms-cosmos-is-batch-request", "True"}, "execute_batch", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/docs", []string{"x-ms-cosmos-is-batch-request", "True", "x-ms-cosmos-batch-atomic", "False"}, "execute_bulk", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/docs", nil, "read_all_items", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/docs", []string{"A-IM", "Incremental feed"}, "query_change_feed", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/docs", []string{"x-ms-documentdb-partitionkey", `["p"]`}, "read_all_items_of_logical_partition", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/docs/42", nil, "read_item", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/docs/42/", nil, "read_item", "shop", "orders"},
		{"PUT", "/dbs/shop/colls/orders/docs/42", nil, "replace_item", "shop", "orders"},
		{"PATCH", "/dbs/shop/colls/orders/docs/42", nil, "patch_item", "shop", "orders"},
		{"DELETE", "/dbs/shop/colls/orders/docs/42", nil, "delete_item", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/operations/partitionkeydelete", nil, "delete_all_items_by_partition_key", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/sprocs/archive", nil, "execute_stored_procedure", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/sprocs", nil, "read_all_stored_procedures", "shop", "orders"},
		{"POST", "/dbs/shop/colls/orders/udfs", nil, "create_user_defined_function", "shop", "orders"},
		{"DELETE", "/dbs/shop/colls/orders/triggers/t", nil, "delete_trigger", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/conflicts", nil, "read_all_conflicts", "shop", "orders"},
		{"GET", "/dbs/shop/colls/orders/pkranges", nil, "read_all_partition_key_ranges", "shop", "orders"},
		{"POST", "/dbs/shop/colls", nil, "create_container", "shop", ""},
		{"GET", "/dbs/shop/colls/orders", nil, "read_container", "shop", "orders"},
		{"PUT", "/dbs/shop/colls/orders", nil, "replace_container", "shop", "orders"},
		{"DELETE", "/dbs/shop/colls/orders", nil, "delete_container", "shop", "orders"},
		{"POST", "/dbs", nil, "create_database", "", ""},
		{"POST", "/dbs", []string{"x-ms-documentdb-isquery", "True"}, "query_databases", "", ""},
		{"GET", "/dbs", nil, "read_all_databases", "", ""},
		{"GET", "/dbs/shop", nil, "read_database", "shop", ""},
		{"DELETE", "/dbs/shop", nil, "delete_database", "shop", ""},
		{"POST", "/dbs/shop/users", []string{"x-ms-documentdb-is-upsert", "true"}, "upsert_user", "shop", ""},
		{"GET", "/dbs/shop/users/u/permissions/p", nil, "read_permission", "shop", ""},
		{"GET", "/dbs/shop/clientencryptionkeys", nil, "read_all_client_encryption_keys", "shop", ""},
		{"GET", "/offers", nil, "read_all_offers", "", ""},
		{"PUT", "/offers/abc", nil, "replace_offer", "", ""},
		{"GET", "/", nil, "read_database_account", "", ""},
		{"GET", "", nil, "read_database_account", "", ""},
		// Not operations of the service: named by the method.
		{"PUT", "/dbs/shop", nil, "PUT", "shop", ""},
		{"DELETE", "/dbs/shop/colls/orders/docs", nil, "DELETE", "shop", "orders"},
		{"GET", "/unknown/thing", nil, "GET", "", ""},
		{"BREW", "/dbs/shop/colls/orders/docs/1", nil, "_OTHER", "shop", "orders"},
		{"GET", "/a/b/c/d/e/f/g/h/i", nil, "GET", "", ""},
	}
	for _, tc := range cases {
		req := mustRequest(t, tc.method, "https://acct.documents.azure.com"+tc.path)
		for i := 0; i+1 < len(tc.headers); i += 2 {
			req.Header.Set(tc.headers[i], tc.headers[i+1])
		}
		op, ns, coll := operationOf(req)
		assert.Equal(t, []string{tc.op, tc.ns, tc.coll}, []string{op, ns, coll}, "%s %s %v", tc.method, tc.path, tc.headers)
	}
}

func TestOperationDoesNotAllocate(t *testing.T) {
	req := mustRequest(t, http.MethodPost, "https://acct.documents.azure.com/dbs/shop/colls/orders/docs")
	req.Header.Set("x-ms-documentdb-is-upsert", "true")
	allocs := testing.AllocsPerRun(100, func() {
		if op, _, _ := operationOf(req); op != "upsert_item" {
			panic(op)
		}
	})
	assert.Zero(t, allocs)
}

// operationOf is operation of req read as the chain reads it.
func operationOf(req *http.Request) (op, namespace, collection string) {
	d := wire.Describe(req)
	return operation(&d, req.Header)
}
