package instrument

import (
	"net/http"
	"strings"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// partitionKeyDeletes is the operation path of a delete by partition key.
const partitionKeyDeletes = "partitionkeydelete"

// resourceOps names the operations on one resource type: on its feed
// (.../docs) and on one resource (.../docs/{id}). Empty: not an operation
// of the service.
type resourceOps struct {
	typ                             string
	create, upsert, query, readAll  string
	read, replace, patch, del, exec string
}

// opsOf names the operations of a resource type, following the well-known
// values of db.operation.name in the Cosmos DB semantic conventions; offers,
// partition key ranges and attachments, which they do not list, are named
// in the same way.
func opsOf(typ string) (resourceOps, bool) {
	switch typ {
	case "dbs":
		return resourceOps{typ, "create_database", "", "query_databases", "read_all_databases",
			"read_database", "", "", "delete_database", ""}, true
	case "colls":
		return resourceOps{typ, "create_container", "", "query_containers", "read_all_containers",
			"read_container", "replace_container", "", "delete_container", ""}, true
	case "docs":
		return resourceOps{typ, "create_item", "upsert_item", "query_items", "read_all_items",
			"read_item", "replace_item", "patch_item", "delete_item", ""}, true
	case "sprocs":
		return resourceOps{typ, "create_stored_procedure", "", "query_stored_procedures", "read_all_stored_procedures",
			"read_stored_procedure", "replace_stored_procedure", "", "delete_stored_procedure", "execute_stored_procedure"}, true
	case "triggers":
		return resourceOps{typ, "create_trigger", "", "query_triggers", "read_all_triggers",
			"read_trigger", "replace_trigger", "", "delete_trigger", ""}, true
	case "udfs":
		return resourceOps{typ, "create_user_defined_function", "", "query_user_defined_functions", "read_all_user_defined_functions",
			"read_user_defined_function", "replace_user_defined_function", "", "delete_user_defined_function", ""}, true
	case "users":
		return resourceOps{typ, "create_user", "upsert_user", "query_users", "read_all_users",
			"read_user", "replace_user", "", "delete_user", ""}, true
	case "permissions":
		return resourceOps{typ, "create_permission", "upsert_permission", "query_permissions", "read_all_permissions",
			"read_permission", "replace_permission", "", "delete_permission", ""}, true
	case "conflicts":
		return resourceOps{typ, "", "", "query_conflicts", "read_all_conflicts",
			"read_conflict", "", "", "delete_conflict", ""}, true
	case "clientencryptionkeys":
		return resourceOps{typ, "create_client_encryption_key", "", "query_client_encryption_keys", "read_all_client_encryption_keys",
			"read_client_encryption_key", "replace_client_encryption_key", "", "", ""}, true
	case "offers":
		return resourceOps{typ, "", "", "query_offers", "read_all_offers",
			"read_offer", "replace_offer", "", "", ""}, true
	case "pkranges":
		return resourceOps{typ, "", "", "", "read_all_partition_key_ranges", "", "", "", "", ""}, true
	case "attachments":
		return resourceOps{typ, "create_attachment", "upsert_attachment", "query_attachments", "read_all_attachments",
			"read_attachment", "replace_attachment", "", "delete_attachment", ""}, true
	}
	return resourceOps{}, false
}

// operation infers from req (a request read once, see wire.Describe) and
// its headers h the Cosmos DB operation name (db.operation.name), the database (db.namespace) and the
// container (db.collection.name). For example:
//
//	POST   /dbs/shop/colls/orders/docs      create_item, shop, orders
//	       (+ x-ms-documentdb-is-upsert)    upsert_item
//	       (+ x-ms-documentdb-isquery or Content-Type application/query+json)
//	                                        query_items
//	       (+ x-ms-cosmos-is-batch-request) execute_batch (execute_bulk if not atomic)
//	GET    /dbs/shop/colls/orders/docs      read_all_items (query_change_feed with A-IM)
//	GET    /dbs/shop/colls/orders/docs/42   read_item; PUT replace_item, PATCH patch_item, DELETE delete_item
//	POST   /dbs/shop/colls/orders/sprocs/p  execute_stored_procedure
//	GET    /dbs/shop                        read_database, shop, ""
//	GET    /                                read_database_account, "", ""
//
// Operations it does not recognise are named by the HTTP method ("GET",
// "POST", …, or "_OTHER"), so the name stays of low cardinality. The names
// returned are substrings of the path or constants: operation does not
// allocate.
func operation(req *wire.Request, h http.Header) (op, namespace, collection string) {
	if req.Segments > maxSegments {
		return methodName(req.Method), "", ""
	}
	return operationName(req, h), req.Database, req.Container
}

// maxSegments is the deepest path of an operation of the service.
const maxSegments = 8

func operationName(req *wire.Request, h http.Header) string {
	r := &req.Resource
	if r.Segments == 0 {
		if req.Method == http.MethodGet {
			return "read_database_account"
		}
		return methodName(req.Method)
	}
	if r.Segments == 6 && r.Type == "operations" && strings.HasSuffix(r.Link, "/"+partitionKeyDeletes) && req.Method == http.MethodPost {
		return "delete_all_items_by_partition_key"
	}
	feed, typ := r.Feed, r.Type
	ops, ok := opsOf(typ)
	if !ok {
		return methodName(req.Method)
	}
	var op string
	switch {
	case feed && req.Method == http.MethodPost:
		op = feedPost(req, h, &ops)
	case feed && req.Method == http.MethodGet:
		op = ops.readAll
		if typ == "docs" {
			if strings.EqualFold(h.Get(wire.HeaderIncremental), "Incremental feed") {
				op = "query_change_feed"
			} else if req.PartitionKey != "" {
				op = "read_all_items_of_logical_partition"
			}
		}
	case feed:
	case req.Method == http.MethodGet:
		op = ops.read
	case req.Method == http.MethodPut:
		op = ops.replace
	case req.Method == http.MethodPatch:
		op = ops.patch
	case req.Method == http.MethodDelete:
		op = ops.del
	case req.Method == http.MethodPost:
		op = ops.exec
	}
	if op == "" {
		return methodName(req.Method)
	}
	return op
}

func feedPost(req *wire.Request, h http.Header, ops *resourceOps) string {
	switch {
	case ops.typ == "docs" && req.Batch:
		if v := h.Get(wire.HeaderBatchAtomic); v != "" && !wire.IsTrue(v) {
			return "execute_bulk"
		}
		return "execute_batch"
	case req.Query:
		return ops.query
	case req.Upsert && ops.upsert != "":
		return ops.upsert
	}
	return ops.create
}

// methodName names an unrecognised operation by its (standard) HTTP method.
func methodName(m string) string {
	switch m {
	case "", http.MethodGet:
		return http.MethodGet
	case http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}
