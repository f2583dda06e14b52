package decide

// BreakerResultOf is breakerResult, for the tests outside the package.
var BreakerResultOf = breakerResult
