// Package account holds what the chain knows about a Cosmos DB account:
// how to sign requests for it, which regions it has, and which endpoint
// should serve the next attempt.
//
//   - auth.go: Credential, MasterKey (HMAC-SHA256 master-key signatures,
//     a key that can rotate), ResourceOf and Sign.
//   - account.go, fetch.go: the DatabaseAccount document (GET {account}/),
//     fetched with a bounded body and validated by ParseAccount.
//   - hostrule.go: InAccount, the rule that keeps signed requests inside
//     the account: a regional endpoint keeps the account's scheme and its
//     host is the account's host or a sibling of it (same parent domain),
//     or, for an IP address, the same address; port 0 is never valid.
//     Locations failing it are dropped, never routed to.
//   - router.go, refresh.go, lookup.go, locations.go: Router, which owns
//     every URL the host rule accepts, loads the account lazily, refreshes
//     it in the background and on demand (one look-up in flight at a time,
//     forced refreshes never satisfied by an older look-up), falls back to
//     the account's regional endpoints when the global one fails a
//     look-up, orders read endpoints (and the write endpoints of a
//     multi-write account) by preferred region and moves endpoints marked
//     unavailable to the end until their marks expire.
//   - status.go: Router.Status, a snapshot for operators.
//
// The retry loop consults the Router once per attempt:
//
//	if router.Owns(req.URL) && router.ensure(ctx) == nil {
//		if write {
//			ep, _ := router.WriteEndpoint()
//			// send to ep; on 403.3:
//			seen := router.epoch()
//			router.markUnavailable(ep, true)
//			_ = router.refresh(ctx, seen) // or StartRefresh, not to wait
//			// resend to router.WriteEndpoint()
//		} else {
//			eps := router.readEndpoints() // preferred, usable ones first
//			_ = eps
//		}
//	}
//
// Since the host is not part of a request's signature, a signed request
// may be resent unchanged to another endpoint of the same account.
//
// Keys rotate in place: give the chain a *MasterKey and call its Update.
// An SDK above the chain that signs its own requests needs the new key
// too, so one function should update both; see MasterKey for azcosmos,
// whose client must be built again after KeyCredential.Update. A
// MasterKey prints as "region.MasterKey(redacted)" whatever the fmt verb.
package account
